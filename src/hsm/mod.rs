//! The HSM layer: a small KMIP-neutral [`Hsm`] trait and its PKCS#11 implementation on `cryptoki`.
//!
//! Objects are addressed by a caller-given id (the KMIP layer derives it from the UID); the implementation turns
//! it into a `CKA_ID` according to the profile's id strategy. Every call is synchronous and may block on the
//! device: async callers run it in `tokio::task::spawn_blocking` (DESIGN.md invariant 5).
//!
//! - [`profile`]: what a given HSM can do and how it must be driven (`hsm-profiles/*.toml`).
//! - [`module`]: loading and initializing a PKCS#11 module once per process, token selection, raw mechanism list.
//! - [`pool`]: the bounded session pool with its logged-in anchor session and recovery.
//! - [`pkcs11`]: [`Pkcs11Hsm`], the implementation of [`Hsm`]; `mechanisms` and `templates` hold its mapping
//!   onto cryptoki mechanisms and its object templates.
//! - [`probe`]: exercising each capability a profile promises (`kmipd hsm probe`).
//! - [`inventory`]: the `store::HsmRef` convention of records ([`hsm_ref`], [`hsm_kind`]) and the inventory the
//!   start-up reconciler walks ([`Inventory`]).

mod error;
pub mod inventory;
mod mechanisms;
pub mod module;
pub mod pkcs11;
pub mod pool;
pub mod probe;
pub mod profile;
mod templates;

pub use error::{ckr_name, ErrorClass, HsmError, HsmResult};
pub use inventory::{hsm_kind, hsm_ref, Inventory, ENVELOPE_KEY_ID};
pub use pkcs11::{HsmConfig, PinSource, Pkcs11Hsm};
pub use profile::{Capability, Profile};

use zeroize::Zeroizing;

/// Secret bytes (key material, plaintext) that are wiped when dropped.
pub type SecretBytes = Zeroizing<Vec<u8>>;

/// A hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-1 (legacy; still needed for RSA-OAEP on SoftHSM).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// Every hash, weakest first.
    pub const ALL: [HashAlg; 5] = [HashAlg::Sha1, HashAlg::Sha224, HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512];

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 => 28,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// Lower-case name used in profiles and capability names (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "sha1",
            HashAlg::Sha224 => "sha224",
            HashAlg::Sha256 => "sha256",
            HashAlg::Sha384 => "sha384",
            HashAlg::Sha512 => "sha512",
        }
    }
}

/// Algorithm of a secret (symmetric) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKeyAlgorithm {
    /// AES; 128, 192 or 256 bits.
    Aes,
    /// A generic secret for HMAC (any hash); 8..=4096 bits in whole bytes.
    GenericSecret,
    /// Three-key Triple DES: 24 bytes with parity bits, 168 effective bits (KMIP's Cryptographic Length).
    Des3,
    /// Two-key Triple DES (KMIP's DES3 of length 112): 16 bytes with parity bits.
    Des2,
}

/// A secret key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretKeySpec {
    /// The algorithm.
    pub algorithm: SecretKeyAlgorithm,
    /// Key length in bits.
    pub bits: u32,
}

/// An elliptic curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
    /// secp256k1 (SEC 2), a Koblitz curve: not NIST, but a KMIP Recommended Curve that PKCS#11
    /// modules built on OpenSSL take as an ordinary `CKK_EC` key.
    Secp256k1,
    /// Ed25519 (RFC 8032), an Edwards curve.
    Ed25519,
}

impl Curve {
    /// Every curve kmipd knows.
    pub const ALL: [Curve; 5] = [Curve::P256, Curve::P384, Curve::P521, Curve::Secp256k1, Curve::Ed25519];

    /// DER encoding of the curve's object identifier (the `CKA_EC_PARAMS` value).
    pub fn der_oid(self) -> &'static [u8] {
        match self {
            Curve::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            Curve::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
            Curve::P521 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23],
            Curve::Secp256k1 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a],
            Curve::Ed25519 => &[0x06, 0x03, 0x2b, 0x65, 0x70],
        }
    }

    /// Size of the field (and of a private scalar) in bits.
    pub fn bits(self) -> u32 {
        match self {
            Curve::P256 | Curve::Secp256k1 | Curve::Ed25519 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }
}

/// A key pair to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPairSpec {
    /// RSA with the given modulus length (2048, 3072, 4096) and public exponent 65537.
    Rsa {
        /// Modulus length in bits.
        bits: u32,
    },
    /// An elliptic-curve key pair (ECDSA curves or Ed25519).
    Ec(Curve),
}

/// Which operations a key may be used for; mapped one to one onto the PKCS#11 usage attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyUsage {
    /// `CKA_ENCRYPT`.
    pub encrypt: bool,
    /// `CKA_DECRYPT`.
    pub decrypt: bool,
    /// `CKA_SIGN` (also MAC generation).
    pub sign: bool,
    /// `CKA_VERIFY` (also MAC verification).
    pub verify: bool,
    /// `CKA_WRAP`.
    pub wrap: bool,
    /// `CKA_UNWRAP`.
    pub unwrap: bool,
    /// `CKA_DERIVE`.
    pub derive: bool,
}

impl KeyUsage {
    /// Every usage allowed.
    pub const ALL: KeyUsage =
        KeyUsage { encrypt: true, decrypt: true, sign: true, verify: true, wrap: true, unwrap: true, derive: true };
}

/// Whether the new object outlives the session pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// A token object (`CKA_TOKEN=true`): what kmipd stores.
    Token,
    /// A session object (`CKA_TOKEN=false`), gone when the process ends: probes and throwaway keys.
    Session,
}

/// Identity and policy of an object to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// Caller-given id (the KMIP layer derives it from the UID); becomes `CKA_ID` per the profile's id strategy.
    pub id: Vec<u8>,
    /// `CKA_LABEL`; truncated at a character boundary to the profile's label limit. Ignored under the `hashed`
    /// id strategy, where the label is the caller id (so that reconciliation can recover it).
    pub label: String,
    /// Usage flags. For key pairs, the private half gets decrypt/sign/unwrap/derive and the public half
    /// encrypt/verify/wrap of these.
    pub usage: KeyUsage,
    /// `CKA_SENSITIVE` of secret and private keys (invariant 1: true unless explicitly asked otherwise).
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE` of secret and private keys (default false).
    pub extractable: bool,
    /// Token or session object.
    pub persistence: Persistence,
}

impl NewObject {
    /// A sensitive, non-extractable token object with the given usage.
    pub fn token(id: impl Into<Vec<u8>>, label: impl Into<String>, usage: KeyUsage) -> Self {
        NewObject {
            id: id.into(),
            label: label.into(),
            usage,
            sensitive: true,
            extractable: false,
            persistence: Persistence::Token,
        }
    }

    /// Same policy, but a session object.
    pub fn session(id: impl Into<Vec<u8>>, label: impl Into<String>, usage: KeyUsage) -> Self {
        NewObject { persistence: Persistence::Session, ..NewObject::token(id, label, usage) }
    }
}

/// Public half of a key pair, as returned by generation and [`Hsm::public_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKeyMaterial {
    /// RSA public key.
    Rsa {
        /// Big-endian modulus.
        modulus: Vec<u8>,
        /// Big-endian public exponent.
        public_exponent: Vec<u8>,
    },
    /// EC or Edwards public key.
    Ec {
        /// The curve.
        curve: Curve,
        /// The point: uncompressed SEC1 (`04||x||y`) for ECDSA curves, the 32-byte encoding for Ed25519.
        point: Vec<u8>,
    },
}

/// Private key material to import. Wiped on drop.
pub enum PrivateKeyMaterial {
    /// RSA private key with its CRT components (all big-endian).
    Rsa {
        /// Modulus n.
        modulus: Vec<u8>,
        /// Public exponent e.
        public_exponent: Vec<u8>,
        /// Private exponent d.
        private_exponent: SecretBytes,
        /// Prime p.
        prime_1: SecretBytes,
        /// Prime q.
        prime_2: SecretBytes,
        /// d mod (p-1).
        exponent_1: SecretBytes,
        /// d mod (q-1).
        exponent_2: SecretBytes,
        /// q^-1 mod p.
        coefficient: SecretBytes,
    },
    /// EC private scalar (big-endian) or Ed25519 seed (32 bytes).
    Ec {
        /// The curve.
        curve: Curve,
        /// The private value.
        value: SecretBytes,
    },
    /// DSA private key with its domain parameters (all big-endian).
    Dsa {
        /// Prime p.
        prime: Vec<u8>,
        /// Subprime q.
        subprime: Vec<u8>,
        /// Base g.
        base: Vec<u8>,
        /// Private value x.
        value: SecretBytes,
    },
}

impl std::fmt::Debug for PrivateKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrivateKeyMaterial::Rsa { modulus, .. } => {
                f.debug_struct("Rsa").field("bits", &(modulus.len() * 8)).finish_non_exhaustive()
            }
            PrivateKeyMaterial::Ec { curve, .. } => f.debug_struct("Ec").field("curve", curve).finish_non_exhaustive(),
            PrivateKeyMaterial::Dsa { prime, .. } => {
                f.debug_struct("Dsa").field("bits", &(prime.len() * 8)).finish_non_exhaustive()
            }
        }
    }
}

/// What kind of key an unwrap produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnwrapTarget {
    /// A secret key of this algorithm.
    Secret(SecretKeyAlgorithm),
    /// An RSA private key (PKCS#8 inside the wrapping).
    RsaPrivate,
    /// An EC private key on this curve (PKCS#8 inside the wrapping).
    EcPrivate(Curve),
    /// A DSA private key (PKCS#8 inside the wrapping).
    DsaPrivate,
}

/// A symmetric or asymmetric encryption scheme with its parameters.
#[derive(Clone, PartialEq, Eq)]
pub enum Cipher {
    /// AES-GCM. The output of encryption is `ciphertext || tag`, the input of decryption likewise.
    AesGcm {
        /// 12 or 16 bytes; `None` on encryption lets kmipd or the HSM choose (per the profile's IV mode).
        iv: Option<Vec<u8>>,
        /// Additional authenticated data.
        aad: Vec<u8>,
        /// Tag length in bytes (12..=16).
        tag_len: usize,
    },
    /// AES-CBC; with PKCS#7 padding when `padding` is set, otherwise the data must be whole blocks.
    AesCbc {
        /// 16-byte IV; `None` on encryption lets kmipd choose a random one.
        iv: Option<[u8; 16]>,
        /// PKCS#7 padding.
        padding: bool,
    },
    /// AES-CTR with a 16-byte initial counter block, the low `counter_bits` bits of which count.
    AesCtr {
        /// Initial counter block; `None` on encryption lets kmipd choose a random nonce with a zero counter.
        counter_block: Option<[u8; 16]>,
        /// How many low bits of the block are the counter (1..=128).
        counter_bits: u32,
    },
    /// AES-ECB, whole blocks only.
    AesEcb,
    /// RSA-OAEP with MGF1 over the same hash and an empty label.
    RsaOaep(HashAlg),
    /// RSA PKCS#1 v1.5 encryption.
    RsaPkcs1v15,
}

impl std::fmt::Debug for Cipher {
    // AAD and IVs are not secret, but keep Debug output short and uniform.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cipher::AesGcm { tag_len, .. } => write!(f, "AesGcm(tag_len={tag_len})"),
            Cipher::AesCbc { padding, .. } => write!(f, "AesCbc(padding={padding})"),
            Cipher::AesCtr { counter_bits, .. } => write!(f, "AesCtr(counter_bits={counter_bits})"),
            Cipher::AesEcb => write!(f, "AesEcb"),
            Cipher::RsaOaep(hash) => write!(f, "RsaOaep({hash:?})"),
            Cipher::RsaPkcs1v15 => write!(f, "RsaPkcs1v15"),
        }
    }
}

/// Result of an encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The ciphertext (with the GCM tag appended).
    pub ciphertext: Vec<u8>,
    /// The IV or counter block that was used, when the caller did not give one.
    pub generated_iv: Option<Vec<u8>>,
}

/// How a new secret key is derived from a base key inside the HSM (`C_DeriveKey`).
#[derive(Clone, PartialEq, Eq)]
pub enum Derivation {
    /// `CKM_AES_CBC_ENCRYPT_DATA`: the new key's value is the AES-CBC encryption of `data` (whole blocks) under
    /// the base key, cut to the new key's length.
    AesCbcEncrypt {
        /// The IV.
        iv: [u8; 16],
        /// The data encrypted; may be secret input keying material.
        data: SecretBytes,
    },
}

impl std::fmt::Debug for Derivation {
    // The data may be secret: only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Derivation::AesCbcEncrypt { data, .. } => write!(f, "AesCbcEncrypt({} bytes)", data.len()),
        }
    }
}

/// A signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 over the given hash.
    RsaPkcs1v15(HashAlg),
    /// RSASSA-PSS with MGF1 over the same hash; the salt is this many bytes, or as long as the hash when `None`.
    RsaPss(HashAlg, Option<u32>),
    /// ECDSA over the given hash; signatures are raw `r || s` (PKCS#11 encoding).
    Ecdsa(HashAlg),
    /// Pure Ed25519 (RFC 8032).
    Ed25519,
}

/// A MAC scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacAlgorithm {
    /// HMAC over the given hash, full-length output.
    Hmac(HashAlg),
    /// AES-CMAC, 16-byte output.
    AesCmac,
}

/// A key-wrapping scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapMechanism {
    /// AES Key Wrap (RFC 3394); the wrapped key must be a multiple of 8 bytes.
    AesKeyWrap,
    /// AES Key Wrap with Padding (RFC 5649).
    AesKeyWrapPad,
    /// RSA-OAEP with MGF1 over the same hash (secret keys only).
    RsaOaep(HashAlg),
    /// RSA PKCS#1 v1.5 encryption (secret keys only; legacy, for clients that ask for it).
    RsaPkcs1v15,
}

/// A wrapped key and how it was wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// The mechanism that was used.
    pub mechanism: WrapMechanism,
    /// The wrapped bytes.
    pub bytes: Vec<u8>,
}

/// The class of an HSM object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A secret (symmetric) key.
    SecretKey,
    /// A private key.
    PrivateKey,
    /// A public key.
    PublicKey,
    /// Anything else (data, certificates…).
    Other,
}

/// The key type of an HSM object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// AES.
    Aes,
    /// Generic secret (HMAC).
    GenericSecret,
    /// Three-key Triple DES.
    Des3,
    /// Two-key Triple DES.
    Des2,
    /// RSA.
    Rsa,
    /// EC (ECDSA curves).
    Ec,
    /// Edwards curve (Ed25519).
    EcEdwards,
    /// DSA.
    Dsa,
    /// Anything else.
    Other,
}

/// Security-relevant facts about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The object's class.
    pub kind: ObjectKind,
    /// The object's key type.
    pub key_type: KeyType,
    /// `CKA_LABEL`.
    pub label: String,
    /// Key length in bits when the module tells (`CKA_VALUE_LEN`, `CKA_MODULUS_BITS`, curve size, DSA prime size).
    pub bits: Option<u32>,
    /// `CKA_TOKEN`.
    pub token: bool,
    /// `CKA_SENSITIVE` (secret and private keys).
    pub sensitive: Option<bool>,
    /// `CKA_EXTRACTABLE` (secret and private keys).
    pub extractable: Option<bool>,
    /// `CKA_ALWAYS_SENSITIVE`.
    pub always_sensitive: Option<bool>,
    /// `CKA_NEVER_EXTRACTABLE`.
    pub never_extractable: Option<bool>,
    /// `CKA_LOCAL`: generated inside the HSM.
    pub local: Option<bool>,
    /// Usage flags the object carries.
    pub usage: KeyUsage,
}

/// One of kmipd's objects found on the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    /// The raw `CKA_ID`.
    pub cka_id: Vec<u8>,
    /// The caller's id (the `id` of the [`NewObject`] it was made from): the `CKA_ID` without the prefix under the
    /// `prefixed` id strategy; under `hashed`, the `CKA_LABEL` when hashing it gives the `CKA_ID` back. `None`
    /// when it cannot be recovered (a foreign object, or a label changed behind kmipd's back).
    pub caller_id: Option<Vec<u8>>,
    /// `CKA_LABEL`.
    pub label: String,
    /// The object's class.
    pub kind: ObjectKind,
}

/// Attribute changes for [`Hsm::set_attributes`]; `None` leaves an attribute alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeUpdate {
    /// New `CKA_LABEL`; ignored under the `hashed` id strategy, where the label is the caller id.
    pub label: Option<String>,
    /// New usage flags (only the flags that apply to the object's class are written).
    pub usage: Option<KeyUsage>,
}

/// Direction of a multi-part cipher operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Encryption.
    Encrypt,
    /// Decryption.
    Decrypt,
}

/// A multi-part (init/update/final) cipher operation holding one pooled session until it ends.
pub trait CipherStream: Send {
    /// Feeds more input, returns whatever output the module releases now.
    fn update(&mut self, data: &[u8]) -> HsmResult<SecretBytes>;
    /// Ends the operation and returns the remaining output.
    fn finish(self: Box<Self>) -> HsmResult<SecretBytes>;
}

/// What kmipd needs from an HSM, in KMIP-neutral terms. Every method may block.
pub trait Hsm: Send + Sync {
    /// Generates a secret key inside the HSM.
    fn generate_secret_key(&self, spec: SecretKeySpec, object: &NewObject) -> HsmResult<()>;

    /// Generates a key pair inside the HSM and returns its public half.
    fn generate_key_pair(
        &self,
        spec: KeyPairSpec,
        private: &NewObject,
        public: &NewObject,
    ) -> HsmResult<PublicKeyMaterial>;

    /// Imports secret key material (by `C_CreateObject`, or through a transport key when the profile forbids
    /// plaintext import).
    fn import_secret_key(&self, algorithm: SecretKeyAlgorithm, value: &[u8], object: &NewObject) -> HsmResult<()>;

    /// Imports a private key.
    fn import_private_key(&self, material: &PrivateKeyMaterial, object: &NewObject) -> HsmResult<()>;

    /// Imports a public key.
    fn import_public_key(&self, material: &PublicKeyMaterial, object: &NewObject) -> HsmResult<()>;

    /// Unwraps `wrapped` with the key `wrapping_key` into a new object.
    fn unwrap_key(
        &self,
        wrapping_key: &[u8],
        mechanism: WrapMechanism,
        wrapped: &[u8],
        target: UnwrapTarget,
        object: &NewObject,
    ) -> HsmResult<()>;

    /// Wraps the key `key` under `wrapping_key`; `None` picks the profile's preferred mechanism.
    fn wrap_key(&self, wrapping_key: &[u8], mechanism: Option<WrapMechanism>, key: &[u8]) -> HsmResult<Wrapped>;

    /// Encrypts in one call (chunked internally where the profile demands it).
    fn encrypt(&self, key: &[u8], cipher: &Cipher, plaintext: &[u8]) -> HsmResult<Encrypted>;

    /// Decrypts in one call.
    fn decrypt(&self, key: &[u8], cipher: &Cipher, ciphertext: &[u8]) -> HsmResult<SecretBytes>;

    /// Starts a multi-part encryption or decryption. A cipher without an IV is rejected for encryption: a
    /// stream's IV must be known before the first part.
    fn begin_cipher(&self, key: &[u8], cipher: &Cipher, direction: Direction) -> HsmResult<Box<dyn CipherStream>>;

    /// Signs `data` (the whole message; hashing happens in or outside the HSM as the profile says).
    fn sign(&self, key: &[u8], algorithm: SignatureAlgorithm, data: &[u8]) -> HsmResult<Vec<u8>>;

    /// Verifies a signature; `Ok(false)` when it does not match.
    fn verify(&self, key: &[u8], algorithm: SignatureAlgorithm, data: &[u8], signature: &[u8]) -> HsmResult<bool>;

    /// Signs a digest the caller computed with the hash of `algorithm` (the raw mechanism over the digest; not
    /// for Ed25519, which signs whole messages).
    fn sign_digest(&self, key: &[u8], algorithm: SignatureAlgorithm, digest: &[u8]) -> HsmResult<Vec<u8>>;

    /// Verifies a signature over a digest the caller computed; `Ok(false)` when it does not match.
    fn verify_digest(&self, key: &[u8], algorithm: SignatureAlgorithm, digest: &[u8], signature: &[u8])
        -> HsmResult<bool>;

    /// Computes a MAC.
    fn mac(&self, key: &[u8], algorithm: MacAlgorithm, data: &[u8]) -> HsmResult<Vec<u8>>;

    /// Verifies a MAC; `Ok(false)` when it does not match.
    fn mac_verify(&self, key: &[u8], algorithm: MacAlgorithm, data: &[u8], mac: &[u8]) -> HsmResult<bool>;

    /// Hashes `data`.
    fn digest(&self, algorithm: HashAlg, data: &[u8]) -> HsmResult<Vec<u8>>;

    /// Hashes the value of the secret key `key` inside the HSM (`C_DigestInit`, `C_DigestKey`, `C_DigestFinal`):
    /// the KMIP Digest (SHA-256 over the key material, KMIP 1.4 §3.17) of a key whose material never leaves the
    /// HSM. Fails with [`ErrorClass::Indigestible`] when the HSM will not digest this key or it is not a secret
    /// key, and with [`ErrorClass::NotSupported`] when the profile lacks `digest-key` or the hash: in both cases
    /// the caller omits the Digest instead of failing the operation.
    fn digest_key(&self, key: &[u8], algorithm: HashAlg) -> HsmResult<Vec<u8>>;

    /// Derives a new secret key from the secret key `base` inside the HSM.
    fn derive_key(&self, base: &[u8], derivation: &Derivation, spec: SecretKeySpec, object: &NewObject) -> HsmResult<()>;

    /// Returns `len` random bytes from the HSM's generator.
    fn random(&self, len: usize) -> HsmResult<SecretBytes>;

    /// Mixes `seed` into the HSM's generator.
    fn seed_random(&self, seed: &[u8]) -> HsmResult<()>;

    /// Reads a private key's components, when the HSM lets them out (not sensitive, extractable);
    /// otherwise [`ErrorClass::Sensitive`].
    fn export_private_key(&self, key: &[u8]) -> HsmResult<PrivateKeyMaterial>;

    /// Reads the public half of a key pair (by the public or the private key's id).
    fn public_key(&self, key: &[u8]) -> HsmResult<PublicKeyMaterial>;

    /// Reads the plaintext value of a secret key that is neither sensitive nor unextractable; otherwise fails
    /// with [`ErrorClass::Sensitive`].
    fn export_secret_key(&self, key: &[u8]) -> HsmResult<SecretBytes>;

    /// Security-relevant facts about an object.
    fn object_info(&self, key: &[u8]) -> HsmResult<ObjectInfo>;

    /// Changes label and/or usage flags.
    fn set_attributes(&self, key: &[u8], update: &AttributeUpdate) -> HsmResult<()>;

    /// Destroys an object.
    fn destroy(&self, key: &[u8]) -> HsmResult<()>;

    /// Enumerates kmipd's objects on the token (a real scan: start-up reconciliation only, never per request).
    fn list_objects(&self) -> HsmResult<Vec<ObjectSummary>>;
}
