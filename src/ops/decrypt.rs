//! Decrypt (KMIP 1.4 §4.30, 2.1 §6.1.10) inside the HSM with an AES key or an RSA private key,
//! single-part or streamed ([`super::stream`]). An AES-GCM tag comes in Authenticated
//! Encryption Tag or, from KMIP 1.0–1.3 clients, after the ciphertext; a tag that does not
//! match is a Cryptographic Failure.

use zeroize::Zeroizing;

use crate::hsm::Direction;
use crate::kmip::codec::SecretBytes;
use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{DecryptRequest, DecryptResponse};
use crate::kmip::ResponsePayload;

use super::cipher;
use super::crypto::{self, hsm_failure, DECRYPT};
use super::object;
use super::stream::{self, CipherOutput, Step};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &DecryptRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Decrypt)?;
    let step = stream::step(request.init_indicator, request.final_indicator, request.correlation_value.as_deref())?;
    let data = request.data.as_ref().map(SecretBytes::expose).unwrap_or_default();
    if step == Step::Single && request.data.is_none() {
        return Err(OpError::MissingData("Decrypt needs Data".into()));
    }
    let tag = request.authenticated_encryption_tag.as_deref();
    let out = match step {
        Step::Single | Step::Begin => {
            let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
            let m = crypto::usable_key(cx, &svc, &uid, &DECRYPT)?;
            let params = crypto::parameters(&m, request.cryptographic_parameters.as_ref());
            let aad = request.authenticated_encryption_additional_data.as_deref();
            let iv = request.iv_counter_nonce.as_deref();
            let plan = cipher::plan(crypto::algorithm(&m, &params), &params, iv, aad, Direction::Decrypt)?;
            if let (Some(len), Some(tag)) = (plan.tag_len, tag) {
                if tag.len() != len {
                    return Err(OpError::InvalidField(format!("a {}-byte tag where Tag Length is {len}", tag.len())));
                }
            }
            if step == Step::Begin {
                stream::open_cipher(cx, svc.hsm, (uid, Operation::Decrypt), plan, Direction::Decrypt, data)?
            } else {
                let mut input = Zeroizing::new(data.to_vec());
                input.extend_from_slice(tag.filter(|_| plan.tag_len.is_some()).unwrap_or_default());
                let plain = svc.hsm.decrypt(uid.as_bytes(), &plan.cipher, &input).map_err(hsm_failure)?;
                let plain = if plan.pad_here { cipher::unpad(plain)? } else { plain };
                CipherOutput { uid, data: plain, correlation: None, tag_len: None }
            }
        }
        Step::Continue(correlation) | Step::End(correlation) => {
            let last = matches!(step, Step::End(_)).then_some(tag);
            stream::continue_cipher(cx, (Operation::Decrypt, correlation), Direction::Decrypt, data, last, |uid| {
                crypto::usable_key(cx, &svc, uid, &DECRYPT).map(drop)
            })?
        }
    };
    Ok(Outcome::reply(ResponsePayload::Decrypt(Box::new(DecryptResponse {
        unique_identifier: UniqueIdentifier::Text(out.uid),
        data: Some(SecretBytes::new(out.data.to_vec())),
        correlation_value: out.correlation,
    }))))
}
