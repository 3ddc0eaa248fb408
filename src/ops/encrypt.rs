//! Encrypt (KMIP 1.4 §4.29, 2.1 §6.1.18) inside the HSM with an AES key or an RSA public key,
//! single-part or streamed ([`super::stream`]). Mechanisms, IVs, padding and tag placement:
//! [`super::cipher`]; who may use which key: [`super::crypto`].

use zeroize::Zeroizing;

use crate::hsm::Direction;
use crate::kmip::codec::SecretBytes;
use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{EncryptRequest, EncryptResponse};
use crate::kmip::ResponsePayload;

use super::cipher;
use super::crypto::{self, hsm_failure, ENCRYPT};
use super::object;
use super::stream::{self, CipherOutput, Step};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &EncryptRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Encrypt)?;
    let step = stream::step(request.init_indicator, request.final_indicator, request.correlation_value.as_deref())?;
    let data = request.data.as_ref().map(SecretBytes::expose).unwrap_or_default();
    if step == Step::Single && request.data.is_none() {
        return Err(OpError::MissingData("Encrypt needs Data".into()));
    }
    let mut iv_counter_nonce = None;
    let out = match step {
        Step::Single | Step::Begin => {
            let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
            let m = crypto::usable_key(cx, &svc, &uid, &ENCRYPT)?;
            let params = crypto::parameters(&m, request.cryptographic_parameters.as_ref());
            let aad = request.authenticated_encryption_additional_data.as_deref();
            let iv = request.iv_counter_nonce.as_deref();
            let mut plan = cipher::plan(crypto::algorithm(&m, &params), &params, iv, aad, Direction::Encrypt)?;
            crypto::allocate(cx, &svc, &m, &ENCRYPT, data.len())?;
            if step == Step::Begin {
                iv_counter_nonce = cipher::ensure_iv(&mut plan, svc.hsm)?;
                stream::open_cipher(cx, svc.hsm, (uid, Operation::Encrypt), plan, Direction::Encrypt, data)?
            } else {
                let input = if plan.pad_here { cipher::pad(data) } else { Zeroizing::new(data.to_vec()) };
                let done = svc.hsm.encrypt(uid.as_bytes(), &plan.cipher, &input).map_err(hsm_failure)?;
                iv_counter_nonce = done.generated_iv;
                CipherOutput { uid, data: Zeroizing::new(done.ciphertext), correlation: None, tag_len: plan.tag_len }
            }
        }
        Step::Continue(correlation) | Step::End(correlation) => {
            let last = matches!(step, Step::End(_)).then_some(None);
            stream::continue_cipher(cx, (Operation::Encrypt, correlation), Direction::Encrypt, data, last, |uid| {
                // A key revoked or out of allocation mid-stream stops protecting.
                let m = crypto::usable_key(cx, &svc, uid, &ENCRYPT)?;
                crypto::allocate(cx, &svc, &m, &ENCRYPT, data.len())
            })?
        }
    };
    let (ciphertext, tag) = match out.tag_len {
        Some(len) if cipher::tag_field(cx.version()) => {
            let (c, t) = cipher::split_tag(out.data.to_vec(), len)?;
            (c, Some(t))
        }
        _ => (out.data.to_vec(), None),
    };
    Ok(Outcome::reply(ResponsePayload::Encrypt(Box::new(EncryptResponse {
        unique_identifier: UniqueIdentifier::Text(out.uid),
        data: Some(SecretBytes::new(ciphertext)),
        iv_counter_nonce,
        correlation_value: out.correlation,
        authenticated_encryption_tag: tag,
    }))))
}
