//! Get (KMIP 1.4 §4.11, 2.1 §6.1.21): the object's material, in the format asked for.
//!
//! Symmetric keys and secret data come out of the HSM only when they are extractable and
//! not sensitive (DESIGN.md invariant 2): otherwise Sensitive or Not Extractable. Private
//! keys never leave the HSM in the clear. Public keys and certificates come from the store.
//! With a Key Wrapping Specification the HSM wraps the key instead ([`wrapping`]). A Template
//! (1.x) answers with the attributes it applies.

use crate::kmip::attributes::Attribute;
use crate::kmip::codec::{FromTtlv, Path};
use crate::hsm::PublicKeyMaterial;
use crate::kmip::enums::{KeyFormatType, LinkType, ObjectType, Operation, SecretDataType};
use crate::kmip::objects::{
    Certificate, KeyBlock, ManagedObject, OpaqueObject, PrivateKey, PublicKey, SecretData, SymmetricKey, Template,
    UniqueIdentifier,
};
use crate::kmip::payloads::{GetRequest, GetResponse};
use crate::kmip::{KmipEnum, ResponsePayload};
use crate::store::Lifecycle;
use crate::ttlv::binary::{self, DecodeLimits};
use crate::ttlv::Tag;

use super::envelope;
use super::material;
use super::wrapping;
use super::object::{self, Managed, Services};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &GetRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Get)?;
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    wrapping::check_key_wrap_type(cx, request.key_wrap_type)?;
    if request.key_compression_type.is_some() {
        return Err(OpError::FeatureNotSupported("Key Compression Type".into()));
    }
    let m = object::load(cx, svc.store, &uid, Operation::Get)?;
    if matches!(m.record.lifecycle, Lifecycle::Destroying | Lifecycle::Destroyed) {
        return Err(OpError::ObjectDestroyed(uid));
    }
    m.require_online()?;
    let object_type = m.object_type().ok_or_else(|| OpError::Internal("object without Object Type".into()))?;
    let registered = match m.attributes.get(Tag::KEY_FORMAT_TYPE) {
        Some(Attribute::KeyFormatType(f)) => Some(*f),
        _ => None,
    };
    let format = request.key_format_type;
    if object_type == ObjectType::Template {
        return answer(cx, &svc, &m, template(cx, &m, request)?);
    }
    if let Some(spec) = &request.key_wrapping_specification {
        let block = wrapping::wrapped_block(cx, &svc, &m, spec, format)?;
        let object = match object_type {
            ObjectType::SymmetricKey => ManagedObject::SymmetricKey(SymmetricKey { key_block: block }),
            ObjectType::SecretData => {
                ManagedObject::SecretData(SecretData { secret_data_type: stored_secret_data_type(&m), key_block: block })
            }
            // wrapped_block wraps nothing else.
            _ => ManagedObject::PrivateKey(PrivateKey { key_block: block }),
        };
        return answer(cx, &svc, &m, object);
    }
    let object = match object_type {
        ObjectType::SymmetricKey => {
            let block = secret_block(&svc, &m, format.or(registered).unwrap_or(KeyFormatType::Raw))?;
            ManagedObject::SymmetricKey(SymmetricKey { key_block: block })
        }
        ObjectType::SecretData => {
            let block = secret_block(&svc, &m, format.or(registered).unwrap_or(KeyFormatType::Opaque))?;
            let kind = stored_secret_data_type(&m);
            ManagedObject::SecretData(SecretData { secret_data_type: kind, key_block: block })
        }
        // A client may mark even a public key Sensitive; it is then not returned.
        ObjectType::PublicKey if m.attributes.flag(Tag::SENSITIVE) == Some(true) => return Err(OpError::Sensitive(uid)),
        ObjectType::PublicKey => ManagedObject::PublicKey(PublicKey { key_block: public_block(&svc, &m, format)? }),
        ObjectType::PrivateKey => {
            ManagedObject::PrivateKey(PrivateKey { key_block: private_block(cx, &svc, &m, format.or(registered))? })
        }
        ObjectType::Certificate => {
            let der = stored(&m)?;
            let certificate_type = match m.attributes.get(Tag::CERTIFICATE_TYPE) {
                Some(Attribute::CertificateType(t)) => *t,
                _ => crate::kmip::enums::CertificateType::X_509,
            };
            ManagedObject::Certificate(Certificate { certificate_type, certificate_value: der.to_vec() })
        }
        ObjectType::OpaqueObject => {
            let opaque_data_type = match m.attributes.get(Tag::OPAQUE_DATA_TYPE) {
                Some(Attribute::OpaqueDataType(t)) => *t,
                _ => return Err(OpError::Internal("opaque object without Opaque Data Type".into())),
            };
            ManagedObject::OpaqueObject(OpaqueObject {
                opaque_data_type,
                opaque_data_value: envelope::open(svc.hsm, object_type, stored(&m)?)?,
            })
        }
        other => return Err(OpError::InvalidObjectType(format!("kmipd holds no {other:?} objects"))),
    };
    answer(cx, &svc, &m, object)
}

/// The Get response; the object's material has now been served, so it is no longer Fresh
/// (Locate's Group Member Fresh).
fn answer(cx: &OpContext<'_>, svc: &Services<'_>, m: &Managed, object: ManagedObject) -> Result<Outcome, OpError> {
    let uid = m.uid().to_owned();
    if m.attributes.flag(Tag::FRESH) == Some(true) {
        let ((), _undo) = object::modify(cx, svc.store, &uid, Operation::Get, |m| {
            m.attributes.set(Attribute::Fresh(false));
            Ok(())
        })?;
    }
    let object_type = m.object_type().ok_or_else(|| OpError::Internal("object without Object Type".into()))?;
    Ok(Outcome::reply(ResponsePayload::Get(Box::new(GetResponse {
        object_type,
        unique_identifier: UniqueIdentifier::Text(uid),
        object,
    }))))
}

/// A Template (KMIP 1.x): the attributes it applies (not its own), as the response's version
/// names them. It has no key material, so nothing to format or wrap (1.4 §4.11: a Key
/// Wrapping Specification SHALL NOT be given for one).
fn template(cx: &OpContext<'_>, m: &Managed, request: &GetRequest) -> Result<ManagedObject, OpError> {
    if request.key_wrapping_specification.is_some() {
        return Err(OpError::InvalidField("a Template can't be wrapped: it holds no key material".into()));
    }
    if let Some(format) = request.key_format_type {
        return Err(OpError::KeyFormatTypeNotSupported(format!("a Template has no key material to give as {format:?}")));
    }
    let content = object::template_content(m)?.for_version(cx.version());
    Ok(ManagedObject::Template(Template { attributes: super::get_attributes::indexed(content) }))
}

/// The value of a secret key or secret data, read from the HSM when policy allows.
fn secret_block(svc: &Services<'_>, m: &Managed, format: KeyFormatType) -> Result<KeyBlock, OpError> {
    let uid = m.uid();
    if m.attributes.flag(Tag::SENSITIVE) == Some(true) {
        return Err(OpError::Sensitive(uid.to_owned()));
    }
    if m.attributes.flag(Tag::EXTRACTABLE) == Some(false) {
        return Err(OpError::NotExtractable(uid.to_owned()));
    }
    let value = svc.hsm.export_secret_key(uid.as_bytes())?;
    let (algorithm, length) = object::algorithm_and_length(&m.attributes);
    material::secret_to_block(value, format, algorithm, length)
}

/// A private key's block, read from the HSM when policy allows: in `format`, else PKCS#1 for
/// RSA and PKCS#8 for EC and DSA keys. The block names the object's own Cryptographic Algorithm
/// (ECDSA, say, where the material only says EC): that is what the client registered, and the
/// generic EC is not even defined before KMIP 1.2.
fn private_block(
    cx: &OpContext<'_>,
    svc: &Services<'_>,
    m: &Managed,
    format: Option<KeyFormatType>,
) -> Result<KeyBlock, OpError> {
    let uid = m.uid();
    if m.attributes.flag(Tag::SENSITIVE) == Some(true) {
        return Err(OpError::Sensitive(uid.to_owned()));
    }
    if m.attributes.flag(Tag::EXTRACTABLE) == Some(false) {
        return Err(OpError::NotExtractable(uid.to_owned()));
    }
    let private = svc.hsm.export_private_key(uid.as_bytes())?;
    let format = format.unwrap_or(match private {
        crate::hsm::PrivateKeyMaterial::Rsa { .. } => KeyFormatType::PKCS_1,
        crate::hsm::PrivateKeyMaterial::Ec { .. } | crate::hsm::PrivateKeyMaterial::Dsa { .. } => KeyFormatType::PKCS_8,
    });
    let public_point = match &private {
        crate::hsm::PrivateKeyMaterial::Ec { curve, .. } => linked_public_point(cx, svc, m, *curve)?,
        _ => None,
    };
    let mut block = material::private_to_block(&private, public_point.as_deref(), format)?;
    if let (Some(algorithm), _) = object::algorithm_and_length(&m.attributes) {
        block.cryptographic_algorithm = Some(algorithm);
    }
    Ok(block)
}

/// The point of the EC public key `m` links to (Public Key Link), on `curve`. An HSM's private
/// key object does not hold its public point, yet RFC 5915 encodes it beside the private value
/// and clients expect it back as they registered it (TC-ECC-1-14). None when there is no such
/// link, or it leads to nothing the caller may Get, or to a key on another curve: the field is
/// optional.
fn linked_public_point(
    cx: &OpContext<'_>,
    svc: &Services<'_>,
    m: &Managed,
    curve: crate::hsm::Curve,
) -> Result<Option<Vec<u8>>, OpError> {
    let Some(uid) = m.attributes.iter().find_map(|a| match a {
        Attribute::Link(l) if l.link_type == LinkType::PublicKeyLink => match &l.linked_object_identifier {
            UniqueIdentifier::Text(uid) => Some(uid.clone()),
            _ => None,
        },
        _ => None,
    }) else {
        return Ok(None);
    };
    let linked = match object::load(cx, svc.store, &uid, Operation::Get) {
        Ok(linked) => linked,
        Err(OpError::ObjectNotFound(_) | OpError::PermissionDenied(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    // Loading noted the public key for the audit event; this Get is still of the private key.
    cx.note_object(&m.record.keys);
    let usable = linked.object_type() == Some(ObjectType::PublicKey)
        && linked.record.lifecycle == Lifecycle::Committed
        && !linked.record.archived
        && linked.attributes.flag(Tag::SENSITIVE) != Some(true);
    if !usable {
        return Ok(None);
    }
    let public = if linked.record.material.is_none() {
        svc.hsm.public_key(linked.uid().as_bytes())?
    } else {
        // A registered key kmipd does not read as a point (a DSA key, say) has none to give.
        match material::public_from_block(&stored_block(&linked)?) {
            Ok(public) => public.material,
            Err(_) => return Ok(None),
        }
    };
    Ok(match public {
        PublicKeyMaterial::Ec { curve: c, point } if c == curve => Some(point),
        _ => None,
    })
}

/// A public key's block: as registered when no other format is asked, else converted; a
/// generated one is read from the HSM (SubjectPublicKeyInfo unless asked otherwise).
fn public_block(svc: &Services<'_>, m: &Managed, format: Option<KeyFormatType>) -> Result<KeyBlock, OpError> {
    if m.record.material.is_none() {
        let public = svc.hsm.public_key(m.uid().as_bytes())?;
        return material::public_to_block(&public, format.unwrap_or(KeyFormatType::X_509));
    }
    let block = stored_block(m)?;
    match format {
        Some(f) if f != block.key_format_type => {
            let public = material::public_from_block(&block)?;
            material::public_to_block(&public.material, f)
        }
        _ => Ok(block),
    }
}

/// The Key Block a registered public key is stored as.
fn stored_block(m: &Managed) -> Result<KeyBlock, OpError> {
    let item = binary::decode(stored(m)?, &DecodeLimits::default())
        .map_err(|e| OpError::Internal(format!("stored key block unreadable: {e}")))?;
    KeyBlock::from_ttlv_item(&item, &Path::root(Tag::KEY_BLOCK))
        .map_err(|e| OpError::Internal(format!("stored key block unreadable: {e}")))
}

fn stored(m: &Managed) -> Result<&[u8], OpError> {
    m.record.material.as_deref().ok_or_else(|| OpError::Internal(format!("object {:?} has no stored material", m.uid())))
}

fn stored_secret_data_type(m: &Managed) -> SecretDataType {
    m.record
        .material
        .as_deref()
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .and_then(|b| SecretDataType::from_u32(u32::from_be_bytes(b)))
        .unwrap_or(SecretDataType::Password)
}
