//! Signature Verify (KMIP 1.4 §4.32, 2.1 §6.1.51) inside the HSM with a public key, over Data
//! or Digested Data, single-part or streamed. A signature that does not match is a
//! successful answer with Validity Indicator Invalid.

use crate::kmip::enums::{Operation, ValidityIndicator};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{SignatureVerifyRequest, SignatureVerifyResponse};
use crate::kmip::ResponsePayload;

use super::crypto::{self, hsm_failure, VERIFY};
use super::object;
use super::stream::{self, Gathered};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &SignatureVerifyRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::SignatureVerify)?;
    let step = stream::step(request.init_indicator, request.final_indicator, request.correlation_value.as_deref())?;
    let uid = stream::gathering_key(cx, (Operation::SignatureVerify, step), request.unique_identifier.as_ref())?;
    let m = crypto::usable_key(cx, &svc, &uid, &VERIFY)?;
    let (data, digested) = crypto::message(request.data.as_ref(), request.digested_data.as_deref(), step)?;
    let mut response = SignatureVerifyResponse {
        unique_identifier: UniqueIdentifier::Text(uid.clone()),
        validity_indicator: None,
        data: None,
        correlation_value: None,
    };
    let params = request.cryptographic_parameters.as_ref();
    match stream::gather(cx, svc.hsm, (Operation::SignatureVerify, step), Some(uid), params, data)? {
        Gathered::Pending(correlation) => response.correlation_value = Some(correlation),
        Gathered::Ready { data, params } => {
            let signature = request
                .signature_data
                .as_deref()
                .ok_or_else(|| OpError::MissingData("Signature Verify needs Signature Data".into()))?;
            let params = crypto::parameters(&m, params.as_ref());
            let scheme = crypto::signature(crypto::algorithm(&m, &params), &params)?;
            crypto::check_salt(scheme, &params)?;
            let key = m.uid().as_bytes();
            let valid = if digested {
                svc.hsm.verify_digest(key, scheme, &data, signature)
            } else {
                svc.hsm.verify(key, scheme, &data, signature)
            }
            .map_err(hsm_failure)?;
            response.validity_indicator =
                Some(if valid { ValidityIndicator::Valid } else { ValidityIndicator::Invalid });
        }
    }
    Ok(Outcome::reply(ResponsePayload::SignatureVerify(Box::new(response))))
}
