//! RNG Seed (KMIP 1.4 §4.36, 2.1 §6.1.47): mixes the client's seed into the HSM's generator
//! (`C_SeedRandom`). The answer says how much of the seed was used: all of it, or 0 when the
//! HSM profile says the module ignores or refuses seeds (`seed-random` absent).

use crate::hsm::ErrorClass;
use crate::kmip::enums::Operation;
use crate::kmip::payloads::{DataLengthPayload, DataPayload};
use crate::kmip::ResponsePayload;

use super::object;
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &DataPayload) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::RNGSeed)?;
    let seed = request.data.expose();
    let used = match svc.hsm.seed_random(seed) {
        Ok(()) => i32::try_from(seed.len()).unwrap_or(i32::MAX),
        Err(e) if e.class() == ErrorClass::NotSupported => 0,
        Err(e) => return Err(e.into()),
    };
    Ok(Outcome::reply(ResponsePayload::RNGSeed(Box::new(DataLengthPayload { data_length: used }))))
}
