//! Mapping kmipd's KMIP-neutral algorithms onto cryptoki mechanisms, parameters and key types.

use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{aead::GcmParams, Mechanism, MechanismType};
use cryptoki::object::KeyType as CkKeyType;

use super::{
    Capability, Cipher, Curve, HashAlg, HsmError, HsmResult, MacAlgorithm, SecretKeyAlgorithm, SignatureAlgorithm,
};

pub(super) fn secret_key_type(algorithm: SecretKeyAlgorithm) -> CkKeyType {
    match algorithm {
        SecretKeyAlgorithm::Aes => CkKeyType::AES,
        SecretKeyAlgorithm::GenericSecret => CkKeyType::GENERIC_SECRET,
        SecretKeyAlgorithm::Des3 => CkKeyType::DES3,
        SecretKeyAlgorithm::Des2 => CkKeyType::DES2,
    }
}

pub(super) fn curve_key_type(curve: Curve) -> CkKeyType {
    if curve == Curve::Ed25519 {
        CkKeyType::EC_EDWARDS
    } else {
        CkKeyType::EC
    }
}

pub(super) fn hash_mechanism_type(hash: HashAlg) -> MechanismType {
    match hash {
        HashAlg::Sha1 => MechanismType::SHA1,
        HashAlg::Sha224 => MechanismType::SHA224,
        HashAlg::Sha256 => MechanismType::SHA256,
        HashAlg::Sha384 => MechanismType::SHA384,
        HashAlg::Sha512 => MechanismType::SHA512,
    }
}

pub(super) fn mgf(hash: HashAlg) -> PkcsMgfType {
    match hash {
        HashAlg::Sha1 => PkcsMgfType::MGF1_SHA1,
        HashAlg::Sha224 => PkcsMgfType::MGF1_SHA224,
        HashAlg::Sha256 => PkcsMgfType::MGF1_SHA256,
        HashAlg::Sha384 => PkcsMgfType::MGF1_SHA384,
        HashAlg::Sha512 => PkcsMgfType::MGF1_SHA512,
    }
}

pub(super) fn digest_mechanism(hash: HashAlg) -> Mechanism<'static> {
    match hash {
        HashAlg::Sha1 => Mechanism::Sha1,
        HashAlg::Sha224 => Mechanism::Sha224,
        HashAlg::Sha256 => Mechanism::Sha256,
        HashAlg::Sha384 => Mechanism::Sha384,
        HashAlg::Sha512 => Mechanism::Sha512,
    }
}

pub(super) fn oaep_params(hash: HashAlg) -> PkcsOaepParams<'static> {
    // SoftHSM accepts only an empty label (DESIGN.md §3).
    PkcsOaepParams::new(hash_mechanism_type(hash), mgf(hash), PkcsOaepSource::empty())
}

pub(super) fn pss_params(hash: HashAlg, salt: Option<u32>) -> PkcsPssParams {
    let s_len = salt.map_or(hash.output_len() as u64, u64::from);
    PkcsPssParams { hash_alg: hash_mechanism_type(hash), mgf: mgf(hash), s_len: s_len.into() }
}

/// DER prefix of a PKCS#1 v1.5 DigestInfo for `hash` (RFC 8017 §9.2 note 1).
pub(super) fn digest_info_prefix(hash: HashAlg) -> &'static [u8] {
    match hash {
        HashAlg::Sha1 => &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14],
        HashAlg::Sha224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04,
            0x1c,
        ],
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ],
        HashAlg::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
            0x30,
        ],
        HashAlg::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
            0x40,
        ],
    }
}

pub(super) fn in_hsm_signature_mechanism(algorithm: SignatureAlgorithm) -> HsmResult<Mechanism<'static>> {
    use HashAlg as H;
    Ok(match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(H::Sha1) => Mechanism::Sha1RsaPkcs,
        SignatureAlgorithm::RsaPkcs1v15(H::Sha224) => Mechanism::Sha224RsaPkcs,
        SignatureAlgorithm::RsaPkcs1v15(H::Sha256) => Mechanism::Sha256RsaPkcs,
        SignatureAlgorithm::RsaPkcs1v15(H::Sha384) => Mechanism::Sha384RsaPkcs,
        SignatureAlgorithm::RsaPkcs1v15(H::Sha512) => Mechanism::Sha512RsaPkcs,
        SignatureAlgorithm::RsaPss(h @ H::Sha1, salt) => Mechanism::Sha1RsaPkcsPss(pss_params(h, salt)),
        SignatureAlgorithm::RsaPss(h @ H::Sha256, salt) => Mechanism::Sha256RsaPkcsPss(pss_params(h, salt)),
        SignatureAlgorithm::RsaPss(h @ H::Sha384, salt) => Mechanism::Sha384RsaPkcsPss(pss_params(h, salt)),
        SignatureAlgorithm::RsaPss(h @ H::Sha512, salt) => Mechanism::Sha512RsaPkcsPss(pss_params(h, salt)),
        SignatureAlgorithm::RsaPss(H::Sha224, _) => {
            return Err(HsmError::NotSupported("CKM_SHA224_RSA_PKCS_PSS through cryptoki 0.12".into()))
        }
        SignatureAlgorithm::Ecdsa(H::Sha1) => Mechanism::EcdsaSha1,
        SignatureAlgorithm::Ecdsa(H::Sha224) => Mechanism::EcdsaSha224,
        SignatureAlgorithm::Ecdsa(H::Sha256) => Mechanism::EcdsaSha256,
        SignatureAlgorithm::Ecdsa(H::Sha384) => Mechanism::EcdsaSha384,
        SignatureAlgorithm::Ecdsa(H::Sha512) => Mechanism::EcdsaSha512,
        SignatureAlgorithm::Ed25519 => Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
    })
}

pub(super) fn mac_mechanism(algorithm: MacAlgorithm) -> Mechanism<'static> {
    match algorithm {
        MacAlgorithm::Hmac(HashAlg::Sha1) => Mechanism::Sha1Hmac,
        MacAlgorithm::Hmac(HashAlg::Sha224) => Mechanism::Sha224Hmac,
        MacAlgorithm::Hmac(HashAlg::Sha256) => Mechanism::Sha256Hmac,
        MacAlgorithm::Hmac(HashAlg::Sha384) => Mechanism::Sha384Hmac,
        MacAlgorithm::Hmac(HashAlg::Sha512) => Mechanism::Sha512Hmac,
        MacAlgorithm::AesCmac => Mechanism::AesCMac,
    }
}

pub(super) fn mac_capability(algorithm: MacAlgorithm) -> Capability {
    match algorithm {
        MacAlgorithm::Hmac(hash) => Capability::Hmac(hash),
        MacAlgorithm::AesCmac => Capability::AesCmac,
    }
}

/// DER OCTET STRING around an EC point (`CKA_EC_POINT` encoding).
pub(super) fn der_octet_string(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x04];
    let len = bytes.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(bytes);
    out
}

/// The point inside `CKA_EC_POINT`: modules return a DER OCTET STRING (some the bare point).
pub(super) fn ec_point_from_attribute(curve: Curve, value: Vec<u8>) -> HsmResult<Vec<u8>> {
    let raw_len = match curve {
        Curve::P256 | Curve::Secp256k1 => 65,
        Curve::P384 => 97,
        Curve::P521 => 133,
        Curve::Ed25519 => 32,
    };
    if value.len() == raw_len {
        return Ok(value);
    }
    let (header, len) = match value.as_slice() {
        [0x04, 0x81, len, ..] => (3, usize::from(*len)),
        [0x04, len, ..] if *len < 0x80 => (2, usize::from(*len)),
        _ => return Err(HsmError::Module("unexpected CKA_EC_POINT encoding".into())),
    };
    match value.get(header..) {
        Some(point) if point.len() == len && len == raw_len => Ok(point.to_vec()),
        _ => Err(HsmError::Module("unexpected CKA_EC_POINT length".into())),
    }
}

pub(super) fn curve_from_params(params: &[u8]) -> Option<Curve> {
    Curve::ALL.into_iter().find(|c| c.der_oid() == params)
}

/// Owned mechanism parameters for one cipher call (the mechanism borrows them).
pub(super) struct CipherParams {
    pub(super) iv: Vec<u8>,
    aad: Vec<u8>,
    ctr: cryptoki_sys::CK_AES_CTR_PARAMS,
    oaep: Option<PkcsOaepParams<'static>>,
}

impl CipherParams {
    pub(super) fn new(iv: Vec<u8>, cipher: &Cipher) -> HsmResult<Self> {
        let mut ctr = cryptoki_sys::CK_AES_CTR_PARAMS { ulCounterBits: 0, cb: [0; 16] };
        let mut aad = Vec::new();
        let mut oaep = None;
        match cipher {
            Cipher::AesGcm { aad: a, tag_len, .. } => {
                if !(12..=16).contains(tag_len) {
                    return Err(HsmError::InvalidInput("AES-GCM tag length must be 12..=16 bytes".into()));
                }
                aad.clone_from(a);
            }
            Cipher::AesCtr { counter_bits, .. } => {
                if !(1..=128).contains(counter_bits) {
                    return Err(HsmError::InvalidInput("AES-CTR counter bits must be 1..=128".into()));
                }
                ctr.ulCounterBits = (*counter_bits).into();
                ctr.cb = iv.as_slice().try_into().map_err(|_| HsmError::InvalidInput("bad counter block".into()))?;
            }
            Cipher::RsaOaep(hash) => oaep = Some(oaep_params(*hash)),
            _ => {}
        }
        Ok(CipherParams { iv, aad, ctr, oaep })
    }

    pub(super) fn mechanism<'a>(&'a mut self, cipher: &Cipher) -> HsmResult<Mechanism<'a>> {
        Ok(match cipher {
            Cipher::AesGcm { tag_len, .. } => {
                let tag_bits = u64::try_from(*tag_len * 8).unwrap_or(128);
                Mechanism::AesGcm(GcmParams::new(&mut self.iv, &self.aad, tag_bits.into())?)
            }
            Cipher::AesCbc { padding, .. } => {
                let iv: [u8; 16] = self
                    .iv
                    .as_slice()
                    .try_into()
                    .map_err(|_| HsmError::InvalidInput("AES-CBC IV must be 16 bytes".into()))?;
                if *padding {
                    Mechanism::AesCbcPad(iv)
                } else {
                    Mechanism::AesCbc(iv)
                }
            }
            Cipher::AesCtr { .. } => {
                Mechanism::VendorDefined(VendorDefinedMechanism::new(MechanismType::AES_CTR, Some(&self.ctr)))
            }
            Cipher::AesEcb => Mechanism::AesEcb,
            Cipher::RsaOaep(_) => match &self.oaep {
                Some(params) => Mechanism::RsaPkcsOaep(*params),
                None => return Err(HsmError::InvalidInput("missing OAEP parameters".into())),
            },
            Cipher::RsaPkcs1v15 => Mechanism::RsaPkcs,
        })
    }
}

/// The IV a cipher call uses and whether it was chosen here.
pub(super) fn given_iv(cipher: &Cipher) -> Option<Vec<u8>> {
    match cipher {
        Cipher::AesGcm { iv, .. } => iv.clone(),
        Cipher::AesCbc { iv, .. } => iv.map(|iv| iv.to_vec()),
        Cipher::AesCtr { counter_block, .. } => counter_block.map(|cb| cb.to_vec()),
        _ => None,
    }
}

pub(super) fn is_chunkable(cipher: &Cipher) -> bool {
    matches!(cipher, Cipher::AesCbc { .. } | Cipher::AesCtr { .. } | Cipher::AesEcb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_points_come_out_of_their_der_wrapping() {
        let point = [4u8; 65];
        assert_eq!(ec_point_from_attribute(Curve::P256, der_octet_string(&point)).unwrap(), point);
        assert_eq!(ec_point_from_attribute(Curve::P256, point.to_vec()).unwrap(), point);
        let p521 = [4u8; 133];
        assert_eq!(ec_point_from_attribute(Curve::P521, der_octet_string(&p521)).unwrap(), p521);
        assert!(ec_point_from_attribute(Curve::P256, vec![4, 3, 1, 2, 3]).is_err());
    }
}
