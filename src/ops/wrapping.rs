//! Key wrapping inside the HSM (DESIGN.md invariant 2): Get with a Key Wrapping Specification
//! wraps with `C_WrapKey`, Register of a Key Block carrying Key Wrapping Data unwraps with
//! `C_UnwrapKey`. The key material is never in the clear outside the HSM, which is why a
//! sensitive key may be wrapped although a plain Get refuses it; a key that is not
//! extractable can't be wrapped either (Not Extractable).
//!
//! What is supported, and why the rest is refused:
//! - Wrapping Method Encrypt, with Encryption Key Information. MAC/sign methods and TR-31
//!   answer Feature Not Supported.
//! - Encoding Option No Encoding only: the HSM wraps the raw key value (`CKA_VALUE`, or PKCS#8
//!   for a private key). TTLV Encoding — which KMIP means when the option is absent (1.4
//!   §2.1.5–2.1.6) — wraps the TTLV-encoded Key Value, header and all, and `C_WrapKey` has no
//!   way to put bytes in front of a key. The TTLV would have to be built outside the HSM from
//!   the plaintext, or inside it as a key derived by `CKM_CONCATENATE_DATA_AND_BASE` (which
//!   SoftHSM 2.6.1 lacks, and which needs `CKA_DERIVE` on the wrapped key: a right its usage
//!   mask seldom grants and that the derivation attacks on PKCS#11 feed on). So it is Encoding
//!   Option Error ("cannot be provided in the desired Encoding Option", 1.4 §11.12), as for
//!   Attribute Names (attributes wrapped with the key).
//! - Wrapping keys: AES keys with Block Cipher Mode NIST Key Wrap (RFC 3394) or AES Key Wrap
//!   Padding (RFC 5649); RSA public keys (wrap) and private keys (unwrap) with Padding Method
//!   OAEP (MGF1 over the same hash; SoftHSM offers SHA-1 only) or PKCS#1 v1.5.
//! - Cryptographic Parameters: those of the Key Information, which must be one of the
//!   wrapping key's Cryptographic Parameters attributes when it has any (KMIP 1.4 §2.1.6);
//!   else the key's first; else, where KMIP would fail, the obvious default (NIST Key Wrap for
//!   AES, OAEP with SHA-1 for RSA).
//! - The wrapping key must be the caller's to use, Active when wrapping (protecting) and
//!   Active or Deactivated when unwrapping (processing), with Wrap Key / Unwrap Key in its
//!   Cryptographic Usage Mask when it has one.
//!
//! KMIP 1.4 §11.12 and 2.1 Table 222 answer the same failures with different reasons; each
//! failure here carries both and the request's version picks.

use crate::hsm::{HashAlg, WrapMechanism};
use crate::kmip::attributes::Attribute;
use crate::kmip::codec::SecretBytes;
use crate::kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, EncodingOption, HashingAlgorithm, KeyFormatType, KeyWrapType,
    ObjectType, Operation, PaddingMethod, ResultReason, State, WrappingMethod,
};
use crate::kmip::objects::{
    CryptographicParameters, KeyBlock, KeyInformation, KeyMaterial, KeyValue, KeyWrappingData,
    KeyWrappingSpecification, UniqueIdentifier,
};
use crate::store::Lifecycle;
use crate::ttlv::Tag;

use super::object::{self, AttrId, Managed, Services};
use super::{OpContext, OpError};

use ResultReason as R;

/// Which way a wrapping key is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// Get: encrypt a key under it.
    Wrap,
    /// Register: decrypt a key with it.
    Unwrap,
}

/// A wrapping key found, checked and ready for the HSM.
#[derive(Debug)]
pub(super) struct WrappingKey {
    /// Its Unique Identifier (the HSM id of the key).
    pub uid: String,
    /// How the HSM wraps with it.
    pub mechanism: WrapMechanism,
    /// The Cryptographic Parameters in use, for the Key Wrapping Data of the answer.
    pub parameters: CryptographicParameters,
}

/// A wrapped Key Block to register: the ciphertext and the key to unwrap it with.
#[derive(Debug)]
pub(super) struct Unwrapping {
    /// The unwrapping key.
    pub key: WrappingKey,
    /// The wrapped key value (ciphertext: no secret).
    pub wrapped: Vec<u8>,
}

/// A failure answered with the reason of the request's version.
fn fail(cx: &OpContext<'_>, v2: ResultReason, v1: ResultReason, message: impl Into<String>) -> OpError {
    let reason = if cx.version().major >= 2 { v2 } else { v1 };
    OpError::Wrapping { reason, message: message.into() }
}

/// A Key Wrap Type other than Not Wrapped: kmipd keeps no wrapped form of what it was given.
pub(super) fn check_key_wrap_type(cx: &OpContext<'_>, wrap_type: Option<KeyWrapType>) -> Result<(), OpError> {
    match wrap_type {
        None | Some(KeyWrapType::NotWrapped) => Ok(()),
        Some(other) => Err(fail(
            cx,
            R::KeyWrapTypeNotSupported,
            R::FeatureNotSupported,
            format!("Key Wrap Type {other:?}: kmipd unwraps registered keys into the HSM and keeps no wrapped form"),
        )),
    }
}

/// The method, the encoding and the key of a wrapping request: Encrypt, No Encoding, no
/// attributes, an encryption key named.
fn encryption_key<'a>(
    cx: &OpContext<'_>,
    method: WrappingMethod,
    encryption: Option<&'a KeyInformation>,
    mac_signature: Option<&KeyInformation>,
    encoding: Option<EncodingOption>,
    with_attributes: bool,
) -> Result<&'a KeyInformation, OpError> {
    if method != WrappingMethod::Encrypt || mac_signature.is_some() {
        return Err(OpError::FeatureNotSupported(format!(
            "Wrapping Method {method:?}: kmipd wraps by encryption alone (Wrapping Method Encrypt)"
        )));
    }
    if with_attributes {
        return Err(fail(
            cx,
            R::EncodingOptionError,
            R::EncodingOptionError,
            "attributes can't be wrapped with the key: the HSM wraps the key material alone",
        ));
    }
    if encoding != Some(EncodingOption::NoEncoding) {
        return Err(fail(
            cx,
            R::EncodingOptionError,
            R::EncodingOptionError,
            "the HSM wraps the raw key material: ask for Encoding Option No Encoding (without it KMIP means a wrapped TTLV-encoded Key Value)",
        ));
    }
    encryption.ok_or_else(|| OpError::MissingData("Wrapping Method Encrypt needs Encryption Key Information".into()))
}

/// Finds and checks the wrapping key `info` names, for `direction`.
pub(super) fn resolve(
    cx: &OpContext<'_>,
    svc: &Services<'_>,
    info: &KeyInformation,
    direction: Direction,
) -> Result<WrappingKey, OpError> {
    let uid = cx.batch.resolve(Some(&info.unique_identifier))?;
    let key = match object::load(cx, svc.store, &uid, Operation::Get) {
        Err(OpError::ObjectNotFound(_)) => {
            return Err(fail(cx, R::WrappingObjectNotFound, R::ItemNotFound, format!("wrapping key {uid:?} not found")))
        }
        other => other?,
    };
    if matches!(key.record.lifecycle, Lifecycle::Destroying | Lifecycle::Destroyed) {
        return Err(fail(cx, R::WrappingObjectDestroyed, R::ItemNotFound, format!("wrapping key {uid:?} is destroyed")));
    }
    if key.record.archived {
        return Err(fail(cx, R::WrappingObjectArchived, R::ObjectArchived, format!("wrapping key {uid:?} is archived")));
    }
    let (algorithm, _) = object::algorithm_and_length(&key.attributes);
    let rsa = match (key.object_type(), algorithm, direction) {
        (Some(ObjectType::SymmetricKey), Some(CryptographicAlgorithm::AES), _) => false,
        (Some(ObjectType::PublicKey), Some(CryptographicAlgorithm::RSA), Direction::Wrap)
        | (Some(ObjectType::PrivateKey), Some(CryptographicAlgorithm::RSA), Direction::Unwrap) => true,
        (object_type, _, _) => {
            return Err(fail(
                cx,
                R::InvalidObjectType,
                R::IllegalOperation,
                format!(
                    "object {uid:?} ({object_type:?}, {algorithm:?}) can't {direction:?} keys: an AES key or an RSA public (wrap) or private (unwrap) key can"
                ),
            ))
        }
    };
    if key.record.hsm.is_none() {
        return Err(fail(cx, R::InvalidObjectType, R::IllegalOperation, format!("wrapping key {uid:?} is not in the HSM")));
    }
    let usable = match direction {
        Direction::Wrap => matches!(key.state(), Some(State::Active)),
        Direction::Unwrap => matches!(key.state(), Some(State::Active | State::Deactivated)),
    };
    if !usable {
        return Err(OpError::WrongState(format!("wrapping key {uid:?} is {:?}", key.state())));
    }
    let (bit, name) = match direction {
        Direction::Wrap => (object::usage_bits(&["WrapKey"]), "Wrap Key"),
        Direction::Unwrap => (object::usage_bits(&["UnwrapKey"]), "Unwrap Key"),
    };
    if key.attributes.usage_mask().is_some_and(|mask| mask & bit == 0) {
        return Err(fail(
            cx,
            R::IncompatibleCryptographicUsageMask,
            R::PermissionDenied,
            format!("wrapping key {uid:?} lacks {name} in its Cryptographic Usage Mask"),
        ));
    }
    let parameters = parameters(cx, &key, info.cryptographic_parameters.as_ref(), rsa)?;
    let mechanism = mechanism(cx, &parameters, rsa)?;
    Ok(WrappingKey { uid, mechanism, parameters })
}

/// The Cryptographic Parameters to wrap with (see the module documentation).
fn parameters(
    cx: &OpContext<'_>,
    key: &Managed,
    asked: Option<&CryptographicParameters>,
    rsa: bool,
) -> Result<CryptographicParameters, OpError> {
    let id = AttrId::Standard(Tag::CRYPTOGRAPHIC_PARAMETERS);
    let held: Vec<&CryptographicParameters> = key
        .attributes
        .all(&id)
        .filter_map(|a| match a {
            Attribute::CryptographicParameters(p) => Some(p),
            _ => None,
        })
        .collect();
    match (asked, held.first()) {
        (Some(asked), Some(_)) if !held.contains(&asked) => Err(fail(
            cx,
            R::BadCryptographicParameters,
            R::ItemNotFound,
            "the Cryptographic Parameters asked for are not among the wrapping key's",
        )),
        (Some(asked), _) => Ok(asked.clone()),
        (None, Some(first)) => Ok((*first).clone()),
        (None, None) if rsa => {
            Ok(crypto_parameters(None, Some(PaddingMethod::OAEP), Some(HashingAlgorithm::SHA_1)))
        }
        (None, None) => Ok(crypto_parameters(Some(BlockCipherMode::NISTKeyWrap), None, None)),
    }
}

/// The HSM mechanism of Cryptographic Parameters.
fn mechanism(cx: &OpContext<'_>, p: &CryptographicParameters, rsa: bool) -> Result<WrapMechanism, OpError> {
    let unsupported = |what: String| fail(cx, R::BadCryptographicParameters, R::FeatureNotSupported, what);
    if !rsa {
        return match p.block_cipher_mode {
            None | Some(BlockCipherMode::NISTKeyWrap) => Ok(WrapMechanism::AesKeyWrap),
            Some(BlockCipherMode::AESKeyWrapPadding) => Ok(WrapMechanism::AesKeyWrapPad),
            Some(other) => Err(unsupported(format!(
                "Block Cipher Mode {other:?}: AES keys wrap with NIST Key Wrap or AES Key Wrap Padding"
            ))),
        };
    }
    match p.padding_method {
        None | Some(PaddingMethod::OAEP) => {
            let hash = p.hashing_algorithm.unwrap_or(HashingAlgorithm::SHA_1);
            if p.mask_generator_hashing_algorithm.is_some_and(|m| m != hash) {
                return Err(unsupported("OAEP with a mask generator hash other than the hash".into()));
            }
            let hash = hash_alg(hash).ok_or_else(|| unsupported(format!("OAEP with {hash:?}")))?;
            Ok(WrapMechanism::RsaOaep(hash))
        }
        Some(PaddingMethod::PKCS1V1_5) => Ok(WrapMechanism::RsaPkcs1v15),
        Some(other) => Err(unsupported(format!("Padding Method {other:?}: RSA keys wrap with OAEP or PKCS#1 v1.5"))),
    }
}

fn hash_alg(hash: HashingAlgorithm) -> Option<HashAlg> {
    Some(match hash {
        HashingAlgorithm::SHA_1 => HashAlg::Sha1,
        HashingAlgorithm::SHA_224 => HashAlg::Sha224,
        HashingAlgorithm::SHA_256 => HashAlg::Sha256,
        HashingAlgorithm::SHA_384 => HashAlg::Sha384,
        HashingAlgorithm::SHA_512 => HashAlg::Sha512,
        _ => return None,
    })
}

fn crypto_parameters(
    block_cipher_mode: Option<BlockCipherMode>,
    padding_method: Option<PaddingMethod>,
    hashing_algorithm: Option<HashingAlgorithm>,
) -> CryptographicParameters {
    CryptographicParameters { block_cipher_mode, padding_method, hashing_algorithm, ..Default::default() }
}

/// The Key Block of `m` wrapped by the HSM as `spec` asks; `asked` is the Key Format Type
/// of the request, if any.
pub(super) fn wrapped_block(
    cx: &OpContext<'_>,
    svc: &Services<'_>,
    m: &Managed,
    spec: &KeyWrappingSpecification,
    asked: Option<KeyFormatType>,
) -> Result<KeyBlock, OpError> {
    let info = encryption_key(
        cx,
        spec.wrapping_method,
        spec.encryption_key_information.as_ref(),
        spec.mac_signature_key_information.as_ref(),
        spec.encoding_option,
        !spec.attribute_name.is_empty(),
    )?;
    let uid = m.uid();
    let registered = match m.attributes.get(Tag::KEY_FORMAT_TYPE) {
        Some(Attribute::KeyFormatType(f)) => Some(*f),
        _ => None,
    };
    // What C_WrapKey wraps: the raw value of a secret, the PKCS#8 of a private key.
    let (natural, accepted): (KeyFormatType, &[KeyFormatType]) = match m.object_type() {
        Some(ObjectType::SymmetricKey) => (KeyFormatType::Raw, &[KeyFormatType::Raw]),
        Some(ObjectType::SecretData) => {
            let f = registered.filter(|f| *f == KeyFormatType::Raw).unwrap_or(KeyFormatType::Opaque);
            (f, &[KeyFormatType::Raw, KeyFormatType::Opaque])
        }
        Some(ObjectType::PrivateKey) => (KeyFormatType::PKCS_8, &[KeyFormatType::PKCS_8]),
        Some(ObjectType::PublicKey) => {
            return Err(OpError::FeatureNotSupported(
                "wrapping a public key: it is not secret, Get it without a Key Wrapping Specification".into(),
            ))
        }
        other => return Err(OpError::InvalidObjectType(format!("a {other:?} has no key to wrap"))),
    };
    let format = match asked {
        Some(f) if accepted.contains(&f) => f,
        Some(f) => {
            return Err(OpError::KeyFormatTypeNotSupported(format!(
                "the HSM wraps this object as {natural:?}, not {f:?}"
            )))
        }
        None => natural,
    };
    if m.attributes.flag(Tag::EXTRACTABLE) == Some(false) {
        return Err(OpError::NotExtractable(uid.to_owned()));
    }
    let key = resolve(cx, svc, info, Direction::Wrap)?;
    let wrapped = svc.hsm.wrap_key(key.uid.as_bytes(), Some(key.mechanism), uid.as_bytes())?;
    let (algorithm, length) = object::algorithm_and_length(&m.attributes);
    Ok(KeyBlock {
        key_format_type: format,
        key_compression_type: None,
        key_value: Some(KeyValue::Wrapped(SecretBytes::new(wrapped.bytes))),
        cryptographic_algorithm: algorithm,
        cryptographic_length: length,
        key_wrapping_data: Some(KeyWrappingData {
            wrapping_method: WrappingMethod::Encrypt,
            encryption_key_information: Some(KeyInformation {
                unique_identifier: UniqueIdentifier::Text(key.uid),
                cryptographic_parameters: Some(key.parameters),
            }),
            mac_signature_key_information: None,
            mac_signature: None,
            iv_counter_nonce: None,
            encoding_option: Some(EncodingOption::NoEncoding),
        }),
    })
}

/// How to unwrap a registered Key Block, or `None` when it is not wrapped.
pub(super) fn unwrapping(
    cx: &OpContext<'_>,
    svc: &Services<'_>,
    block: &KeyBlock,
) -> Result<Option<Unwrapping>, OpError> {
    let Some(data) = &block.key_wrapping_data else {
        if matches!(block.key_value, Some(KeyValue::Wrapped(_))) {
            return Err(OpError::InvalidField("a wrapped Key Value needs Key Wrapping Data".into()));
        }
        return Ok(None);
    };
    let info = encryption_key(
        cx,
        data.wrapping_method,
        data.encryption_key_information.as_ref(),
        data.mac_signature_key_information.as_ref(),
        data.encoding_option,
        false,
    )?;
    if data.mac_signature.is_some() || data.iv_counter_nonce.is_some() {
        return Err(OpError::FeatureNotSupported(
            "a MAC/Signature or IV/Counter/Nonce with key wrapping (AES Key Wrap and RSA need neither)".into(),
        ));
    }
    // No Encoding: the wrapped bytes are the Key Value itself, or its Key Material.
    let wrapped = match &block.key_value {
        Some(KeyValue::Wrapped(b)) => b.expose().to_vec(),
        Some(KeyValue::Plain { key_material: KeyMaterial::Bytes(b), attributes_v1, attributes })
            if attributes_v1.is_empty() && attributes.is_none() =>
        {
            b.expose().to_vec()
        }
        Some(KeyValue::Plain { .. }) => {
            return Err(fail(
                cx,
                R::EncodingOptionError,
                R::EncodingOptionError,
                "with No Encoding the wrapped Key Material is a Byte String without attributes",
            ))
        }
        None => return Err(OpError::MissingData("the Key Block has no Key Value".into())),
    };
    let key = resolve(cx, svc, info, Direction::Unwrap)?;
    Ok(Some(Unwrapping { key, wrapped }))
}
