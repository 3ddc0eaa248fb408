//! Probing an HSM against a profile: what the profile promises, what the module lists, and what really works
//! when exercised with throwaway session objects. This is what an operator runs first on new hardware.

use std::collections::HashMap;

use cryptoki_sys as sys;

use super::{
    AttributeUpdate, Capability, Cipher, Curve, Derivation, HashAlg, Hsm, HsmConfig, HsmError, KeyPairSpec, KeyUsage, MacAlgorithm,
    NewObject, Pkcs11Hsm, SecretKeyAlgorithm, SecretKeySpec, SignatureAlgorithm, UnwrapTarget, WrapMechanism,
};

/// Outcome of exercising one capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The operation round-tripped.
    Works,
    /// It failed; the reason (a `CKR_*` code where there is one).
    Fails(String),
    /// Not exercised (slow and not promised by the profile).
    Skipped,
}

/// One line of the probe table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRow {
    /// The capability.
    pub capability: Capability,
    /// Whether the profile lists it.
    pub profile_says: bool,
    /// Whether the module lists the mechanisms behind it (`None` for non-mechanism capabilities).
    pub module_lists: Option<bool>,
    /// What happened when it was exercised.
    pub outcome: Outcome,
}

impl ProbeRow {
    /// A broken promise: the profile lists the capability but it does not work.
    pub fn is_failure(&self) -> bool {
        self.profile_says && self.outcome != Outcome::Works
    }
}

/// The whole probe result.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    /// The profile's name.
    pub profile_name: String,
    /// The module's mechanism list, unfiltered.
    pub raw_mechanisms: Vec<u64>,
    /// One row per capability.
    pub rows: Vec<ProbeRow>,
}

impl ProbeReport {
    /// The capabilities the profile promises that do not work.
    pub fn failures(&self) -> Vec<&ProbeRow> {
        self.rows.iter().filter(|r| r.is_failure()).collect()
    }
}

/// The mechanisms the module must list for `capability` (`None`: not a mechanism).
pub fn mechanisms_for(capability: Capability, kwp_mechanism: &str) -> Option<Vec<u64>> {
    use Capability as C;
    let per_hash = |h: HashAlg, list: [u64; 5]| -> u64 {
        match h {
            HashAlg::Sha1 => list[0],
            HashAlg::Sha224 => list[1],
            HashAlg::Sha256 => list[2],
            HashAlg::Sha384 => list[3],
            HashAlg::Sha512 => list[4],
        }
    };
    Some(match capability {
        C::AesKeyGen => vec![sys::CKM_AES_KEY_GEN],
        C::GenericSecretKeyGen => vec![sys::CKM_GENERIC_SECRET_KEY_GEN],
        C::Des3KeyGen => vec![sys::CKM_DES3_KEY_GEN],
        C::Des2KeyGen => vec![sys::CKM_DES2_KEY_GEN],
        C::RsaKeyGen(_) => vec![sys::CKM_RSA_PKCS_KEY_PAIR_GEN],
        C::EcKeyGen(Curve::Ed25519) => vec![sys::CKM_EC_EDWARDS_KEY_PAIR_GEN],
        C::EcKeyGen(_) => vec![sys::CKM_EC_KEY_PAIR_GEN],
        C::AesGcm => vec![sys::CKM_AES_GCM],
        C::AesCbc => vec![sys::CKM_AES_CBC],
        C::AesCbcPad => vec![sys::CKM_AES_CBC_PAD],
        C::AesCtr => vec![sys::CKM_AES_CTR],
        C::AesEcb => vec![sys::CKM_AES_ECB],
        C::RsaOaep(_) | C::RsaOaepWrap => vec![sys::CKM_RSA_PKCS_OAEP],
        C::RsaPkcs1Encrypt | C::RsaPkcs1Raw => vec![sys::CKM_RSA_PKCS],
        C::RsaPkcs1Sign(h) => vec![per_hash(
            h,
            [
                sys::CKM_SHA1_RSA_PKCS,
                sys::CKM_SHA224_RSA_PKCS,
                sys::CKM_SHA256_RSA_PKCS,
                sys::CKM_SHA384_RSA_PKCS,
                sys::CKM_SHA512_RSA_PKCS,
            ],
        )],
        C::RsaPss(h) => vec![per_hash(
            h,
            [
                sys::CKM_SHA1_RSA_PKCS_PSS,
                sys::CKM_SHA224_RSA_PKCS_PSS,
                sys::CKM_SHA256_RSA_PKCS_PSS,
                sys::CKM_SHA384_RSA_PKCS_PSS,
                sys::CKM_SHA512_RSA_PKCS_PSS,
            ],
        )],
        C::RsaPssRaw => vec![sys::CKM_RSA_PKCS_PSS],
        C::Ecdsa(h) => vec![per_hash(
            h,
            [
                sys::CKM_ECDSA_SHA1,
                sys::CKM_ECDSA_SHA224,
                sys::CKM_ECDSA_SHA256,
                sys::CKM_ECDSA_SHA384,
                sys::CKM_ECDSA_SHA512,
            ],
        )],
        C::EcdsaRaw => vec![sys::CKM_ECDSA],
        C::EdDsa => vec![sys::CKM_EDDSA],
        C::Hmac(h) => vec![per_hash(
            h,
            [
                sys::CKM_SHA_1_HMAC,
                sys::CKM_SHA224_HMAC,
                sys::CKM_SHA256_HMAC,
                sys::CKM_SHA384_HMAC,
                sys::CKM_SHA512_HMAC,
            ],
        )],
        C::AesCmac => vec![sys::CKM_AES_CMAC],
        C::Digest(h) => {
            vec![per_hash(h, [sys::CKM_SHA_1, sys::CKM_SHA224, sys::CKM_SHA256, sys::CKM_SHA384, sys::CKM_SHA512])]
        }
        C::AesCbcEncryptData => vec![sys::CKM_AES_CBC_ENCRYPT_DATA],
        C::AesKeyWrap => vec![sys::CKM_AES_KEY_WRAP],
        C::AesKeyWrapPad => vec![if kwp_mechanism == "CKM_AES_KEY_WRAP_KWP" {
            sys::CKM_AES_KEY_WRAP_KWP
        } else {
            sys::CKM_AES_KEY_WRAP_PAD
        }],
        // C_DigestKey has no mechanism of its own: it runs under a digest mechanism.
        C::DigestKey
        | C::Random
        | C::SeedRandom
        | C::CreateObject
        | C::Unwrap
        | C::SetAttribute
        | C::WrapPrivateKey => return None,
    })
}

/// Opens the token with `config` and exercises every capability. Objects are session objects (`CKA_TOKEN=false`)
/// and are destroyed before returning; nothing is left on the token.
pub fn probe(config: HsmConfig) -> Result<ProbeReport, HsmError> {
    let promised = config.profile.clone();
    // Exercise everything, whatever the profile says: each call must reach the module.
    let mut open_profile = config.profile.clone();
    open_profile.mechanisms.capabilities = Capability::all().iter().map(|c| c.name()).collect();
    let hsm = Pkcs11Hsm::open(HsmConfig { profile: open_profile, ..config })?;
    let raw_mechanisms = hsm.raw_mechanisms()?;
    let mut exerciser = Exerciser { hsm: &hsm, counter: 0, created: Vec::new(), keys: HashMap::new() };
    let mut rows = Vec::new();
    for capability in Capability::all() {
        let profile_says = promised.supports(capability);
        let module_lists = mechanisms_for(capability, &promised.mechanisms.kwp_mechanism)
            .map(|needed| needed.iter().all(|m| raw_mechanisms.contains(m)));
        let slow = matches!(capability, Capability::RsaKeyGen(bits) if bits > 2048);
        let outcome = if slow && !profile_says {
            Outcome::Skipped
        } else {
            match exerciser.exercise(capability) {
                Ok(true) => Outcome::Works,
                Ok(false) => Outcome::Fails("round trip mismatch".into()),
                Err(e) => Outcome::Fails(e.code().map(str::to_string).unwrap_or_else(|| e.to_string())),
            }
        };
        rows.push(ProbeRow { capability, profile_says, module_lists, outcome });
    }
    exerciser.cleanup();
    Ok(ProbeReport { profile_name: promised.name, raw_mechanisms, rows })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shared {
    Aes,
    Hmac,
    Rsa,
    P256,
    Ed25519,
}

struct Exerciser<'a> {
    hsm: &'a Pkcs11Hsm,
    counter: u32,
    created: Vec<Vec<u8>>,
    /// Shared keys: the private (or secret) id and the public id.
    keys: HashMap<Shared, (Vec<u8>, Vec<u8>)>,
}

const DATA: &[u8] = b"kmipd probe: 32 bytes of input!!";

impl Exerciser<'_> {
    fn object(&mut self, usage: KeyUsage) -> NewObject {
        self.counter += 1;
        let id = format!("probe-{}-{}", std::process::id(), self.counter).into_bytes();
        self.created.push(id.clone());
        NewObject::session(id, "kmipd probe", usage)
    }

    fn extractable(&mut self) -> NewObject {
        NewObject { extractable: true, ..self.object(KeyUsage::ALL) }
    }

    fn secret(&mut self, spec: SecretKeySpec) -> Result<Vec<u8>, HsmError> {
        let object = self.object(KeyUsage::ALL);
        self.hsm.generate_secret_key(spec, &object)?;
        Ok(object.id)
    }

    fn pair(&mut self, spec: KeyPairSpec) -> Result<(Vec<u8>, Vec<u8>), HsmError> {
        let private = self.object(KeyUsage::ALL);
        let public = self.object(KeyUsage::ALL);
        self.hsm.generate_key_pair(spec, &private, &public)?;
        Ok((private.id, public.id))
    }

    fn shared(&mut self, which: Shared) -> Result<(Vec<u8>, Vec<u8>), HsmError> {
        if let Some(ids) = self.keys.get(&which) {
            return Ok(ids.clone());
        }
        let ids = match which {
            Shared::Aes => {
                let id = self.secret(SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 })?;
                (id.clone(), id)
            }
            Shared::Hmac => {
                // SoftHSM refuses HMAC keys shorter than the hash output (CKR_KEY_SIZE_RANGE for SHA-512 and 256 bits).
                let id = self.secret(SecretKeySpec { algorithm: SecretKeyAlgorithm::GenericSecret, bits: 512 })?;
                (id.clone(), id)
            }
            Shared::Rsa => self.pair(KeyPairSpec::Rsa { bits: 2048 })?,
            Shared::P256 => self.pair(KeyPairSpec::Ec(Curve::P256))?,
            Shared::Ed25519 => self.pair(KeyPairSpec::Ec(Curve::Ed25519))?,
        };
        self.keys.insert(which, ids.clone());
        Ok(ids)
    }

    fn round_trip(&mut self, key: Shared, cipher: Cipher, data: &[u8]) -> Result<bool, HsmError> {
        let (private, public) = self.shared(key)?;
        let encrypted = self.hsm.encrypt(&public, &cipher, data)?;
        let cipher = match (cipher, encrypted.generated_iv) {
            (Cipher::AesGcm { aad, tag_len, .. }, Some(iv)) => Cipher::AesGcm { iv: Some(iv), aad, tag_len },
            (Cipher::AesCbc { padding, .. }, Some(iv)) => Cipher::AesCbc { iv: iv.as_slice().try_into().ok(), padding },
            (Cipher::AesCtr { counter_bits, .. }, Some(iv)) => {
                Cipher::AesCtr { counter_block: iv.as_slice().try_into().ok(), counter_bits }
            }
            (cipher, _) => cipher,
        };
        let plaintext = self.hsm.decrypt(&private, &cipher, &encrypted.ciphertext)?;
        Ok(plaintext.as_slice() == data)
    }

    fn sign_verify(&mut self, key: Shared, algorithm: SignatureAlgorithm) -> Result<bool, HsmError> {
        let (private, public) = self.shared(key)?;
        let signature = self.hsm.sign(&private, algorithm, DATA)?;
        self.hsm.verify(&public, algorithm, DATA, &signature)
    }

    fn wrap_unwrap(&mut self, wrapping: Shared, mechanism: WrapMechanism) -> Result<bool, HsmError> {
        let (unwrapping, wrapping) = self.shared(wrapping)?;
        let target = self.extractable();
        self.hsm.generate_secret_key(SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 }, &target)?;
        let wrapped = self.hsm.wrap_key(&wrapping, Some(mechanism), &target.id)?;
        let unwrapped = self.object(KeyUsage::ALL);
        self.hsm.unwrap_key(
            &unwrapping,
            mechanism,
            &wrapped.bytes,
            UnwrapTarget::Secret(SecretKeyAlgorithm::Aes),
            &unwrapped,
        )?;
        // Same key material: both keys give the same ECB block.
        let a = self.hsm.encrypt(&target.id, &Cipher::AesEcb, &DATA[..16])?;
        let b = self.hsm.encrypt(&unwrapped.id, &Cipher::AesEcb, &DATA[..16])?;
        Ok(a.ciphertext == b.ciphertext)
    }

    fn exercise(&mut self, capability: Capability) -> Result<bool, HsmError> {
        use Capability as C;
        let hsm = self.hsm;
        match capability {
            C::AesKeyGen => {
                for bits in [128, 192, 256] {
                    self.secret(SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits })?;
                }
                Ok(true)
            }
            C::GenericSecretKeyGen => self.shared(Shared::Hmac).map(|_| true),
            C::Des3KeyGen => self.secret(SecretKeySpec { algorithm: SecretKeyAlgorithm::Des3, bits: 168 }).map(|_| true),
            C::Des2KeyGen => self.secret(SecretKeySpec { algorithm: SecretKeyAlgorithm::Des2, bits: 112 }).map(|_| true),
            C::RsaKeyGen(2048) => self.shared(Shared::Rsa).map(|_| true),
            C::RsaKeyGen(bits) => self.pair(KeyPairSpec::Rsa { bits }).map(|_| true),
            C::EcKeyGen(Curve::P256) => self.shared(Shared::P256).map(|_| true),
            C::EcKeyGen(Curve::Ed25519) => self.shared(Shared::Ed25519).map(|_| true),
            C::EcKeyGen(curve) => self.pair(KeyPairSpec::Ec(curve)).map(|_| true),
            C::AesGcm => {
                self.round_trip(Shared::Aes, Cipher::AesGcm { iv: None, aad: b"aad".to_vec(), tag_len: 16 }, DATA)
            }
            C::AesCbc => self.round_trip(Shared::Aes, Cipher::AesCbc { iv: None, padding: false }, DATA),
            C::AesCbcPad => self.round_trip(Shared::Aes, Cipher::AesCbc { iv: None, padding: true }, &DATA[..21]),
            C::AesCtr => {
                self.round_trip(Shared::Aes, Cipher::AesCtr { counter_block: None, counter_bits: 32 }, &DATA[..21])
            }
            C::AesEcb => self.round_trip(Shared::Aes, Cipher::AesEcb, DATA),
            C::RsaOaep(hash) => self.round_trip(Shared::Rsa, Cipher::RsaOaep(hash), DATA),
            C::RsaPkcs1Encrypt => self.round_trip(Shared::Rsa, Cipher::RsaPkcs1v15, DATA),
            C::RsaPkcs1Sign(hash) => self.sign_verify(Shared::Rsa, SignatureAlgorithm::RsaPkcs1v15(hash)),
            C::RsaPss(HashAlg::Sha224) => {
                // cryptoki 0.12 cannot name CKM_SHA224_RSA_PKCS_PSS, so kmipd always serves it by hashing first:
                // exercise it the way it is used.
                let (private, public) = self.shared(Shared::Rsa)?;
                let algorithm = SignatureAlgorithm::RsaPss(HashAlg::Sha224, None);
                hsm.sign_verify_hash_first((&private, &public), algorithm, HashAlg::Sha224, DATA)
            }
            C::RsaPss(hash) => self.sign_verify(Shared::Rsa, SignatureAlgorithm::RsaPss(hash, None)),
            C::Ecdsa(hash) => self.sign_verify(Shared::P256, SignatureAlgorithm::Ecdsa(hash)),
            C::EdDsa => self.sign_verify(Shared::Ed25519, SignatureAlgorithm::Ed25519),
            C::RsaPkcs1Raw | C::RsaPssRaw | C::EcdsaRaw => {
                let (key, algorithm) = match capability {
                    C::RsaPkcs1Raw => (Shared::Rsa, SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256)),
                    C::RsaPssRaw => (Shared::Rsa, SignatureAlgorithm::RsaPss(HashAlg::Sha256, None)),
                    _ => (Shared::P256, SignatureAlgorithm::Ecdsa(HashAlg::Sha256)),
                };
                let (private, public) = self.shared(key)?;
                hsm.sign_verify_hash_first((&private, &public), algorithm, HashAlg::Sha256, DATA)
            }
            C::Hmac(_) | C::AesCmac => {
                let (algorithm, key) = match capability {
                    C::Hmac(hash) => (MacAlgorithm::Hmac(hash), Shared::Hmac),
                    _ => (MacAlgorithm::AesCmac, Shared::Aes),
                };
                let (key, _) = self.shared(key)?;
                let mac = hsm.mac(&key, algorithm, DATA)?;
                Ok(hsm.mac_verify(&key, algorithm, DATA, &mac)? && !hsm.mac_verify(&key, algorithm, b"other", &mac)?)
            }
            C::Digest(hash) => Ok(hsm.digest(hash, DATA)?.len() == hash.output_len()),
            C::DigestKey => {
                // The case that matters: a sensitive, non-extractable key. Two digests must agree.
                let (key, _) = self.shared(Shared::Aes)?;
                let first = hsm.digest_key(&key, HashAlg::Sha256)?;
                Ok(first.len() == 32 && hsm.digest_key(&key, HashAlg::Sha256)? == first)
            }
            C::AesCbcEncryptData => {
                // The derived (extractable) key must hold exactly the AES-CBC encryption of the data.
                let (base, _) = self.shared(Shared::Aes)?;
                let iv = [9u8; 16];
                let data = DATA.get(..32).unwrap_or(DATA);
                let derived = NewObject { sensitive: false, ..self.extractable() };
                let derivation = Derivation::AesCbcEncrypt { iv, data: zeroize::Zeroizing::new(data.to_vec()) };
                hsm.derive_key(&base, &derivation, SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 }, &derived)?;
                let expected = hsm.encrypt(&base, &Cipher::AesCbc { iv: Some(iv), padding: false }, data)?;
                Ok(hsm.export_secret_key(&derived.id)?.as_slice() == expected.ciphertext.as_slice())
            }
            C::Random => Ok(hsm.random(32)?.len() == 32),
            C::SeedRandom => hsm.seed_random(b"kmipd probe seed").map(|()| true),
            C::AesKeyWrap => self.wrap_unwrap(Shared::Aes, WrapMechanism::AesKeyWrap),
            C::AesKeyWrapPad => self.wrap_unwrap(Shared::Aes, WrapMechanism::AesKeyWrapPad),
            C::RsaOaepWrap => self.wrap_unwrap(Shared::Rsa, WrapMechanism::RsaOaep(HashAlg::Sha1)),
            C::Unwrap => self.wrap_unwrap(Shared::Aes, WrapMechanism::AesKeyWrap),
            C::CreateObject => {
                let object = self.object(KeyUsage::ALL);
                hsm.import_secret_key(SecretKeyAlgorithm::Aes, &[0x42; 16], &object)?;
                Ok(hsm.object_info(&object.id)?.bits == Some(128))
            }
            C::SetAttribute => {
                let (key, _) = self.shared(Shared::Aes)?;
                hsm.set_attributes(&key, &AttributeUpdate { label: Some("kmipd probe renamed".into()), usage: None })?;
                Ok(hsm.object_info(&key)?.label == "kmipd probe renamed")
            }
            C::WrapPrivateKey => {
                let (wrapping, _) = self.shared(Shared::Aes)?;
                let private = self.extractable();
                let public = self.object(KeyUsage::ALL);
                hsm.generate_key_pair(KeyPairSpec::Ec(Curve::P256), &private, &public)?;
                Ok(!hsm.wrap_key(&wrapping, Some(WrapMechanism::AesKeyWrapPad), &private.id)?.bytes.is_empty())
            }
        }
    }

    fn cleanup(&mut self) {
        for id in self.created.drain(..) {
            // Failed generations leave ids without objects; session objects vanish with the process anyway.
            let _ = self.hsm.destroy(&id);
        }
    }
}
