//! Register (KMIP 1.4 §4.3, 2.1 §6.1.46): a client-supplied object.
//!
//! Where the material goes (DESIGN.md invariant 1):
//! - symmetric keys, secret data and private keys are imported into the HSM as token
//!   objects, sensitive and unextractable unless the attributes or the server policy say
//!   otherwise;
//! - public keys are kept in the store as the client's Key Block (any algorithm, returned
//!   as given or converted) and, for RSA and EC, also imported into the HSM so that it can
//!   verify and encrypt with them;
//! - certificates are kept in the store (DER), with the attributes derived from them
//!   ([`certificate`]);
//! - opaque objects are kept in the store envelope-encrypted under an HSM key ([`envelope`]);
//! - templates (KMIP 1.x) are kept in the store only: the attributes of the Register's
//!   Template-Attribute (and the Names inside the Template) are the template's own, the other
//!   attributes inside it are its material, what a Template-Attribute naming it applies
//!   ([`object::requested_attributes`]), as the OASIS 1.2 reference answers of TC-312 show.
//!
//! A wrapped Key Block (Key Wrapping Data, No Encoding) is unwrapped by the HSM straight
//! into the new object ([`wrapping`]); its Digest and, when nobody gave it, its length are
//! then read back from the HSM. Otherwise the Digest attribute (SHA-256 over the material as
//! registered) is computed here, while the plaintext is at hand.

use sha2::{Digest as _, Sha256};

use crate::hsm::{Curve, ObjectKind, SecretKeyAlgorithm, UnwrapTarget, WrapMechanism};
use crate::kmip::attributes::Attribute;
use crate::kmip::codec::ToTtlv;
use crate::kmip::enums::{CertificateType, CryptographicAlgorithm, HashingAlgorithm, KeyFormatType, ObjectType, Operation};
use crate::kmip::objects::{Digest, KeyBlock, KeyMaterial, KeyValue, ManagedObject, Template, UniqueIdentifier};
use crate::kmip::payloads::{IdentifierWithTemplateResponse, RegisterRequest};
use crate::kmip::{KmipEnum, ResponsePayload};
use crate::ttlv::binary;
use crate::ttlv::Tag;

use super::certificate;
use super::envelope;
use super::material;
use super::wrapping;
use super::object::{self, AttributeSet, Creation};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &RegisterRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Register)?;
    let requested = (request.template_attribute.as_ref(), request.attributes.as_ref());
    let mut attributes = object::requested_attributes(cx, svc.store, Operation::Register, requested)?;
    if let ManagedObject::Template(template) = &request.object {
        // A Name inside the Template names the template itself, as in KMIP 1.0 and the OASIS
        // SASED cases of 1.2 and 1.3 (which 1.2–1.4 §11.4 would refuse with Invalid Field).
        for name in template_attributes(template).filter(|a| matches!(a, Attribute::Name(_))) {
            attributes.push(name);
        }
    }
    object::check_client_attributes(&attributes)?;
    object::check_names_unique(svc.store, &attributes.names(), None)?;
    let object_type = request.object_type;
    if managed_type(&request.object) != Some(object_type) {
        return Err(OpError::InvalidField(format!("the object sent is not a {object_type:?}")));
    }
    let now = object::now();
    let policy = cx.backend.policy();
    if let Some(block) = key_block(&request.object) {
        // Get answers in the registered format unless asked otherwise.
        attributes.set(Attribute::KeyFormatType(block.key_format_type));
        if let Some(unwrapping) = wrapping::unwrapping(cx, &svc, block)? {
            return register_wrapped(cx, &svc, &request.object, block, attributes, unwrapping);
        }
    }
    let uid = match &request.object {
        ManagedObject::SymmetricKey(key) => {
            let block = unwrapped(&key.key_block)?;
            let value = material::secret_from_block(block)?;
            let algorithm = block_algorithm(block, &attributes)
                .ok_or_else(|| OpError::InvalidField("a symmetric key needs a Cryptographic Algorithm".into()))?;
            let length = object::secret_key_length(algorithm, value.len());
            let hsm_algorithm = object::secret_key_algorithm(algorithm, u32::try_from(length).ok())
                .ok_or_else(|| OpError::FeatureNotSupported(format!("{algorithm:?} keys in the HSM")))?;
            set_key_facts(&mut attributes, algorithm, length);
            attributes.push(digest(&value, Some(KeyFormatType::Raw)));
            let protection = object::key_protection(&mut attributes, policy);
            object::initial_state(&mut attributes, now);
            let usage = object::key_usage(attributes.usage_mask());
            let creation = creation(object_type, &attributes, Some(ObjectKind::SecretKey), None);
            object::create(cx, &svc, creation, |uid| {
                let new = object::new_hsm_object(uid, &attributes, usage, protection);
                Ok(svc.hsm.import_secret_key(hsm_algorithm, &value, &new)?)
            })?
        }
        ManagedObject::SecretData(secret) => {
            let value = material::secret_from_block(unwrapped(&secret.key_block)?)?;
            attributes.push(digest(&value, Some(secret.key_block.key_format_type)));
            let protection = object::key_protection(&mut attributes, policy);
            object::initial_state(&mut attributes, now);
            // Secret Data Type is no attribute: the store keeps it as the record's material.
            let kind = secret.secret_data_type.to_u32().to_be_bytes().to_vec();
            let creation = creation(object_type, &attributes, Some(ObjectKind::SecretKey), Some(kind));
            object::create(cx, &svc, creation, |uid| {
                let new = object::new_hsm_object(uid, &attributes, crate::hsm::KeyUsage::default(), protection);
                Ok(svc.hsm.import_secret_key(SecretKeyAlgorithm::GenericSecret, &value, &new)?)
            })?
        }
        ManagedObject::PrivateKey(key) => {
            let block = unwrapped(&key.key_block)?;
            let imported = material::private_from_block(block)?;
            set_key_facts(&mut attributes, imported.algorithm, imported.length);
            if let Some(KeyValue::Plain { key_material: KeyMaterial::Bytes(der), .. }) = &block.key_value {
                attributes.push(digest(der.expose(), Some(block.key_format_type)));
            }
            let protection = object::key_protection(&mut attributes, policy);
            object::initial_state(&mut attributes, now);
            let usage = object::key_usage(attributes.usage_mask());
            let creation = creation(object_type, &attributes, Some(ObjectKind::PrivateKey), None);
            object::create(cx, &svc, creation, |uid| {
                let new = object::new_hsm_object(uid, &attributes, usage, protection);
                Ok(svc.hsm.import_private_key(&imported.material, &new)?)
            })?
        }
        ManagedObject::PublicKey(key) => {
            let block = unwrapped(&key.key_block)?;
            // RSA and EC keys also go into the HSM; others (DSA, DH) are kept in the store only.
            let imported = material::public_from_block(block).ok();
            match &imported {
                Some(k) => set_key_facts(&mut attributes, k.algorithm, k.length),
                None => {
                    if let Some(alg) = block_algorithm(block, &attributes) {
                        attributes.set(Attribute::CryptographicAlgorithm(alg));
                    }
                    if let Some(len) = block.cryptographic_length {
                        attributes.set(Attribute::CryptographicLength(len));
                    }
                }
            }
            if let Some(KeyValue::Plain { key_material: KeyMaterial::Bytes(der), .. }) = &block.key_value {
                attributes.push(digest(der.expose(), Some(block.key_format_type)));
            }
            // A public key is not secret, whatever the server's policy for secrets; the client may still mark it
            // Sensitive, which Get then honours.
            object::key_protection(&mut attributes, super::Policy { extractable_by_default: true });
            object::initial_state(&mut attributes, now);
            let usage = object::key_usage(attributes.usage_mask());
            let stored = binary::encode(&block.to_ttlv_item(Tag::KEY_BLOCK))
                .map_err(|e| OpError::Internal(format!("key block not encodable: {e}")))?;
            let kind = imported.as_ref().map(|_| ObjectKind::PublicKey);
            let creation = creation(object_type, &attributes, kind, Some(stored));
            object::create(cx, &svc, creation, |uid| match &imported {
                Some(k) => {
                    let new = object::new_hsm_object(uid, &attributes, usage, (false, true));
                    Ok(svc.hsm.import_public_key(&k.material, &new)?)
                }
                None => Ok(()),
            })?
        }
        ManagedObject::Certificate(cert) => {
            if cert.certificate_type != CertificateType::X_509 {
                return Err(OpError::FeatureNotSupported(format!("{:?} certificates", cert.certificate_type)));
            }
            for derived in certificate::derived_attributes(&cert.certificate_value)? {
                match derived {
                    // The certified key's facts replace whatever the request said.
                    a @ (Attribute::CryptographicAlgorithm(_) | Attribute::CryptographicLength(_)) => attributes.set(a),
                    a => attributes.push(a),
                }
            }
            attributes.set(Attribute::CertificateType(cert.certificate_type));
            attributes.set(Attribute::CertificateLength(
                i32::try_from(cert.certificate_value.len()).unwrap_or(i32::MAX),
            ));
            attributes.push(digest(&cert.certificate_value, None));
            object::initial_state(&mut attributes, now);
            let creation = creation(object_type, &attributes, None, Some(cert.certificate_value.clone()));
            object::create(cx, &svc, creation, |_| Ok(()))?
        }
        ManagedObject::OpaqueObject(opaque) => {
            attributes.set(Attribute::OpaqueDataType(opaque.opaque_data_type));
            attributes.push(digest(opaque.opaque_data_value.expose(), None));
            attributes.set(Attribute::InitialDate(now));
            attributes.set(Attribute::LastChangeDate(now));
            let sealed = envelope::seal(svc.hsm, object_type, opaque.opaque_data_value.expose())?;
            let creation = creation(object_type, &attributes, None, Some(sealed));
            object::create(cx, &svc, creation, |_| Ok(()))?
        }
        ManagedObject::Template(template) => {
            // Its attributes are the Template-Attribute's; what it applies (all but the Names
            // inside it) is its material, in the store. No HSM object, no lifecycle state.
            let applied =
                AttributeSet::new(template_attributes(template).filter(|a| !matches!(a, Attribute::Name(_))));
            object::check_client_attributes(&applied)?;
            attributes.set(Attribute::InitialDate(now));
            attributes.set(Attribute::LastChangeDate(now));
            let creation = creation(object_type, &attributes, None, Some(applied.encode()?));
            object::create(cx, &svc, creation, |_| Ok(()))?
        }
        other => {
            return Err(OpError::InvalidObjectType(format!("kmipd does not register {:?} objects", managed_type(other))))
        }
    };
    let undo = object::uncreate(uid.clone());
    Ok(Outcome::reply(ResponsePayload::Register(Box::new(IdentifierWithTemplateResponse {
        unique_identifier: UniqueIdentifier::Text(uid),
        template_attribute: None,
    })))
    .with_undo(undo))
}

fn creation(
    object_type: ObjectType,
    attributes: &AttributeSet,
    hsm_kind: Option<ObjectKind>,
    material: Option<Vec<u8>>,
) -> Creation {
    Creation { object_type, attributes: attributes.clone(), hsm_kind, material }
}

fn template_attributes(template: &Template) -> impl Iterator<Item = Attribute> + '_ {
    template.attributes.iter().map(|a| a.attribute.clone())
}

fn key_block(object: &ManagedObject) -> Option<&KeyBlock> {
    match object {
        ManagedObject::SymmetricKey(k) => Some(&k.key_block),
        ManagedObject::SecretData(k) => Some(&k.key_block),
        ManagedObject::PrivateKey(k) => Some(&k.key_block),
        ManagedObject::PublicKey(k) => Some(&k.key_block),
        _ => None,
    }
}

/// The key block, once [`wrapping::unwrapping`] has sent wrapped ones elsewhere.
fn unwrapped(block: &KeyBlock) -> Result<&KeyBlock, OpError> {
    if block.key_wrapping_data.is_some() || matches!(block.key_value, Some(KeyValue::Wrapped(_))) {
        return Err(OpError::Internal("a wrapped key block reached the plaintext path".into()));
    }
    Ok(block)
}

/// Registers a wrapped key: the HSM unwraps it straight into a new object (`C_UnwrapKey`),
/// so its plaintext never exists here. Length and Digest, unknown until then, are read back
/// from the HSM.
fn register_wrapped(
    cx: &OpContext<'_>,
    svc: &object::Services<'_>,
    object: &ManagedObject,
    block: &KeyBlock,
    mut attributes: AttributeSet,
    unwrapping: wrapping::Unwrapping,
) -> Result<Outcome, OpError> {
    let object_type = managed_type(object).ok_or_else(|| OpError::Internal("no object type".into()))?;
    let (algorithm, given_length) = (block_algorithm(block, &attributes), block.cryptographic_length);
    let given_length = given_length.or_else(|| object::algorithm_and_length(&attributes).1);
    // AES Key Wrap adds one semiblock to a secret; other schemes hide the length until the
    // HSM holds the key.
    let given_length = given_length.or_else(|| match (object, unwrapping.key.mechanism) {
        (ManagedObject::SymmetricKey(_) | ManagedObject::SecretData(_), WrapMechanism::AesKeyWrap) => {
            unwrapping.wrapped.len().checked_sub(8).and_then(|n| i32::try_from(n * 8).ok())
        }
        _ => None,
    });
    let (target, kind, material) = match object {
        ManagedObject::SymmetricKey(_) | ManagedObject::SecretData(_) => {
            if !matches!(block.key_format_type, KeyFormatType::Raw | KeyFormatType::Opaque) {
                return Err(OpError::KeyFormatTypeNotSupported(format!(
                    "a key wrapped with No Encoding is Raw material, not {:?}",
                    block.key_format_type
                )));
            }
            match object {
                ManagedObject::SecretData(secret) => {
                    let kind = secret.secret_data_type.to_u32().to_be_bytes().to_vec();
                    (UnwrapTarget::Secret(SecretKeyAlgorithm::GenericSecret), ObjectKind::SecretKey, Some(kind))
                }
                _ => {
                    let algorithm = algorithm
                        .ok_or_else(|| OpError::InvalidField("a symmetric key needs a Cryptographic Algorithm".into()))?;
                    let hsm_algorithm = object::secret_key_algorithm(algorithm, given_length.and_then(|l| u32::try_from(l).ok()))
                        .ok_or_else(|| OpError::FeatureNotSupported(format!("{algorithm:?} keys in the HSM")))?;
                    attributes.set(Attribute::CryptographicAlgorithm(algorithm));
                    (UnwrapTarget::Secret(hsm_algorithm), ObjectKind::SecretKey, None)
                }
            }
        }
        ManagedObject::PrivateKey(_) => {
            if block.key_format_type != KeyFormatType::PKCS_8 {
                return Err(OpError::KeyFormatTypeNotSupported(format!(
                    "a private key wrapped with No Encoding is PKCS#8, not {:?}",
                    block.key_format_type
                )));
            }
            let target = private_target(algorithm, given_length)?;
            if let Some(a) = algorithm {
                attributes.set(Attribute::CryptographicAlgorithm(a));
            }
            (target, ObjectKind::PrivateKey, None)
        }
        other => {
            return Err(OpError::FeatureNotSupported(format!(
                "registering a wrapped {:?}: only keys the HSM can unwrap",
                managed_type(other)
            )))
        }
    };
    if let Some(length) = given_length {
        attributes.set(Attribute::CryptographicLength(length));
    }
    let protection = object::key_protection(&mut attributes, cx.backend.policy());
    object::initial_state(&mut attributes, object::now());
    let usage = object::key_usage(attributes.usage_mask());
    let creation = creation(object_type, &attributes, Some(kind), material);
    let key = &unwrapping.key;
    let uid = object::create(cx, svc, creation, |uid| {
        let new = object::new_hsm_object(uid, &attributes, usage, protection);
        Ok(svc.hsm.unwrap_key(key.uid.as_bytes(), key.mechanism, &unwrapping.wrapped, target, &new)?)
    })?;
    // What only the HSM knows now: a length nobody gave, the Digest of a secret.
    let length = match given_length {
        Some(_) => None,
        // Some modules leave CKA_VALUE_LEN at 0 on unwrap: then the length stays unknown.
        None => svc.hsm.object_info(uid.as_bytes())?.bits.filter(|b| *b > 0).and_then(|b| i32::try_from(b).ok()),
    };
    let digest = if kind == ObjectKind::SecretKey { object::hsm_digest(svc.hsm, &uid)? } else { None };
    if length.is_some() || digest.is_some() {
        let ((), _undo) = object::modify(cx, svc.store, &uid, Operation::Register, |m| {
            if let Some(l) = length {
                m.attributes.set(Attribute::CryptographicLength(l));
            }
            if let Some(d) = &digest {
                m.attributes.push(d.clone());
            }
            Ok(())
        })?;
    }
    let undo = object::uncreate(uid.clone());
    Ok(Outcome::reply(ResponsePayload::Register(Box::new(IdentifierWithTemplateResponse {
        unique_identifier: UniqueIdentifier::Text(uid),
        template_attribute: None,
    })))
    .with_undo(undo))
}

/// What a wrapped PKCS#8 private key unwraps into: RSA, DSA, or EC on the curve its algorithm
/// and length name (the HSM reads the curve from the PKCS#8 itself, but the template needs the
/// key type).
fn private_target(algorithm: Option<CryptographicAlgorithm>, length: Option<i32>) -> Result<UnwrapTarget, OpError> {
    use CryptographicAlgorithm as A;
    match (algorithm, length) {
        (Some(A::RSA), _) => Ok(UnwrapTarget::RsaPrivate),
        (Some(A::DSA), _) => Ok(UnwrapTarget::DsaPrivate),
        (Some(A::Ed25519), _) => Ok(UnwrapTarget::EcPrivate(Curve::Ed25519)),
        (Some(A::EC | A::ECDSA | A::ECDH | A::ECMQV), Some(bits)) => match bits {
            256 => Ok(UnwrapTarget::EcPrivate(Curve::P256)),
            384 => Ok(UnwrapTarget::EcPrivate(Curve::P384)),
            521 => Ok(UnwrapTarget::EcPrivate(Curve::P521)),
            other => Err(OpError::FeatureNotSupported(format!("EC private keys of {other} bits"))),
        },
        (algorithm, _) => Err(OpError::InvalidField(format!(
            "a wrapped private key needs its Cryptographic Algorithm (RSA, EC with a Cryptographic Length, Ed25519, DSA), not {algorithm:?}"
        ))),
    }
}

/// The algorithm the block names, else the attributes.
fn block_algorithm(block: &KeyBlock, attributes: &AttributeSet) -> Option<CryptographicAlgorithm> {
    block.cryptographic_algorithm.or_else(|| object::algorithm_and_length(attributes).0)
}

/// Cryptographic Algorithm and Length follow the material, whatever the request said.
fn set_key_facts(attributes: &mut AttributeSet, algorithm: CryptographicAlgorithm, length: i32) {
    if object::algorithm_and_length(attributes).0.is_none() {
        attributes.set(Attribute::CryptographicAlgorithm(algorithm));
    }
    attributes.set(Attribute::CryptographicLength(length));
}

/// A SHA-256 Digest attribute over `bytes`.
fn digest(bytes: &[u8], key_format_type: Option<KeyFormatType>) -> Attribute {
    Attribute::Digest(Digest {
        hashing_algorithm: HashingAlgorithm::SHA_256,
        digest_value: Some(Sha256::digest(bytes).to_vec()),
        key_format_type,
    })
}

/// The Object Type a managed object is.
pub(super) fn managed_type(object: &ManagedObject) -> Option<ObjectType> {
    Some(match object {
        ManagedObject::Certificate(_) => ObjectType::Certificate,
        ManagedObject::CertificateRequest(_) => ObjectType::CertificateRequest,
        ManagedObject::SymmetricKey(_) => ObjectType::SymmetricKey,
        ManagedObject::PublicKey(_) => ObjectType::PublicKey,
        ManagedObject::PrivateKey(_) => ObjectType::PrivateKey,
        ManagedObject::SplitKey(_) => ObjectType::SplitKey,
        ManagedObject::Template(_) => ObjectType::Template,
        ManagedObject::SecretData(_) => ObjectType::SecretData,
        ManagedObject::OpaqueObject(_) => ObjectType::OpaqueObject,
        ManagedObject::PgpKey(_) => ObjectType::PGPKey,
    })
}
