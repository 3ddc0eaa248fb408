//! MAC (KMIP 1.4 §4.33, 2.1 §6.1.27) inside the HSM: HMAC-SHA-1…512 with an HMAC key (or
//! with the HMAC algorithm the Cryptographic Parameters name), AES-CMAC with an AES key;
//! single-part or streamed.

use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{MacRequest, MacResponse};
use crate::kmip::ResponsePayload;

use super::crypto::{self, hsm_failure, MAC};
use super::object;
use super::stream::{self, Gathered};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &MacRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::MAC)?;
    let step = stream::step(request.init_indicator, request.final_indicator, request.correlation_value.as_deref())?;
    let uid = stream::gathering_key(cx, (Operation::MAC, step), request.unique_identifier.as_ref())?;
    let m = crypto::usable_key(cx, &svc, &uid, &MAC)?;
    let (data, _) = crypto::message(request.data.as_ref(), None, step)?;
    let mut response =
        MacResponse { unique_identifier: UniqueIdentifier::Text(uid.clone()), mac_data: None, correlation_value: None };
    match stream::gather(cx, svc.hsm, (Operation::MAC, step), Some(uid), request.cryptographic_parameters.as_ref(), data)? {
        Gathered::Pending(correlation) => response.correlation_value = Some(correlation),
        Gathered::Ready { data, params } => {
            let params = crypto::parameters(&m, params.as_ref());
            let scheme = crypto::mac(crypto::algorithm(&m, &params), &params)?;
            crypto::allocate(cx, &svc, &m, &MAC, data.len())?;
            response.mac_data = Some(svc.hsm.mac(m.uid().as_bytes(), scheme, &data).map_err(hsm_failure)?);
        }
    }
    Ok(Outcome::reply(ResponsePayload::MAC(Box::new(response))))
}
