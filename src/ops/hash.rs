//! Hash (KMIP 1.4 §4.37, 2.1 §6.1.22): computed in the HSM (`C_Digest`); when the HSM profile
//! lacks the hash, SHA-224…512 are computed by the server (nothing secret is involved beyond
//! the client's own data). Single-part or streamed.

use sha2::Digest as _;

use crate::hsm::{ErrorClass, HashAlg};
use crate::kmip::enums::Operation;
use crate::kmip::payloads::{HashRequest, HashResponse};
use crate::kmip::ResponsePayload;

use super::crypto;
use super::object;
use super::stream::{self, Gathered};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &HashRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Hash)?;
    let step = stream::step(request.init_indicator, request.final_indicator, request.correlation_value.as_deref())?;
    let (data, _) = crypto::message(request.data.as_ref(), None, step)?;
    let params = Some(&request.cryptographic_parameters);
    let mut response = HashResponse { data: None, correlation_value: None };
    match stream::gather(cx, svc.hsm, (Operation::Hash, step), None, params, data)? {
        Gathered::Pending(correlation) => response.correlation_value = Some(correlation),
        Gathered::Ready { data, params } => {
            let algorithm = params
                .and_then(|p| p.hashing_algorithm)
                .ok_or_else(|| OpError::MissingData("Hash needs a Hashing Algorithm".into()))?;
            let hash = crypto::hash(algorithm)?;
            response.data = Some(match svc.hsm.digest(hash, &data) {
                Err(e) if e.class() == ErrorClass::NotSupported => in_software(hash, &data).ok_or(OpError::Hsm(e))?,
                other => other?,
            });
        }
    }
    Ok(Outcome::reply(ResponsePayload::Hash(Box::new(response))))
}

fn in_software(hash: HashAlg, data: &[u8]) -> Option<Vec<u8>> {
    Some(match hash {
        HashAlg::Sha1 => return None,
        HashAlg::Sha224 => sha2::Sha224::digest(data).to_vec(),
        HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
        HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
    })
}
