//! Derive Key (KMIP 1.4 §4.6, 2.1 §6.1.14): a new symmetric key or secret data derived inside
//! the HSM from one base key, linked both ways (Derivation Base Object / Derived Key).
//!
//! Methods: Encrypt with AES-CBC (`CKM_AES_CBC_ENCRYPT_DATA`: the new value is the AES-CBC
//! encryption of the Derivation Data under the base key, cut to the requested length). Refused
//! with Feature Not Supported: Encrypt with ECB (`CKM_AES_ECB_ENCRYPT_DATA` exists in SoftHSM
//! but cryptoki 0.12 cannot name it) or other modes, and the methods SoftHSM 2.6.1 has no
//! mechanism for (PBKDF2, Hash, HMAC, NIST 800-108, HKDF, AWS v4; Asymmetric Key would need
//! ECDH, not wired yet).

use crate::hsm::{Derivation, SecretKeyAlgorithm, SecretKeySpec};
use crate::kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, DerivationMethod, LinkType, ObjectType, Operation, PaddingMethod,
};
use crate::kmip::objects::{DerivationParameters, UniqueIdentifier};
use crate::kmip::payloads::{DeriveKeyRequest, IdentifierWithTemplateResponse};
use crate::kmip::ResponsePayload;

use super::crypto::{self, Purpose, Use};
use super::object;
use super::{OpContext, OpError, Outcome};

/// Derivation needs the Derive Key bit and an Active base (deriving protects new material).
const DERIVE: Use = Use {
    operation: Operation::DeriveKey,
    bit: "DeriveKey",
    purpose: Purpose::Protect,
    types: &[ObjectType::SymmetricKey, ObjectType::SecretData],
};

pub(super) fn run(cx: &OpContext<'_>, request: &DeriveKeyRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::DeriveKey)?;
    let derivation = derivation(request.derivation_method, &request.derivation_parameters)?;
    let [base] = request.unique_identifiers.as_slice() else {
        return Err(OpError::InvalidField("kmipd derives from exactly one object".into()));
    };
    let base_uid = cx.batch.resolve(Some(base))?;
    let base = crypto::usable_key(cx, &svc, &base_uid, &DERIVE)?;
    if object::algorithm_and_length(&base.attributes).0 != Some(CryptographicAlgorithm::AES) {
        return Err(OpError::NotUsableFor(
            crate::kmip::enums::ResultReason::InvalidObjectType,
            "Encrypt derivation needs an AES base key".into(),
        ));
    }
    let requested = (request.template_attribute.as_ref(), request.attributes.as_ref());
    let mut attributes = object::requested_attributes(cx, svc.store, Operation::DeriveKey, requested)?;
    object::check_client_attributes(&attributes)?;
    object::check_names_unique(svc.store, &attributes.names(), None)?;
    let spec = match request.object_type {
        ObjectType::SymmetricKey => super::create::symmetric_spec(&attributes)?,
        ObjectType::SecretData => {
            let bits = object::algorithm_and_length(&attributes)
                .1
                .and_then(|b| u32::try_from(b).ok())
                .filter(|b| *b > 0 && b % 8 == 0)
                .ok_or_else(|| OpError::InvalidField("derived secret data needs a Cryptographic Length in whole bytes".into()))?;
            SecretKeySpec { algorithm: SecretKeyAlgorithm::GenericSecret, bits }
        }
        other => return Err(OpError::InvalidObjectType(format!("Derive Key makes symmetric keys and secret data, not {other:?}"))),
    };
    attributes.push(object::link(LinkType::DerivationBaseObjectLink, &base_uid));
    let protection = object::key_protection(&mut attributes, cx.backend.policy());
    let now = object::now();
    object::initial_state(&mut attributes, now);
    object::generated(&mut attributes, now);
    let uid = super::create::generate(cx, &svc, request.object_type, attributes, protection, |new| {
        svc.hsm.derive_key(base_uid.as_bytes(), &derivation, spec, new)
    })?;
    let undo_new = object::uncreate(uid.clone());
    let ((), undo_base) = object::modify(cx, svc.store, &base_uid, Operation::DeriveKey, |m| {
        m.attributes.push(object::link(LinkType::DerivedKeyLink, &uid));
        Ok(())
    })?;
    let undo = super::undo_in_order(vec![undo_base, undo_new]);
    Ok(Outcome::reply(ResponsePayload::DeriveKey(Box::new(IdentifierWithTemplateResponse {
        unique_identifier: UniqueIdentifier::Text(uid),
        template_attribute: None,
    })))
    .with_undo(undo))
}

/// The HSM derivation for a method and its parameters.
fn derivation(method: DerivationMethod, params: &DerivationParameters) -> Result<Derivation, OpError> {
    if method != DerivationMethod::ENCRYPT {
        return Err(OpError::FeatureNotSupported(format!("{method:?} key derivation: the HSM has no mechanism for it")));
    }
    let cp = params.cryptographic_parameters.as_ref();
    match cp.and_then(|p| p.block_cipher_mode) {
        Some(BlockCipherMode::CBC) => {}
        None => return Err(OpError::InvalidField("Encrypt derivation needs a Block Cipher Mode".into())),
        Some(other) => {
            return Err(OpError::FeatureNotSupported(format!("Encrypt derivation in {other:?} mode (AES-CBC only)")))
        }
    }
    if let Some(padding) = cp.and_then(|p| p.padding_method).filter(|p| *p != PaddingMethod::None) {
        return Err(OpError::FeatureNotSupported(format!("Encrypt derivation with {padding:?} padding")));
    }
    if let Some(algorithm) = cp.and_then(|p| p.cryptographic_algorithm).filter(|a| *a != CryptographicAlgorithm::AES) {
        return Err(OpError::FeatureNotSupported(format!("Encrypt derivation with {algorithm:?}")));
    }
    let iv = params
        .initialization_vector
        .as_deref()
        .and_then(|iv| <[u8; 16]>::try_from(iv).ok())
        .ok_or_else(|| OpError::InvalidField("AES-CBC derivation needs a 16-byte Initialization Vector".into()))?;
    let data = params
        .derivation_data
        .as_ref()
        .map(|d| zeroize::Zeroizing::new(d.expose().to_vec()))
        .ok_or_else(|| OpError::InvalidField("Encrypt derivation needs Derivation Data".into()))?;
    Ok(Derivation::AesCbcEncrypt { iv, data })
}
