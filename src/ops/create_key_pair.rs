//! Create Key Pair (KMIP 1.4 §4.2, 2.1 §6.1.6): an RSA or EC key pair generated inside the
//! HSM, as two objects linked to each other (Link Public Key / Private Key).
//!
//! Common attributes apply to both halves, private/public ones to their half only (and win
//! over common ones). The curve of an EC pair comes from Cryptographic Domain Parameters
//! (Recommended Curve) or, failing that, from the Cryptographic Length.

use crate::hsm::{Curve, KeyPairSpec, ObjectKind};
use crate::kmip::attributes::Attribute;
use crate::kmip::enums::{CryptographicAlgorithm, LinkType, ObjectType, Operation};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{CreateKeyPairRequest, CreateKeyPairResponse};
use crate::kmip::ResponsePayload;
use crate::store;
use crate::ttlv::Tag;

use super::material;
use super::object::{self, AttributeSet, Requested};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &CreateKeyPairRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::CreateKeyPair)?;
    let (mut private, mut public) = requested_halves(
        cx,
        &svc,
        Operation::CreateKeyPair,
        (request.common_template_attribute.as_ref(), request.common_attributes.as_ref()),
        (request.private_key_template_attribute.as_ref(), request.private_key_attributes.as_ref()),
        (request.public_key_template_attribute.as_ref(), request.public_key_attributes.as_ref()),
    )?;
    for half in [&private, &public] {
        object::check_client_attributes(half)?;
        object::check_names_unique(svc.store, &half.names(), None)?;
    }
    let (spec, algorithm, length) = pair_spec(&private)?;
    for half in [&mut private, &mut public] {
        half.set(Attribute::CryptographicAlgorithm(algorithm));
        half.set(Attribute::CryptographicLength(length));
        object::check_quantum_safe(half)?;
    }
    let protection = object::key_protection(&mut private, cx.backend.policy());
    let now = object::now();
    object::initial_state(&mut private, now);
    object::initial_state(&mut public, now);
    object::generated(&mut private, now);
    object::generated(&mut public, now);

    let (private_uid, public_uid, undo) = generate_pair(cx, &svc, spec, private, public, protection)?;
    Ok(Outcome::reply(ResponsePayload::CreateKeyPair(Box::new(CreateKeyPairResponse {
        private_key_unique_identifier: UniqueIdentifier::Text(private_uid),
        public_key_unique_identifier: UniqueIdentifier::Text(public_uid),
        private_key_template_attribute: None,
        public_key_template_attribute: None,
    })))
    .with_undo(undo))
}

/// Records the two halves of a new key pair (`private`, `public`: complete but for their
/// identities and the links between them) and generates the pair in the HSM; returns the
/// private and public UIDs and the undo action. Shared with Re-key Key Pair.
pub(super) fn generate_pair(
    cx: &OpContext<'_>,
    svc: &object::Services<'_>,
    spec: KeyPairSpec,
    mut private: AttributeSet,
    mut public: AttributeSet,
    protection: (bool, bool),
) -> Result<(String, String, super::UndoAction), OpError> {
    let private_uid = svc.store.allocate_uid()?;
    let public_uid = svc.store.allocate_uid()?;
    private.push(object::link(LinkType::PublicKeyLink, &public_uid));
    public.push(object::link(LinkType::PrivateKeyLink, &private_uid));
    let halves = [
        (&private_uid, &mut private, ObjectType::PrivateKey, ObjectKind::PrivateKey),
        (&public_uid, &mut public, ObjectType::PublicKey, ObjectKind::PublicKey),
    ];
    for (uid, attributes, object_type, kind) in halves {
        attributes.set(Attribute::UniqueIdentifier(UniqueIdentifier::Text(uid.clone())));
        attributes.set(Attribute::ObjectType(object_type));
        object::identity_facts(attributes, uid, true);
        let keys = attributes.index_keys();
        // The audit line names the private key's type (noted first, kept).
        if cx.audit.object_type.get().is_none() {
            cx.note_object(&keys);
        }
        svc.store.create_pending(store::NewObject {
            uid: uid.clone(),
            owner: cx.request.client_identity.clone(),
            hsm: Some(crate::hsm::hsm_ref(kind, uid.as_bytes())),
            attributes: attributes.encode()?,
            material: None,
            keys,
            grants: super::grants::grants_of(attributes)?,
        })?;
    }
    let private_new = object::new_hsm_object(&private_uid, &private, object::key_usage(private.usage_mask()), protection);
    let public_new = object::new_hsm_object(&public_uid, &public, object::key_usage(public.usage_mask()), (false, true));
    let generated = svc.hsm.generate_key_pair(spec, &private_new, &public_new);
    if let Err(e) = generated {
        for uid in [&private_uid, &public_uid] {
            if let Err(rollback) = svc.store.delete(uid) {
                tracing::error!(%uid, error = %rollback, "rolling back a failed key pair left a pending record");
            }
        }
        return Err(e.into());
    }
    svc.store.commit(&private_uid)?;
    svc.store.commit(&public_uid)?;
    let (undo_private, undo_public) = (object::uncreate(private_uid.clone()), object::uncreate(public_uid.clone()));
    let undo = super::undo_in_order(vec![undo_public, undo_private]);
    Ok((private_uid, public_uid, undo))
}

/// The attributes a key-pair request gives the private and the public half: the Common ones
/// with each half's own over them (KMIP 1.4 §4.2: a half's attributes, then its templates,
/// then the Common attributes, then the Common templates). Shared with Re-key Key Pair.
pub(super) fn requested_halves(
    cx: &OpContext<'_>,
    svc: &object::Services<'_>,
    operation: Operation,
    common: Requested<'_>,
    private: Requested<'_>,
    public: Requested<'_>,
) -> Result<(AttributeSet, AttributeSet), OpError> {
    let requested = |given: Requested<'_>| object::requested_attributes(cx, svc.store, operation, given);
    let common = requested(common)?;
    let mut private_half = common.clone();
    private_half.overlay(&requested(private)?);
    let mut public_half = common;
    public_half.overlay(&requested(public)?);
    Ok((private_half, public_half))
}

/// What to generate, with the algorithm and length the objects record.
pub(super) fn pair_spec(attributes: &AttributeSet) -> Result<(KeyPairSpec, CryptographicAlgorithm, i32), OpError> {
    let (algorithm, length) = object::algorithm_and_length(attributes);
    let algorithm =
        algorithm.ok_or_else(|| OpError::InvalidField("a key pair needs a Cryptographic Algorithm".into()))?;
    match algorithm {
        CryptographicAlgorithm::RSA => {
            let bits = length.ok_or_else(|| OpError::InvalidField("an RSA key pair needs a Cryptographic Length".into()))?;
            if !matches!(bits, 2048 | 3072 | 4096) {
                return Err(OpError::InvalidField(format!("RSA keys are 2048, 3072 or 4096 bits, not {bits}")));
            }
            Ok((KeyPairSpec::Rsa { bits: bits as u32 }, algorithm, bits))
        }
        CryptographicAlgorithm::EC | CryptographicAlgorithm::ECDSA | CryptographicAlgorithm::ECDH => {
            let named = match attributes.get(Tag::CRYPTOGRAPHIC_DOMAIN_PARAMETERS) {
                Some(Attribute::CryptographicDomainParameters(p)) => p.recommended_curve,
                _ => None,
            };
            let curve = match (named, length) {
                (Some(c), _) => material::curve_from_recommended(c)
                    .filter(|c| *c != Curve::Ed25519)
                    .ok_or_else(|| OpError::FeatureNotSupported(format!("curve {c:?}")))?,
                (None, Some(256)) => Curve::P256,
                (None, Some(384)) => Curve::P384,
                (None, Some(521)) => Curve::P521,
                (None, other) => {
                    return Err(OpError::InvalidField(format!("no curve named and no curve of length {other:?}")))
                }
            };
            Ok((KeyPairSpec::Ec(curve), algorithm, curve.bits() as i32))
        }
        CryptographicAlgorithm::Ed25519 => Ok((KeyPairSpec::Ec(Curve::Ed25519), algorithm, 256)),
        other => Err(OpError::FeatureNotSupported(format!("{other:?} key pairs"))),
    }
}
