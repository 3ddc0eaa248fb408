//! Create (KMIP 1.4 §4.1, 2.1 §6.1.5): a symmetric key (AES, HMAC) or a secret, generated
//! inside the HSM.

use crate::hsm::{ObjectKind, SecretKeyAlgorithm, SecretKeySpec};
use crate::kmip::attributes::Attribute;
use crate::kmip::enums::{ObjectType, Operation};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{CreateRequest, CreateResponse};
use crate::kmip::ResponsePayload;

use super::object::{self, Creation};
use super::{OpContext, OpError, Outcome};

/// Length of a generated secret when the client gives none, in bits.
const DEFAULT_SECRET_BITS: i32 = 256;

pub(super) fn run(cx: &OpContext<'_>, request: &CreateRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Create)?;
    let requested = (request.template_attribute.as_ref(), request.attributes.as_ref());
    let mut attributes = object::requested_attributes(cx, svc.store, Operation::Create, requested)?;
    object::check_client_attributes(&attributes)?;
    object::check_names_unique(svc.store, &attributes.names(), None)?;
    let spec = match request.object_type {
        ObjectType::SymmetricKey => symmetric_spec(&attributes)?,
        ObjectType::SecretData => {
            let bits = object::algorithm_and_length(&attributes).1.unwrap_or(DEFAULT_SECRET_BITS);
            attributes.set(Attribute::CryptographicLength(bits));
            SecretKeySpec { algorithm: SecretKeyAlgorithm::GenericSecret, bits: bits_u32(bits)? }
        }
        other => {
            return Err(OpError::InvalidObjectType(format!(
                "Create makes symmetric keys and secret data, not {other:?} (use Create Key Pair or Register)"
            )))
        }
    };
    object::check_quantum_safe(&attributes)?;
    let protection = object::key_protection(&mut attributes, cx.backend.policy());
    if request.object_type == ObjectType::SymmetricKey {
        // What a Get without Key Format Type answers with (a 2.x attribute).
        attributes.set(Attribute::KeyFormatType(crate::kmip::enums::KeyFormatType::Raw));
    }
    let now = object::now();
    object::initial_state(&mut attributes, now);
    object::generated(&mut attributes, now);
    let uid = generate(cx, &svc, request.object_type, attributes, protection, |new| svc.hsm.generate_secret_key(spec, new))?;
    let undo = object::uncreate(uid.clone());
    Ok(Outcome::reply(ResponsePayload::Create(Box::new(CreateResponse {
        object_type: request.object_type,
        unique_identifier: UniqueIdentifier::Text(uid),
        template_attribute: None,
    })))
    .with_undo(undo))
}

/// Records a new object with `attributes` (complete but for its identity) and makes its key in
/// the HSM with `make` (generation, derivation); returns the UID. Shared with Re-key and
/// Derive Key.
pub(super) fn generate(
    cx: &OpContext<'_>,
    svc: &object::Services<'_>,
    object_type: ObjectType,
    attributes: object::AttributeSet,
    protection: (bool, bool),
    make: impl FnOnce(&crate::hsm::NewObject) -> Result<(), crate::hsm::HsmError>,
) -> Result<String, OpError> {
    let usage = object::key_usage(attributes.usage_mask());
    let creation =
        Creation { object_type, attributes: attributes.clone(), hsm_kind: Some(ObjectKind::SecretKey), material: None };
    let uid = object::create(cx, svc, creation, |uid| {
        let new = object::new_hsm_object(uid, &attributes, usage, protection);
        Ok(make(&new)?)
    })?;
    // The Digest needs the key, which exists only now: recorded by a second (flushed) write.
    if let Some(digest) = object::hsm_digest(svc.hsm, &uid)? {
        let ((), _undo) = object::modify(cx, svc.store, &uid, Operation::Create, |m| {
            m.attributes.push(digest.clone());
            Ok(())
        })?;
    }
    Ok(uid)
}

/// The HSM key to generate for a Symmetric Key's Cryptographic Algorithm and Length.
pub(super) fn symmetric_spec(attributes: &object::AttributeSet) -> Result<SecretKeySpec, OpError> {
    let (algorithm, length) = object::algorithm_and_length(attributes);
    let algorithm = algorithm
        .ok_or_else(|| OpError::InvalidField("a symmetric key needs a Cryptographic Algorithm".into()))?;
    let bits = length.ok_or_else(|| OpError::InvalidField("a symmetric key needs a Cryptographic Length".into()))?;
    let bits = bits_u32(bits)?;
    let algorithm = object::secret_key_algorithm(algorithm, Some(bits))
        .ok_or_else(|| OpError::FeatureNotSupported(format!("generating {algorithm:?} keys")))?;
    if algorithm == SecretKeyAlgorithm::Aes && !matches!(bits, 128 | 192 | 256) {
        return Err(OpError::InvalidField(format!("AES keys are 128, 192 or 256 bits, not {bits}")));
    }
    if algorithm == SecretKeyAlgorithm::Des3 && bits != 168 {
        return Err(OpError::InvalidField(format!("Triple DES keys are 168 or 112 bits, not {bits}")));
    }
    if algorithm == SecretKeyAlgorithm::GenericSecret && (bits % 8 != 0 || !(8..=4096).contains(&bits)) {
        return Err(OpError::InvalidField(format!("HMAC keys are 8..=4096 bits in whole bytes, not {bits}")));
    }
    Ok(SecretKeySpec { algorithm, bits })
}

fn bits_u32(bits: i32) -> Result<u32, OpError> {
    u32::try_from(bits).map_err(|_| OpError::InvalidField(format!("Cryptographic Length {bits} is negative")))
}
