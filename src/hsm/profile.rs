//! HSM profiles: what a given HSM can do and how kmipd must drive it (`hsm-profiles/*.toml`).
//!
//! `hsm-profiles/README.md` documents every field; [`Pkcs11Hsm`](super::Pkcs11Hsm) obeys each one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Curve, HashAlg, HsmError, HsmResult};

/// A parsed profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Human-readable name of the HSM.
    pub name: String,
    /// Whether this profile has been verified against the real device (`kmipd hsm probe` passed).
    #[serde(default)]
    pub tested: bool,
    /// Module loading.
    pub module: ModuleSection,
    /// Token selection.
    #[serde(default)]
    pub token: TokenSection,
    /// Login.
    #[serde(default)]
    pub login: LoginSection,
    /// Session pool behaviour.
    #[serde(default)]
    pub sessions: SessionSection,
    /// Object naming and templates.
    #[serde(default)]
    pub objects: ObjectSection,
    /// AES-GCM specifics.
    #[serde(default)]
    pub aes_gcm: GcmSection,
    /// Mechanism availability and preferences.
    pub mechanisms: MechanismSection,
}

/// `[module]`: the PKCS#11 library.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSection {
    /// Path of the PKCS#11 shared library.
    pub path: PathBuf,
    /// Environment variables to set before `C_Initialize` unless already set (e.g. `ChrystokiConfigurationPath`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// `[token]`: which token to use. Slot numbers are never used: they move (SoftHSM reassigns them on init).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSection {
    /// Token label (`CK_TOKEN_INFO.label`, trailing blanks ignored).
    pub label: Option<String>,
    /// Token serial number; wins over the label when both are given.
    pub serial: Option<String>,
}

/// How the configured secret becomes the PIN passed to `C_Login`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinFormat {
    /// The secret is the PIN.
    #[default]
    Plain,
    /// `<user>:<secret>` (AWS CloudHSM crypto users).
    UserColonPassword,
    /// Four hex digits of the authentication key id followed by the password (YubiHSM 2).
    KeyIdPassword,
}

/// `[login]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSection {
    /// PIN format.
    #[serde(default)]
    pub pin_format: PinFormat,
    /// The user name for `user-colon-password`.
    pub user: Option<String>,
    /// The authentication key id for `key-id-password`.
    pub key_id: Option<u16>,
    /// Default PIN file (overridden by configuration or command line).
    pub pin_file: Option<PathBuf>,
    /// Default environment variable holding the PIN.
    pub pin_env: Option<String>,
}

/// `[sessions]`: the pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSection {
    /// Maximum number of pooled sessions (the anchor session comes on top). Also capped by the token's
    /// `ulMaxSessionCount` minus one.
    pub max: usize,
    /// How long a caller waits for a free session before failing.
    pub checkout_timeout_ms: u64,
    /// A session idle for longer than this is checked with `C_GetSessionInfo` before use and replaced if dead
    /// (HSMs that expire idle sessions, e.g. Utimaco after 15 minutes). 0 disables the check.
    pub idle_check_secs: u64,
    /// Extra `CKR_*` codes on which idempotent calls are retried after a pool reset (throttling HSMs).
    pub retry_codes: Vec<String>,
    /// How many times a call is retried after a recoverable error.
    pub retry_attempts: u32,
    /// Backoff before the first retry; doubled for each further one.
    pub retry_backoff_ms: u64,
}

impl Default for SessionSection {
    fn default() -> Self {
        SessionSection {
            max: 8,
            checkout_timeout_ms: 10_000,
            idle_check_secs: 0,
            retry_codes: Vec::new(),
            retry_attempts: 2,
            retry_backoff_ms: 20,
        }
    }
}

/// How a caller-given id becomes a `CKA_ID`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdStrategy {
    /// `id_prefix || caller id`; kmipd's objects are those whose `CKA_ID` starts with the prefix.
    #[default]
    Prefixed,
    /// The first `max_id_bytes` bytes of SHA-256(caller id) (HSMs with tiny ids, e.g. YubiHSM's 16 bits);
    /// the token or partition is assumed to be kmipd's alone.
    Hashed,
}

/// `[objects]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectSection {
    /// Id strategy.
    pub id_strategy: IdStrategy,
    /// Prefix of kmipd's `CKA_ID`s (`prefixed` strategy).
    pub id_prefix: String,
    /// Longest `CKA_ID` the HSM accepts.
    pub max_id_bytes: usize,
    /// Longest `CKA_LABEL` the HSM accepts; longer labels are cut at a character boundary.
    pub max_label_bytes: usize,
    /// Attributes never to put in a template (e.g. `CKA_SENSITIVE` on CloudHSM), by `CKA_*` name.
    pub omit_attributes: Vec<String>,
    /// Whether `C_CreateObject` may carry plaintext secret material; when false, imports go through a
    /// session transport key and `C_UnwrapKey`.
    pub plaintext_import: bool,
    /// Whether the HSM lets private keys be wrapped out at all.
    pub wrap_private_keys: bool,
}

impl Default for ObjectSection {
    fn default() -> Self {
        ObjectSection {
            id_strategy: IdStrategy::Prefixed,
            id_prefix: "kmipd:".into(),
            max_id_bytes: 64,
            max_label_bytes: 128,
            omit_attributes: Vec::new(),
            plaintext_import: true,
            wrap_private_keys: true,
        }
    }
}

/// Where the AES-GCM IV comes from on encryption.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IvMode {
    /// The caller (or kmipd, from the HSM's RNG) supplies the IV.
    #[default]
    Caller,
    /// The HSM generates it and writes it into the mechanism parameter's IV buffer (Luna in FIPS mode).
    HsmParam,
    /// The HSM generates it and appends it to the ciphertext (AWS CloudHSM).
    HsmAppended,
    /// An all-zero IV asks the HSM to generate one, returned in the parameter (ProtectServer).
    ZeroMeansGenerate,
}

/// `[aes_gcm]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GcmSection {
    /// IV mode.
    pub iv_mode: IvMode,
    /// IV length in bytes kmipd uses when it chooses (12 or 16).
    pub iv_len: usize,
    /// Largest plaintext or ciphertext per call (0 = unlimited; CloudHSM: 16 KiB).
    pub max_data_bytes: usize,
}

impl Default for GcmSection {
    fn default() -> Self {
        GcmSection { iv_mode: IvMode::Caller, iv_len: 12, max_data_bytes: 0 }
    }
}

/// `[mechanisms]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MechanismSection {
    /// The capabilities the HSM offers, by [`Capability`] name. Anything not listed is refused (or served by a
    /// listed fallback) without calling the HSM.
    pub capabilities: Vec<String>,
    /// Which mechanism number implements AES Key Wrap with Padding: `CKM_AES_KEY_WRAP_PAD` (0x210A, SoftHSM,
    /// Luna) or `CKM_AES_KEY_WRAP_KWP` (0x210B, PKCS#11 3.0 numbering).
    #[serde(default = "default_kwp")]
    pub kwp_mechanism: String,
    /// Wrapping mechanisms to try in order when the caller does not name one: `aes-kwp`, `aes-kw`.
    #[serde(default = "default_wrap_preference")]
    pub wrap_preference: Vec<String>,
    /// When non-zero, AES-CBC/CTR/ECB data is fed to the HSM in multi-part calls of at most this many bytes
    /// (SmartCard-HSM: 1024).
    #[serde(default)]
    pub cbc_chunk_bytes: usize,
}

fn default_kwp() -> String {
    "CKM_AES_KEY_WRAP_PAD".into()
}

fn default_wrap_preference() -> Vec<String> {
    vec!["aes-kwp".into(), "aes-kw".into()]
}

/// One thing kmipd relies on an HSM for. Names are what profiles list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// AES key generation (128/192/256).
    AesKeyGen,
    /// Generic secret (HMAC key) generation.
    GenericSecretKeyGen,
    /// Three-key Triple DES key generation (`CKM_DES3_KEY_GEN`).
    Des3KeyGen,
    /// Two-key Triple DES key generation (`CKM_DES2_KEY_GEN`).
    Des2KeyGen,
    /// RSA key-pair generation of this size.
    RsaKeyGen(u32),
    /// EC or Ed25519 key-pair generation on this curve.
    EcKeyGen(Curve),
    /// AES-GCM.
    AesGcm,
    /// AES-CBC without padding.
    AesCbc,
    /// AES-CBC with PKCS#7 padding.
    AesCbcPad,
    /// AES-CTR.
    AesCtr,
    /// AES-ECB.
    AesEcb,
    /// RSA-OAEP encryption with this hash.
    RsaOaep(HashAlg),
    /// RSA PKCS#1 v1.5 encryption.
    RsaPkcs1Encrypt,
    /// RSA PKCS#1 v1.5 signing with hashing inside the HSM.
    RsaPkcs1Sign(HashAlg),
    /// Raw `CKM_RSA_PKCS` signing over a DigestInfo built outside (fallback for missing hash mechanisms).
    RsaPkcs1Raw,
    /// RSA-PSS with hashing inside the HSM.
    RsaPss(HashAlg),
    /// Raw `CKM_RSA_PKCS_PSS` over a hash computed outside.
    RsaPssRaw,
    /// ECDSA with hashing inside the HSM.
    Ecdsa(HashAlg),
    /// Raw `CKM_ECDSA` over a hash computed outside.
    EcdsaRaw,
    /// EdDSA (Ed25519).
    EdDsa,
    /// HMAC with this hash.
    Hmac(HashAlg),
    /// AES-CMAC.
    AesCmac,
    /// Digest with this hash.
    Digest(HashAlg),
    /// `C_DigestKey`: hashing the value of a sensitive, non-extractable secret key inside the HSM (with the
    /// listed `digest-<hash>` capabilities), for the KMIP Digest of keys that never leave it. Measured on
    /// SoftHSM 2.6.1: works for AES and generic secrets whatever their sensitivity, with every SHA-1/SHA-2 hash.
    /// HSMs that answer `CKR_KEY_INDIGESTIBLE` for sensitive keys must not list it.
    DigestKey,
    /// `C_DeriveKey` with `CKM_AES_CBC_ENCRYPT_DATA` (the derived value is an AES-CBC encryption under the base).
    AesCbcEncryptData,
    /// `C_GenerateRandom`.
    Random,
    /// `C_SeedRandom`.
    SeedRandom,
    /// AES Key Wrap (RFC 3394).
    AesKeyWrap,
    /// AES Key Wrap with Padding (RFC 5649).
    AesKeyWrapPad,
    /// RSA-OAEP key wrapping (with the hashes allowed by `RsaOaep`).
    RsaOaepWrap,
    /// `C_CreateObject` of keys (import).
    CreateObject,
    /// `C_UnwrapKey` into a new object.
    Unwrap,
    /// `C_SetAttributeValue` (label and usage changes).
    SetAttribute,
    /// Wrapping an extractable private key out (PKCS#8 under AES-KWP).
    WrapPrivateKey,
}

impl Capability {
    /// Every capability, in the order the probe prints them.
    pub fn all() -> Vec<Capability> {
        use Capability as C;
        let mut all = vec![C::AesKeyGen, C::GenericSecretKeyGen, C::Des3KeyGen, C::Des2KeyGen];
        all.extend([2048, 3072, 4096].map(C::RsaKeyGen));
        all.extend(Curve::ALL.map(C::EcKeyGen));
        all.extend([C::AesGcm, C::AesCbc, C::AesCbcPad, C::AesCtr, C::AesEcb]);
        all.extend(HashAlg::ALL.map(C::RsaOaep));
        all.push(C::RsaPkcs1Encrypt);
        all.extend(HashAlg::ALL.map(C::RsaPkcs1Sign));
        all.push(C::RsaPkcs1Raw);
        all.extend(HashAlg::ALL.map(C::RsaPss));
        all.push(C::RsaPssRaw);
        all.extend(HashAlg::ALL.map(C::Ecdsa));
        all.extend([C::EcdsaRaw, C::EdDsa]);
        all.extend(HashAlg::ALL.map(C::Hmac));
        all.push(C::AesCmac);
        all.extend(HashAlg::ALL.map(C::Digest));
        all.extend([C::DigestKey, C::AesCbcEncryptData]);
        all.extend([
            C::Random,
            C::SeedRandom,
            C::AesKeyWrap,
            C::AesKeyWrapPad,
            C::RsaOaepWrap,
            C::CreateObject,
            C::Unwrap,
            C::SetAttribute,
            C::WrapPrivateKey,
        ]);
        all
    }

    /// The profile name of this capability, e.g. `rsa-oaep-sha256`.
    pub fn name(self) -> String {
        use Capability as C;
        match self {
            C::AesKeyGen => "aes-keygen".into(),
            C::GenericSecretKeyGen => "generic-secret-keygen".into(),
            C::Des3KeyGen => "des3-keygen".into(),
            C::Des2KeyGen => "des2-keygen".into(),
            C::RsaKeyGen(bits) => format!("rsa-keygen-{bits}"),
            C::EcKeyGen(Curve::P256) => "ec-keygen-p256".into(),
            C::EcKeyGen(Curve::P384) => "ec-keygen-p384".into(),
            C::EcKeyGen(Curve::P521) => "ec-keygen-p521".into(),
            C::EcKeyGen(Curve::Secp256k1) => "ec-keygen-secp256k1".into(),
            C::EcKeyGen(Curve::Ed25519) => "ed25519-keygen".into(),
            C::AesGcm => "aes-gcm".into(),
            C::AesCbc => "aes-cbc".into(),
            C::AesCbcPad => "aes-cbc-pad".into(),
            C::AesCtr => "aes-ctr".into(),
            C::AesEcb => "aes-ecb".into(),
            C::RsaOaep(h) => format!("rsa-oaep-{}", h.name()),
            C::RsaPkcs1Encrypt => "rsa-pkcs1-encrypt".into(),
            C::RsaPkcs1Sign(h) => format!("rsa-pkcs1-{}", h.name()),
            C::RsaPkcs1Raw => "rsa-pkcs1-raw".into(),
            C::RsaPss(h) => format!("rsa-pss-{}", h.name()),
            C::RsaPssRaw => "rsa-pss-raw".into(),
            C::Ecdsa(h) => format!("ecdsa-{}", h.name()),
            C::EcdsaRaw => "ecdsa-raw".into(),
            C::EdDsa => "eddsa".into(),
            C::Hmac(h) => format!("hmac-{}", h.name()),
            C::AesCmac => "aes-cmac".into(),
            C::Digest(h) => format!("digest-{}", h.name()),
            C::DigestKey => "digest-key".into(),
            C::AesCbcEncryptData => "aes-cbc-encrypt-data".into(),
            C::Random => "random".into(),
            C::SeedRandom => "seed-random".into(),
            C::AesKeyWrap => "aes-kw".into(),
            C::AesKeyWrapPad => "aes-kwp".into(),
            C::RsaOaepWrap => "rsa-oaep-wrap".into(),
            C::CreateObject => "create-object".into(),
            C::Unwrap => "unwrap".into(),
            C::SetAttribute => "set-attribute".into(),
            C::WrapPrivateKey => "wrap-private-key".into(),
        }
    }

    /// The capability with this profile name.
    pub fn from_name(name: &str) -> Option<Capability> {
        Capability::all().into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Profile {
    /// Reads and validates a profile file.
    pub fn load(path: &Path) -> HsmResult<Profile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| HsmError::Config(format!("cannot read profile {}: {e}", path.display())))?;
        Profile::parse(&text).map_err(|e| HsmError::Config(format!("profile {}: {e}", path.display())))
    }

    /// Parses and validates profile text.
    pub fn parse(text: &str) -> Result<Profile, String> {
        let profile: Profile = toml::from_str(text).map_err(|e| e.to_string())?;
        profile.validate()?;
        Ok(profile)
    }

    fn validate(&self) -> Result<(), String> {
        for name in &self.mechanisms.capabilities {
            if Capability::from_name(name).is_none() {
                return Err(format!("unknown capability {name:?}"));
            }
        }
        for name in &self.mechanisms.wrap_preference {
            if !matches!(name.as_str(), "aes-kw" | "aes-kwp") {
                return Err(format!("unknown wrap mechanism {name:?} (aes-kw, aes-kwp)"));
            }
        }
        if !matches!(self.mechanisms.kwp_mechanism.as_str(), "CKM_AES_KEY_WRAP_PAD" | "CKM_AES_KEY_WRAP_KWP") {
            return Err("kwp_mechanism must be CKM_AES_KEY_WRAP_PAD or CKM_AES_KEY_WRAP_KWP".into());
        }
        for name in &self.objects.omit_attributes {
            if super::templates::attribute_by_name(name).is_none() {
                return Err(format!("omit_attributes: unknown or non-omittable attribute {name:?}"));
            }
        }
        for code in &self.sessions.retry_codes {
            if !code.starts_with("CKR_") {
                return Err(format!("retry_codes: {code:?} is not a CKR_* name"));
            }
        }
        if !matches!(self.aes_gcm.iv_len, 12 | 16) {
            return Err("aes_gcm.iv_len must be 12 or 16".into());
        }
        if self.sessions.max == 0 {
            return Err("sessions.max must be at least 1".into());
        }
        let prefix_len = self.objects.id_prefix.len();
        if self.objects.id_strategy == IdStrategy::Prefixed && prefix_len >= self.objects.max_id_bytes {
            return Err("objects.id_prefix leaves no room under objects.max_id_bytes".into());
        }
        if self.objects.id_strategy == IdStrategy::Hashed && !(1..=32).contains(&self.objects.max_id_bytes) {
            return Err("objects.max_id_bytes must be 1..=32 with the hashed id strategy".into());
        }
        Ok(())
    }

    /// Whether the profile lists `capability`.
    pub fn supports(&self, capability: Capability) -> bool {
        let name = capability.name();
        self.mechanisms.capabilities.contains(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        name = "t"
        [module]
        path = "/x.so"
        [mechanisms]
        capabilities = ["aes-keygen", "rsa-oaep-sha1"]
    "#;

    #[test]
    fn capability_names_round_trip() {
        for cap in Capability::all() {
            assert_eq!(Capability::from_name(&cap.name()), Some(cap));
        }
    }

    #[test]
    fn minimal_profile_gets_defaults() {
        let p = Profile::parse(MINIMAL).unwrap();
        assert!(p.supports(Capability::AesKeyGen));
        assert!(!p.supports(Capability::RsaOaep(HashAlg::Sha256)));
        assert_eq!(p.objects.id_prefix, "kmipd:");
        assert_eq!(p.sessions.max, 8);
    }

    #[test]
    fn every_shipped_profile_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("hsm-profiles");
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let profile = Profile::load(&path).unwrap();
                let softhsm = path.ends_with("softhsm2.toml");
                assert_eq!(profile.tested, softhsm, "{} must not claim hardware testing", path.display());
                count += 1;
            }
        }
        assert_eq!(count, 7);
    }

    #[test]
    fn unknown_capability_is_rejected() {
        let text = MINIMAL.replace("rsa-oaep-sha1", "rsa-oaep-md5");
        assert!(Profile::parse(&text).unwrap_err().contains("rsa-oaep-md5"));
    }
}
