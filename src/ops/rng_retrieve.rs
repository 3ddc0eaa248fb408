//! RNG Retrieve (KMIP 1.4 §4.35, 2.1 §6.1.46): random bytes from the HSM's generator.

use crate::kmip::codec::SecretBytes;
use crate::kmip::enums::Operation;
use crate::kmip::payloads::{DataLengthPayload, DataPayload};
use crate::kmip::ResponsePayload;

use super::object;
use super::{OpContext, OpError, Outcome};

/// The most bytes one request may ask for.
pub const MAX_RANDOM_BYTES: i32 = 1024 * 1024;

pub(super) fn run(cx: &OpContext<'_>, request: &DataLengthPayload) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::RNGRetrieve)?;
    let len = match request.data_length {
        n @ 1..=MAX_RANDOM_BYTES => n.unsigned_abs() as usize,
        n => return Err(OpError::InvalidField(format!("Data Length {n}: 1 to {MAX_RANDOM_BYTES} bytes"))),
    };
    let random = svc.hsm.random(len)?;
    Ok(Outcome::reply(ResponsePayload::RNGRetrieve(Box::new(DataPayload { data: SecretBytes::new(random.to_vec()) }))))
}
