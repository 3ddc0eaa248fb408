//! JSON rendering of TTLV (KMIP Additional Message Encodings v1.0 §5). (Being written.)

use thiserror::Error;

use super::Ttlv;

/// Why a JSON document can't be read as TTLV.
#[derive(Debug, Error)]
pub enum JsonError {
    /// Not yet implemented.
    #[error("JSON is not supported yet")]
    Unsupported,
}

/// Renders an item tree as pretty JSON.
pub fn to_json_string(_item: &Ttlv) -> String {
    String::new()
}

/// Reads an item tree from JSON text.
pub fn from_json_str(_text: &str) -> Result<Ttlv, JsonError> {
    Err(JsonError::Unsupported)
}
