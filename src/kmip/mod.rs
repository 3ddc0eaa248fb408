//! The KMIP message model: typed requests, responses, payloads and attributes for protocol
//! versions 1.0–2.1, converted to and from the [`crate::ttlv`] tree. Knows nothing of PKCS#11.

pub mod enums;

/// A KMIP enumeration with a typed Rust form.
pub trait KmipEnum: Sized + Copy {
    /// The enumeration's specification name.
    const NAME: &'static str;
    /// The typed value for a wire value, `None` when it is neither listed nor an extension.
    fn from_u32(v: u32) -> Option<Self>;
    /// The wire value.
    fn to_u32(self) -> u32;
}
