//! Signature Verify (KMIP 1.4 §4.32, 2.1 §6.1.51) inside the HSM with a public key, over Data
//! or Digested Data, single-part or streamed. A signature that does not match is a
//! successful answer with Validity Indicator Invalid.

use crate::hsm::{HashAlg, SignatureAlgorithm};
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
            let key = m.uid().as_bytes();
            let verify = |scheme| {
                if digested {
                    svc.hsm.verify_digest(key, scheme, &data, signature)
                } else {
                    svc.hsm.verify(key, scheme, &data, signature)
                }
                .map_err(hsm_failure)
            };
            let mut valid = verify(scheme)?;
            // A PSS signature whose salt length the client does not give: besides the hash length
            // (kmipd's own default), accept the longest salt the modulus allows, which OpenSSL and
            // the OASIS reference server sign with (CS-AC-M-2).
            if let (false, SignatureAlgorithm::RsaPss(hash, None)) = (valid, scheme) {
                if let Some(longest) = longest_pss_salt(&m, hash) {
                    valid = verify(SignatureAlgorithm::RsaPss(hash, Some(longest)))?;
                }
            }
            response.validity_indicator =
                Some(if valid { ValidityIndicator::Valid } else { ValidityIndicator::Invalid });
        }
    }
    Ok(Outcome::reply(ResponsePayload::SignatureVerify(Box::new(response))))
}

/// The longest PSS salt for the key's modulus (RFC 8017 §9.1.1: emLen - hLen - 2, emLen being
/// the modulus length less one bit, in whole bytes); `None` when the length is unknown or leaves
/// no room.
fn longest_pss_salt(m: &object::Managed, hash: HashAlg) -> Option<u32> {
    let bits = u32::try_from(object::algorithm_and_length(&m.attributes).1?).ok()?;
    let em_len = bits.checked_sub(1)?.div_ceil(8);
    let hash_len = u32::try_from(hash.output_len()).ok()?;
    em_len.checked_sub(hash_len)?.checked_sub(2).filter(|salt| *salt > 0)
}
