//! What the cryptographic services (Encrypt … MAC Verify) share: which key may serve which
//! use (object type, Cryptographic Usage Mask, state and dates, Usage Limits), the
//! Cryptographic Parameters in force, and their translation into the HSM layer's schemes.
//!
//! # Usage policy (KMIP 1.4 §3.19–3.22, §4.29–4.35; 2.1 §4.20–4.57, §6.1.18–6.1.30)
//!
//! - *Protect* uses (encrypt, sign, MAC) need an Active key before its Protect Stop Date.
//! - *Process* uses (decrypt, verify, MAC verify) also accept Deactivated and Compromised
//!   keys, from the Process Start Date on.
//! - The Cryptographic Usage Mask, when the key has one, must carry the use's bit.
//! - Usage Limits are allocated before a protect use (in bytes or objects); a key without
//!   allocation left refuses with Permission Denied.
//!
//! Failures answer as the OASIS CS-BC/CS-AC reference runs do: wrong state or date → Wrong Key
//! Lifecycle State (Permission Denied in 1.x), unfit key → [`OpError::NotUsableFor`].

use crate::hsm::{HashAlg, MacAlgorithm, SignatureAlgorithm};
use crate::kmip::attributes::Attribute;
use crate::kmip::enums::{
    CryptographicAlgorithm as Alg, DigitalSignatureAlgorithm as Dsa, HashingAlgorithm, ObjectType, Operation,
    PaddingMethod, ResultReason, State, UsageLimitsUnit,
};
use crate::kmip::objects::{CryptographicParameters, UsageLimits};
use crate::ttlv::Tag;

use super::object::{self, Managed, Services};
use super::{OpContext, OpError};

/// Whether a use applies or removes cryptographic protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// Encrypt, sign, MAC: Active keys only, before the Protect Stop Date.
    Protect,
    /// Decrypt, verify, MAC verify: also Deactivated and Compromised keys, after the Process
    /// Start Date.
    Process,
}

/// One cryptographic use of a key.
#[derive(Debug, Clone, Copy)]
pub(super) struct Use {
    pub operation: Operation,
    /// The Cryptographic Usage Mask bit it needs (XML name).
    pub bit: &'static str,
    pub purpose: Purpose,
    /// The object types that can serve it.
    pub types: &'static [ObjectType],
}

pub(super) const ENCRYPT: Use = Use {
    operation: Operation::Encrypt,
    bit: "Encrypt",
    purpose: Purpose::Protect,
    types: &[ObjectType::SymmetricKey, ObjectType::PublicKey],
};
pub(super) const DECRYPT: Use = Use {
    operation: Operation::Decrypt,
    bit: "Decrypt",
    purpose: Purpose::Process,
    types: &[ObjectType::SymmetricKey, ObjectType::PrivateKey],
};
pub(super) const SIGN: Use =
    Use { operation: Operation::Sign, bit: "Sign", purpose: Purpose::Protect, types: &[ObjectType::PrivateKey] };
pub(super) const VERIFY: Use = Use {
    operation: Operation::SignatureVerify,
    bit: "Verify",
    purpose: Purpose::Process,
    types: &[ObjectType::PublicKey],
};
pub(super) const MAC: Use =
    Use { operation: Operation::MAC, bit: "MACGenerate", purpose: Purpose::Protect, types: &[ObjectType::SymmetricKey] };
pub(super) const MAC_VERIFY: Use = Use {
    operation: Operation::MACVerify,
    bit: "MACVerify",
    purpose: Purpose::Process,
    types: &[ObjectType::SymmetricKey],
};

/// Loads the key `uid` for `u`, checking authorization, object type, state, dates and usage
/// mask. The key's material must live in the HSM.
pub(super) fn usable_key(cx: &OpContext<'_>, svc: &Services<'_>, uid: &str, u: &Use) -> Result<Managed, OpError> {
    let mut m = object::load(cx, svc.store, uid, u.operation)?;
    m.require_online()?;
    let now = object::now();
    // Time-driven transitions apply even if no request has written them yet.
    object::refresh_state(&mut m.attributes, now);
    let object_type = m.object_type().ok_or_else(|| OpError::Internal("object without Object Type".into()))?;
    if !u.types.contains(&object_type) {
        return Err(OpError::NotUsableFor(
            ResultReason::InvalidObjectType,
            format!("a {object_type:?} can't serve {:?}", u.operation),
        ));
    }
    match (m.state(), u.purpose) {
        (Some(State::Active), _) | (Some(State::Deactivated | State::Compromised), Purpose::Process) => {}
        (state, _) => return Err(OpError::KeyNotInUsePeriod(format!("{:?} with a key that is {state:?}", u.operation))),
    }
    let passed = |tag| m.attributes.date(tag).is_some_and(|d| d <= now.0);
    let future = |tag| m.attributes.date(tag).is_some_and(|d| d > now.0);
    if u.purpose == Purpose::Protect && passed(Tag::PROTECT_STOP_DATE) {
        return Err(OpError::KeyNotInUsePeriod(format!("{:?} after the key's Protect Stop Date", u.operation)));
    }
    if u.purpose == Purpose::Process && future(Tag::PROCESS_START_DATE) {
        return Err(OpError::KeyNotInUsePeriod(format!("{:?} before the key's Process Start Date", u.operation)));
    }
    if let Some(mask) = m.attributes.usage_mask() {
        if mask & object::usage_bits(&[u.bit]) == 0 {
            return Err(OpError::NotUsableFor(
                ResultReason::IncompatibleCryptographicUsageMask,
                format!("the key's Cryptographic Usage Mask lacks {}", u.bit),
            ));
        }
    }
    if m.record.hsm.is_none() {
        return Err(OpError::FeatureNotSupported(format!("{:?} with a key the HSM does not hold", u.operation)));
    }
    Ok(m)
}

/// Takes `bytes` (or one object) from the key's Usage Limits before a protect use; a key
/// without Usage Limits is not limited.
pub(super) fn allocate(cx: &OpContext<'_>, svc: &Services<'_>, m: &Managed, u: &Use, bytes: usize) -> Result<(), OpError> {
    if m.attributes.get(Tag::USAGE_LIMITS).is_none() {
        return Ok(());
    }
    let ((), _undo) = object::modify(cx, svc.store, m.uid(), u.operation, |m| {
        let Some(Attribute::UsageLimits(limits)) = m.attributes.get(Tag::USAGE_LIMITS).cloned() else {
            return Ok(());
        };
        let needed = match limits.usage_limits_unit {
            Some(UsageLimitsUnit::Object) => 1,
            _ => i64::try_from(bytes).unwrap_or(i64::MAX),
        };
        let left = limits.usage_limits_count.or(limits.usage_limits_total).unwrap_or(0);
        if needed > left {
            return Err(OpError::UsageLimitExceeded(format!("{left} left, {needed} asked")));
        }
        m.attributes.set(Attribute::UsageLimits(UsageLimits { usage_limits_count: Some(left - needed), ..limits }));
        Ok(())
    })?;
    Ok(())
}

/// The Cryptographic Parameters in force: the request's, else the key's attribute (KMIP 1.4
/// §4.29: "the one with the lowest Attribute Index"), else none.
pub(super) fn parameters(m: &Managed, given: Option<&CryptographicParameters>) -> CryptographicParameters {
    if let Some(p) = given {
        return p.clone();
    }
    match m.attributes.get(Tag::CRYPTOGRAPHIC_PARAMETERS) {
        Some(Attribute::CryptographicParameters(p)) => p.clone(),
        _ => CryptographicParameters::default(),
    }
}

/// The algorithm the parameters name, else the key's.
pub(super) fn algorithm(m: &Managed, params: &CryptographicParameters) -> Option<Alg> {
    params.cryptographic_algorithm.or_else(|| object::algorithm_and_length(&m.attributes).0)
}

/// A KMIP hashing algorithm the HSM layer knows.
pub(super) fn hash(h: HashingAlgorithm) -> Result<HashAlg, OpError> {
    Ok(match h {
        HashingAlgorithm::SHA_1 => HashAlg::Sha1,
        HashingAlgorithm::SHA_224 => HashAlg::Sha224,
        HashingAlgorithm::SHA_256 => HashAlg::Sha256,
        HashingAlgorithm::SHA_384 => HashAlg::Sha384,
        HashingAlgorithm::SHA_512 => HashAlg::Sha512,
        other => return Err(OpError::FeatureNotSupported(format!("hashing algorithm {other:?}"))),
    })
}

/// The signature scheme the parameters describe for a key of `algorithm`.
pub(super) fn signature(algorithm: Option<Alg>, params: &CryptographicParameters) -> Result<SignatureAlgorithm, OpError> {
    use SignatureAlgorithm as S;
    let h = params.hashing_algorithm.map(hash).transpose()?;
    // PSS salts: the client's length (the HSM refuses one too long for the modulus), else the hash's.
    let salt = params
        .salt_length
        .map(|s| u32::try_from(s).map_err(|_| OpError::InvalidField(format!("Salt Length {s} is negative"))))
        .transpose()?;
    if let Some(dsa) = params.digital_signature_algorithm {
        return Ok(match dsa {
            Dsa::SHA_1WithRSAEncryption => S::RsaPkcs1v15(HashAlg::Sha1),
            Dsa::SHA_224WithRSAEncryption => S::RsaPkcs1v15(HashAlg::Sha224),
            Dsa::SHA_256WithRSAEncryption => S::RsaPkcs1v15(HashAlg::Sha256),
            Dsa::SHA_384WithRSAEncryption => S::RsaPkcs1v15(HashAlg::Sha384),
            Dsa::SHA_512WithRSAEncryption => S::RsaPkcs1v15(HashAlg::Sha512),
            Dsa::RSASSA_PSS => S::RsaPss(h.unwrap_or(HashAlg::Sha256), salt),
            Dsa::ECDSAWithSHA_1 => S::Ecdsa(HashAlg::Sha1),
            Dsa::ECDSAWithSHA224 => S::Ecdsa(HashAlg::Sha224),
            Dsa::ECDSAWithSHA256 => S::Ecdsa(HashAlg::Sha256),
            Dsa::ECDSAWithSHA384 => S::Ecdsa(HashAlg::Sha384),
            Dsa::ECDSAWithSHA512 => S::Ecdsa(HashAlg::Sha512),
            other => return Err(OpError::FeatureNotSupported(format!("digital signature algorithm {other:?}"))),
        });
    }
    let need_hash = || h.ok_or_else(|| OpError::InvalidField("no Hashing Algorithm for the signature".into()));
    match (algorithm, params.padding_method) {
        (Some(Alg::RSA), Some(PaddingMethod::PSS)) => Ok(S::RsaPss(need_hash()?, salt)),
        (Some(Alg::RSA), Some(PaddingMethod::PKCS1V1_5) | None) => Ok(S::RsaPkcs1v15(need_hash()?)),
        (Some(Alg::EC | Alg::ECDSA), _) => Ok(S::Ecdsa(need_hash()?)),
        (Some(Alg::Ed25519), _) => Ok(S::Ed25519),
        (Some(Alg::RSA), Some(other)) => Err(OpError::FeatureNotSupported(format!("RSA signatures with {other:?} padding"))),
        (other, _) => Err(OpError::NotUsableFor(
            ResultReason::InvalidObjectType,
            format!("no signature scheme for a {other:?} key"),
        )),
    }
}

/// The MAC scheme for a key of `algorithm` under these parameters.
pub(super) fn mac(algorithm: Option<Alg>, params: &CryptographicParameters) -> Result<MacAlgorithm, OpError> {
    use crate::kmip::enums::BlockCipherMode;
    Ok(match algorithm {
        Some(Alg::HMAC_SHA1) => MacAlgorithm::Hmac(HashAlg::Sha1),
        Some(Alg::HMAC_SHA224) => MacAlgorithm::Hmac(HashAlg::Sha224),
        Some(Alg::HMAC_SHA256) => MacAlgorithm::Hmac(HashAlg::Sha256),
        Some(Alg::HMAC_SHA384) => MacAlgorithm::Hmac(HashAlg::Sha384),
        Some(Alg::HMAC_SHA512) => MacAlgorithm::Hmac(HashAlg::Sha512),
        Some(Alg::AES) if matches!(params.block_cipher_mode, Some(BlockCipherMode::CMAC) | None) => MacAlgorithm::AesCmac,
        other => {
            return Err(OpError::NotUsableFor(
                ResultReason::InvalidObjectType,
                format!("no MAC scheme for a {other:?} key with {:?}", params.block_cipher_mode),
            ))
        }
    })
}

/// A failure of the HSM while it computed: the client's input (bad tag, bad padding, wrong
/// length) is a Cryptographic Failure, unsupported mechanisms keep their reason.
pub(super) fn hsm_failure(e: crate::hsm::HsmError) -> OpError {
    match e.class() {
        crate::hsm::ErrorClass::InvalidInput => OpError::CryptographicFailure(e.to_string()),
        _ => OpError::Hsm(e),
    }
}

/// The message of a sign/verify/MAC request: Data, or Digested Data (`true`) for a whole
/// single-part request. Streams carry Data only.
pub(super) fn message<'a>(
    data: Option<&'a crate::kmip::codec::SecretBytes>,
    digested: Option<&'a [u8]>,
    step: super::stream::Step<'_>,
) -> Result<(&'a [u8], bool), OpError> {
    use super::stream::Step;
    match (data, digested) {
        (Some(_), Some(_)) => Err(OpError::InvalidField("both Data and Digested Data".into())),
        (Some(d), None) => Ok((d.expose(), false)),
        (None, Some(d)) if step == Step::Single => Ok((d, true)),
        (None, Some(_)) => Err(OpError::FeatureNotSupported("Digested Data in a multi-part operation".into())),
        (None, None) if step == Step::Single => Err(OpError::MissingData("the request has no Data".into())),
        (None, None) => Ok((&[], false)),
    }
}
