//! Sign (KMIP 1.4 §4.31, 2.1 §6.1.50) inside the HSM with a private key: RSA PKCS#1 v1.5 and
//! PSS, ECDSA, Ed25519, over Data (hashed as the scheme says) or Digested Data (signed as
//! given), single-part or streamed ([`super::stream`]).

use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{SignRequest, SignResponse};
use crate::kmip::ResponsePayload;

use super::crypto::{self, hsm_failure, SIGN};
use super::object;
use super::stream::{self, Gathered};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &SignRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Sign)?;
    let step = stream::step(request.init_indicator, request.final_indicator, request.correlation_value.as_deref())?;
    let uid = stream::gathering_key(cx, (Operation::Sign, step), request.unique_identifier.as_ref())?;
    let m = crypto::usable_key(cx, &svc, &uid, &SIGN)?;
    let (data, digested) = crypto::message(request.data.as_ref(), request.digested_data.as_deref(), step)?;
    let mut response = SignResponse {
        unique_identifier: UniqueIdentifier::Text(uid.clone()),
        signature_data: None,
        correlation_value: None,
    };
    match stream::gather(cx, svc.hsm, (Operation::Sign, step), Some(uid), request.cryptographic_parameters.as_ref(), data)? {
        Gathered::Pending(correlation) => response.correlation_value = Some(correlation),
        Gathered::Ready { data, params } => {
            let params = crypto::parameters(&m, params.as_ref());
            let scheme = crypto::signature(crypto::algorithm(&m, &params), &params)?;
            crypto::allocate(cx, &svc, &m, &SIGN, data.len())?;
            let key = m.uid().as_bytes();
            let signature = if digested { svc.hsm.sign_digest(key, scheme, &data) } else { svc.hsm.sign(key, scheme, &data) };
            response.signature_data = Some(signature.map_err(hsm_failure)?);
        }
    }
    Ok(Outcome::reply(ResponsePayload::Sign(Box::new(response))))
}
