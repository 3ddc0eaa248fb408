//! [`Pkcs11Hsm`]: the [`Hsm`] trait on a PKCS#11 module through `cryptoki`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};

use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::mechanism::ekdf::AesCbcDeriveParams;
use cryptoki::mechanism::rsa::PkcsOaepParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType as CkKeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, SessionState};
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest as _;
use zeroize::Zeroizing;

use super::mechanisms::{
    curve_from_params, curve_key_type, der_octet_string, digest_info_prefix, digest_mechanism, ec_point_from_attribute,
    given_iv, in_hsm_signature_mechanism, is_chunkable, mac_capability, mac_mechanism, oaep_params, pss_params,
    secret_key_type, CipherParams,
};
use super::pool::{Idempotence, PooledSession, SessionPool};
use super::profile::{IdStrategy, IvMode, PinFormat};
use super::templates::{Identity, Templates};
use super::{
    module, AttributeUpdate, Capability, Cipher, CipherStream, Curve, Derivation, Direction, Encrypted, HashAlg, Hsm, HsmError,
    HsmResult, KeyPairSpec, KeyType, KeyUsage, MacAlgorithm, NewObject, ObjectInfo, ObjectKind, ObjectSummary,
    PrivateKeyMaterial, Profile, PublicKeyMaterial, SecretBytes, SecretKeyAlgorithm, SecretKeySpec, SignatureAlgorithm,
    UnwrapTarget, WrapMechanism, Wrapped,
};

/// Where the PIN comes from. The PIN itself never appears in configuration files, logs or errors.
#[derive(Debug, Clone)]
pub enum PinSource {
    /// A file whose content (trailing newline removed) is the PIN.
    File(PathBuf),
    /// An environment variable holding the PIN.
    Env(String),
    /// A PIN already in memory (tests, interactive prompts).
    Value(SecretString),
}

impl PinSource {
    fn read(&self) -> HsmResult<Zeroizing<String>> {
        let mut pin = match self {
            PinSource::File(path) => Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|e| HsmError::Config(format!("cannot read PIN file {}: {}", path.display(), e.kind())))?,
            ),
            PinSource::Env(name) => Zeroizing::new(
                std::env::var(name).map_err(|_| HsmError::Config(format!("PIN variable {name} is not set")))?,
            ),
            PinSource::Value(secret) => Zeroizing::new(secret.expose_secret().to_string()),
        };
        while pin.ends_with('\n') || pin.ends_with('\r') {
            pin.pop();
        }
        Ok(pin)
    }
}

/// Everything needed to open a [`Pkcs11Hsm`]: the profile plus what configuration or command line override.
#[derive(Debug, Clone)]
pub struct HsmConfig {
    /// The HSM profile.
    pub profile: Profile,
    /// Overrides `module.path`.
    pub module_path: Option<PathBuf>,
    /// Overrides `token.label`.
    pub token_label: Option<String>,
    /// Overrides `token.serial`.
    pub token_serial: Option<String>,
    /// Overrides the profile's `login.pin_file` / `login.pin_env`.
    pub pin: Option<PinSource>,
}

impl HsmConfig {
    /// A configuration that takes everything from the profile.
    pub fn new(profile: Profile) -> Self {
        HsmConfig { profile, module_path: None, token_label: None, token_serial: None, pin: None }
    }
}

/// The PKCS#11 implementation of [`Hsm`].
pub struct Pkcs11Hsm {
    profile: Profile,
    module_path: PathBuf,
    pool: SessionPool,
    templates: Templates,
    /// `CKA_ID` → handle, built by one enumeration at open time and kept current (invariant 4).
    handles: RwLock<HashMap<Vec<u8>, ObjectHandle>>,
    /// The enumeration made at open time, until start-up reconciliation takes it.
    opening_listing: Mutex<Option<Vec<ObjectSummary>>>,
    /// The profile's capabilities, parsed once: checked on every call.
    capabilities: HashSet<Capability>,
}

impl std::fmt::Debug for Pkcs11Hsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Hsm").field("profile", &self.profile.name).field("pool", &self.pool).finish()
    }
}

const HANDLE_INVALID: [&str; 4] = [
    "CKR_OBJECT_HANDLE_INVALID",
    "CKR_KEY_HANDLE_INVALID",
    "CKR_WRAPPING_KEY_HANDLE_INVALID",
    "CKR_UNWRAPPING_KEY_HANDLE_INVALID",
];

/// Most threads a token scan reads attributes with (fewer if the pool has fewer sessions).
const SCAN_THREADS: usize = 8;

fn handle_invalid(error: &HsmError) -> bool {
    error.code().is_some_and(|c| HANDLE_INVALID.contains(&c))
}

fn rv(error: &CryptokiError) -> Option<RvError> {
    match error {
        CryptokiError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

impl Pkcs11Hsm {
    /// Loads the module (once per process), finds the token, opens the pool with its logged-in anchor session
    /// and builds the id → handle cache with one enumeration.
    pub fn open(config: HsmConfig) -> HsmResult<Pkcs11Hsm> {
        let profile = config.profile;
        let module_path = config.module_path.unwrap_or_else(|| profile.module.path.clone());
        let env: Vec<(String, String)> = profile.module.env.clone().into_iter().collect();
        let ctx = module::context(&module_path, &env)?;
        let label = config.token_label.or_else(|| profile.token.label.clone());
        let serial = config.token_serial.or_else(|| profile.token.serial.clone());
        let slot = module::find_token(&ctx, label.as_deref(), serial.as_deref())?;
        let pin_source = config
            .pin
            .or_else(|| profile.login.pin_file.clone().map(PinSource::File))
            .or_else(|| profile.login.pin_env.clone().map(PinSource::Env))
            .ok_or_else(|| HsmError::Config("no PIN source (pin file or pin environment variable)".into()))?;
        let pin = format_pin(&profile, &pin_source.read()?)?;
        let pool = SessionPool::open(ctx, slot, pin, &profile.sessions)?;
        tracing::info!(target: "kmipd::hsm", "HSM token open and logged in");
        let hsm = Pkcs11Hsm {
            templates: Templates::new(&profile.objects.omit_attributes),
            capabilities: profile.mechanisms.capabilities.iter().filter_map(|n| Capability::from_name(n)).collect(),
            profile,
            module_path,
            pool,
            handles: RwLock::new(HashMap::new()),
            opening_listing: Mutex::new(None),
        };
        hsm.build_handle_cache()?;
        Ok(hsm)
    }

    fn supports(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    fn require(&self, capability: Capability) -> HsmResult<()> {
        if self.supports(capability) {
            Ok(())
        } else {
            Err(HsmError::NotSupported(format!("{capability} (not in profile {:?})", self.profile.name)))
        }
    }

    /// The profile in force.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The session pool (for diagnostics and tests).
    pub fn pool(&self) -> &SessionPool {
        &self.pool
    }

    /// The module's mechanism list, unfiltered.
    pub fn raw_mechanisms(&self) -> HsmResult<Vec<u64>> {
        module::raw_mechanism_list(&self.module_path, self.pool.slot())
    }

    /// Number of entries in the id → handle cache.
    pub fn cached_handles(&self) -> usize {
        self.handles.read().map(|h| h.len()).unwrap_or(0)
    }

    /// Enumerates the token once: fills the handle cache and keeps the listing for start-up reconciliation
    /// ([`Pkcs11Hsm::take_opening_listing`]), so a start-up reads each object's attributes once, not twice: on
    /// SoftHSM2 every attribute read touches the object's file.
    fn build_handle_cache(&self) -> HsmResult<()> {
        let scanned = self.scan_token()?;
        let mut handles = self.handles.write().map_err(|_| HsmError::Module("handle cache poisoned".into()))?;
        let mut listing = Vec::with_capacity(scanned.len());
        for (summary, handle) in scanned {
            handles.insert(summary.cka_id.clone(), handle);
            listing.push(summary);
        }
        tracing::info!(target: "kmipd::hsm", objects = handles.len(), "HSM handle cache built");
        if let Ok(mut kept) = self.opening_listing.lock() {
            *kept = Some(listing);
        }
        Ok(())
    }

    /// What [`Hsm::list_objects`] would have answered when the token was opened, once; `None` afterwards. Only
    /// fresh if nothing changed the token since: for the reconciliation that runs before anything is served.
    pub fn take_opening_listing(&self) -> Option<Vec<ObjectSummary>> {
        self.opening_listing.lock().ok().and_then(|mut kept| kept.take())
    }

    /// Every object of kmipd's namespace on the token, with its handle: one enumeration, then the attribute reads
    /// spread over the pool's sessions. Attribute reads are what a start-up with many objects waits on (a file
    /// check per object on SoftHSM2, a round trip per object on a network HSM); token object handles are valid in
    /// every session of the process, so the parts can be read in parallel.
    fn scan_token(&self) -> HsmResult<Vec<(ObjectSummary, ObjectHandle)>> {
        let handles = self.pool.run(Idempotence::Idempotent, |s| Ok(s.find_objects(&[])?))?;
        let workers = self.pool.max_sessions().clamp(1, SCAN_THREADS);
        let part_len = handles.len().div_ceil(workers).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = handles
                .chunks(part_len)
                .map(|part| scope.spawn(move || self.pool.run(Idempotence::Idempotent, |s| self.describe(s, part))))
                .collect();
            let mut out = Vec::with_capacity(handles.len());
            for part in parts {
                out.extend(part.join().map_err(|_| HsmError::Module("a token scan thread panicked".into()))??);
            }
            Ok(out)
        })
    }

    /// The summaries of those of `handles` in kmipd's namespace; objects destroyed meanwhile are skipped.
    fn describe(&self, s: &Session, handles: &[ObjectHandle]) -> HsmResult<Vec<(ObjectSummary, ObjectHandle)>> {
        let prefix = self.profile.objects.id_prefix.as_bytes();
        let strategy = self.profile.objects.id_strategy;
        let mut out = Vec::new();
        for &handle in handles {
            let wanted = [AttributeType::Id, AttributeType::Label, AttributeType::Class];
            let Some(attrs) = skip_vanished(s.get_attributes(handle, &wanted).map_err(HsmError::from))? else {
                continue;
            };
            let (mut cka_id, mut label, mut kind) = (None, Vec::new(), ObjectKind::Other);
            for attr in attrs {
                match attr {
                    Attribute::Id(id) => cka_id = Some(id),
                    Attribute::Label(l) => label = l,
                    Attribute::Class(ObjectClass::SECRET_KEY) => kind = ObjectKind::SecretKey,
                    Attribute::Class(ObjectClass::PRIVATE_KEY) => kind = ObjectKind::PrivateKey,
                    Attribute::Class(ObjectClass::PUBLIC_KEY) => kind = ObjectKind::PublicKey,
                    _ => {}
                }
            }
            let Some(cka_id) = cka_id.filter(|id| self.in_namespace(id)) else { continue };
            let caller_id = match strategy {
                IdStrategy::Prefixed => cka_id.get(prefix.len()..).map(<[u8]>::to_vec),
                // The label is the caller id (see `object_label`) if hashing it gives back the CKA_ID; a
                // relabelled or foreign object stays unidentified.
                IdStrategy::Hashed => {
                    Some(label.clone()).filter(|l| self.cka_id(l).is_ok_and(|derived| derived == cka_id))
                }
            };
            let label = String::from_utf8_lossy(&label).into_owned();
            out.push((ObjectSummary { cka_id, caller_id, label, kind }, handle));
        }
        Ok(out)
    }

    fn in_namespace(&self, cka_id: &[u8]) -> bool {
        match self.profile.objects.id_strategy {
            IdStrategy::Prefixed => cka_id.starts_with(self.profile.objects.id_prefix.as_bytes()),
            IdStrategy::Hashed => true,
        }
    }

    /// The `CKA_ID` for a caller id, per the profile's id strategy and limits.
    pub fn cka_id(&self, caller_id: &[u8]) -> HsmResult<Vec<u8>> {
        let objects = &self.profile.objects;
        if caller_id.is_empty() {
            return Err(HsmError::InvalidInput("empty object id".into()));
        }
        match objects.id_strategy {
            IdStrategy::Prefixed => {
                let mut id = objects.id_prefix.as_bytes().to_vec();
                id.extend_from_slice(caller_id);
                if id.len() > objects.max_id_bytes {
                    return Err(HsmError::InvalidInput(format!(
                        "object id of {} bytes exceeds this HSM's limit of {} (prefix included)",
                        caller_id.len(),
                        objects.max_id_bytes
                    )));
                }
                Ok(id)
            }
            IdStrategy::Hashed => {
                let digest = sha2::Sha256::digest(caller_id);
                Ok(digest.iter().take(objects.max_id_bytes).copied().collect())
            }
        }
    }

    /// The `CKA_LABEL` of a new object. Under the `hashed` id strategy it is the caller id itself, whatever
    /// `object.label` says: the hash cannot be reversed, so the label is how [`Hsm::list_objects`] recovers the
    /// caller id (checked against the `CKA_ID`) for start-up reconciliation. The caller id must then be UTF-8 and
    /// fit the label limit (KMIP UIDs, at most 20 digits here, fit every profile's).
    fn object_label<'a>(&self, object: &'a NewObject) -> HsmResult<&'a str> {
        match self.profile.objects.id_strategy {
            IdStrategy::Prefixed => Ok(self.label(&object.label)),
            IdStrategy::Hashed => {
                let id = std::str::from_utf8(&object.id).map_err(|_| {
                    HsmError::InvalidInput("with the hashed id strategy object ids must be UTF-8".into())
                })?;
                let max = self.profile.objects.max_label_bytes;
                if id.len() > max {
                    return Err(HsmError::InvalidInput(format!(
                        "object id of {} bytes exceeds this HSM's label limit of {max} (the hashed id strategy keeps \
                         the id in CKA_LABEL)",
                        id.len()
                    )));
                }
                Ok(id)
            }
        }
    }

    fn label<'a>(&self, label: &'a str) -> &'a str {
        let max = self.profile.objects.max_label_bytes;
        if label.len() <= max {
            return label;
        }
        let mut end = max;
        while !label.is_char_boundary(end) {
            end -= 1;
        }
        label.get(..end).unwrap_or_default()
    }

    fn cache_get(&self, cka_id: &[u8]) -> Option<ObjectHandle> {
        self.handles.read().ok().and_then(|h| h.get(cka_id).copied())
    }

    fn cache_put(&self, cka_id: Vec<u8>, handle: ObjectHandle) {
        if let Ok(mut h) = self.handles.write() {
            h.insert(cka_id, handle);
        }
    }

    fn cache_remove(&self, cka_id: &[u8]) {
        if let Ok(mut h) = self.handles.write() {
            h.remove(cka_id);
        }
    }

    /// One targeted `C_FindObjects` by `CKA_ID`; refreshes the cache.
    fn refind(&self, s: &Session, cka_id: &[u8]) -> HsmResult<ObjectHandle> {
        // Private objects are invisible while the login is lost (C_Logout or C_CloseAllSessions elsewhere in the
        // process): an empty result then is a pool problem to recover from, not a missing object. The login can
        // also come back (another thread's pool reset) between the search and the check, hence a second search.
        for _ in 0..2 {
            let found = s.find_objects(&[Attribute::Id(cka_id.to_vec())])?;
            if found.len() > 1 {
                tracing::warn!(target: "kmipd::hsm", count = found.len(), "several HSM objects share one CKA_ID");
            }
            if let Some(handle) = found.first() {
                self.cache_put(cka_id.to_vec(), *handle);
                return Ok(*handle);
            }
            let state = s.get_session_info()?.session_state();
            if !matches!(state, SessionState::RwUser | SessionState::RoUser) {
                return Err(HsmError::Pkcs11 {
                    code: "CKR_USER_NOT_LOGGED_IN".into(),
                    class: super::ErrorClass::Auth,
                    function: "C_FindObjects".into(),
                });
            }
        }
        self.cache_remove(cka_id);
        Err(HsmError::NotFound)
    }

    fn handle(&self, s: &Session, cka_id: &[u8]) -> HsmResult<ObjectHandle> {
        match self.cache_get(cka_id) {
            Some(handle) => Ok(handle),
            None => self.refind(s, cka_id),
        }
    }

    /// Runs `call` with the handle of `caller_id`; a stale cached handle triggers one re-find and one retry.
    fn with_key<T>(
        &self,
        idempotence: Idempotence,
        caller_id: &[u8],
        mut call: impl FnMut(&Session, ObjectHandle) -> HsmResult<T>,
    ) -> HsmResult<T> {
        let cka_id = self.cka_id(caller_id)?;
        self.pool.run(idempotence, |s| {
            let handle = self.handle(s, &cka_id)?;
            match call(s, handle) {
                Err(e) if handle_invalid(&e) => {
                    let handle = self.refind(s, &cka_id)?;
                    call(s, handle)
                }
                other => other,
            }
        })
    }

    /// Same with two keys (wrapping).
    fn with_two_keys<T>(
        &self,
        first: &[u8],
        second: &[u8],
        mut call: impl FnMut(&Session, ObjectHandle, ObjectHandle) -> HsmResult<T>,
    ) -> HsmResult<T> {
        let first = self.cka_id(first)?;
        let second = self.cka_id(second)?;
        self.pool.run(Idempotence::Idempotent, |s| {
            let (a, b) = (self.handle(s, &first)?, self.handle(s, &second)?);
            match call(s, a, b) {
                Err(e) if handle_invalid(&e) => {
                    let (a, b) = (self.refind(s, &first)?, self.refind(s, &second)?);
                    call(s, a, b)
                }
                other => other,
            }
        })
    }

    /// Creates an object and caches its handle. Not retried after device errors: it may have been created.
    fn create(&self, template: &[Attribute], cka_id: Vec<u8>) -> HsmResult<()> {
        let handle = self.pool.run(Idempotence::NotIdempotent, |s| Ok(s.create_object(template)?))?;
        self.cache_put(cka_id, handle);
        Ok(())
    }

    fn check_gcm_len(&self, len: usize) -> HsmResult<()> {
        let max = self.profile.aes_gcm.max_data_bytes;
        if max > 0 && len > max {
            return Err(HsmError::InvalidInput(format!(
                "AES-GCM data of {len} bytes exceeds this HSM's {max} per call"
            )));
        }
        Ok(())
    }

    fn require_cipher(&self, cipher: &Cipher) -> HsmResult<()> {
        self.require(match cipher {
            Cipher::AesGcm { .. } => Capability::AesGcm,
            Cipher::AesCbc { padding: false, .. } => Capability::AesCbc,
            Cipher::AesCbc { padding: true, .. } => Capability::AesCbcPad,
            Cipher::AesCtr { .. } => Capability::AesCtr,
            Cipher::AesEcb => Capability::AesEcb,
            Cipher::RsaOaep(hash) => Capability::RsaOaep(*hash),
            Cipher::RsaPkcs1v15 => Capability::RsaPkcs1Encrypt,
        })
    }

    fn random_bytes(&self, s: &Session, len: usize) -> HsmResult<Vec<u8>> {
        let mut buf = vec![0u8; len];
        s.generate_random_slice(&mut buf)?;
        Ok(buf)
    }

    fn kwp_mechanism(&self) -> HsmResult<Mechanism<'static>> {
        if self.profile.mechanisms.kwp_mechanism == "CKM_AES_KEY_WRAP_PAD" {
            Ok(Mechanism::AesKeyWrapPad)
        } else {
            Err(HsmError::NotSupported("CKM_AES_KEY_WRAP_KWP (0x210B) is not expressible through cryptoki 0.12".into()))
        }
    }

    fn wrap_mechanism<'a>(
        &self,
        mechanism: WrapMechanism,
        oaep: &'a mut Option<PkcsOaepParams<'a>>,
    ) -> HsmResult<Mechanism<'a>> {
        match mechanism {
            WrapMechanism::AesKeyWrap => {
                self.require(Capability::AesKeyWrap)?;
                Ok(Mechanism::AesKeyWrap)
            }
            WrapMechanism::AesKeyWrapPad => {
                self.require(Capability::AesKeyWrapPad)?;
                self.kwp_mechanism()
            }
            WrapMechanism::RsaOaep(hash) => {
                self.require(Capability::RsaOaepWrap)?;
                self.require(Capability::RsaOaep(hash))?;
                let params = oaep.insert(oaep_params(hash));
                Ok(Mechanism::RsaPkcsOaep(*params))
            }
            WrapMechanism::RsaPkcs1v15 => {
                self.require(Capability::RsaOaepWrap)?;
                self.require(Capability::RsaPkcs1Encrypt)?;
                Ok(Mechanism::RsaPkcs)
            }
        }
    }

    /// Builds an unwrap template for `target`.
    fn unwrap_template(&self, target: UnwrapTarget, object: &NewObject, id: &Identity<'_>) -> Vec<Attribute> {
        match target {
            UnwrapTarget::Secret(algorithm) => {
                self.templates.secret_key(secret_key_type(algorithm), object, id, None, None)
            }
            UnwrapTarget::RsaPrivate => self.templates.private_key(CkKeyType::RSA, object, id),
            // The curve comes from the wrapped PKCS#8; SoftHSM rejects CKA_EC_PARAMS here as read-only.
            UnwrapTarget::EcPrivate(curve) => self.templates.private_key(curve_key_type(curve), object, id),
            UnwrapTarget::DsaPrivate => self.templates.private_key(CkKeyType::DSA, object, id),
        }
    }

    /// How a signature is computed: entirely in the HSM, or over a hash computed first (with `C_Digest`).
    fn signature_plan(&self, algorithm: SignatureAlgorithm) -> HsmResult<SignaturePlan> {
        let p = self;
        let hash_outside = |raw: Capability, hash: HashAlg| -> HsmResult<SignaturePlan> {
            p.require(raw)?;
            p.require(Capability::Digest(hash))?;
            Ok(SignaturePlan::HashFirst(hash))
        };
        match algorithm {
            SignatureAlgorithm::RsaPkcs1v15(hash) => {
                if p.supports(Capability::RsaPkcs1Sign(hash)) {
                    Ok(SignaturePlan::InHsm)
                } else {
                    hash_outside(Capability::RsaPkcs1Raw, hash)
                        .map_err(|_| not_supported_sig(Capability::RsaPkcs1Sign(hash), Capability::RsaPkcs1Raw))
                }
            }
            SignatureAlgorithm::RsaPss(hash, _) => {
                // cryptoki 0.12 has no CKM_SHA224_RSA_PKCS_PSS: SHA-224 always hashes first.
                if p.supports(Capability::RsaPss(hash)) && hash != HashAlg::Sha224 {
                    Ok(SignaturePlan::InHsm)
                } else {
                    hash_outside(Capability::RsaPssRaw, hash)
                        .map_err(|_| not_supported_sig(Capability::RsaPss(hash), Capability::RsaPssRaw))
                }
            }
            SignatureAlgorithm::Ecdsa(hash) => {
                if p.supports(Capability::Ecdsa(hash)) {
                    Ok(SignaturePlan::InHsm)
                } else {
                    hash_outside(Capability::EcdsaRaw, hash)
                        .map_err(|_| not_supported_sig(Capability::Ecdsa(hash), Capability::EcdsaRaw))
                }
            }
            SignatureAlgorithm::Ed25519 => {
                p.require(Capability::EdDsa)?;
                Ok(SignaturePlan::InHsm)
            }
        }
    }

    /// How a caller-computed digest is signed: with the raw mechanism of the scheme.
    fn prehashed_plan(&self, algorithm: SignatureAlgorithm) -> HsmResult<SignaturePlan> {
        let (raw, hash) = match algorithm {
            SignatureAlgorithm::RsaPkcs1v15(hash) => (Capability::RsaPkcs1Raw, hash),
            SignatureAlgorithm::RsaPss(hash, _) => (Capability::RsaPssRaw, hash),
            SignatureAlgorithm::Ecdsa(hash) => (Capability::EcdsaRaw, hash),
            SignatureAlgorithm::Ed25519 => {
                return Err(HsmError::NotSupported("Ed25519 signs whole messages, not digests".into()))
            }
        };
        self.require(raw)?;
        Ok(SignaturePlan::Prehashed(hash))
    }

    /// Runs a sign-like call (`sign` or `verify`) per `plan`; `run` gets the mechanism and the bytes to sign.
    fn with_signature_input<T>(
        &self,
        key: &[u8],
        algorithm: SignatureAlgorithm,
        plan: SignaturePlan,
        data: &[u8],
        mut run: impl FnMut(&Session, &Mechanism<'_>, ObjectHandle, &[u8]) -> HsmResult<T>,
    ) -> HsmResult<T> {
        self.with_key(Idempotence::Idempotent, key, |s, handle| match plan {
            SignaturePlan::InHsm => {
                let mechanism = in_hsm_signature_mechanism(algorithm)?;
                run(s, &mechanism, handle, data)
            }
            SignaturePlan::HashFirst(hash) | SignaturePlan::Prehashed(hash) => {
                let digest = if matches!(plan, SignaturePlan::Prehashed(_)) {
                    if data.len() != hash.output_len() {
                        return Err(HsmError::InvalidInput(format!(
                            "a {hash:?} digest is {} bytes, not {}",
                            hash.output_len(),
                            data.len()
                        )));
                    }
                    data.to_vec()
                } else {
                    s.digest(&digest_mechanism(hash), data)?
                };
                match algorithm {
                    SignatureAlgorithm::RsaPkcs1v15(_) => {
                        let mut info = digest_info_prefix(hash).to_vec();
                        info.extend_from_slice(&digest);
                        run(s, &Mechanism::RsaPkcs, handle, &info)
                    }
                    SignatureAlgorithm::RsaPss(_, salt) => {
                        run(s, &Mechanism::RsaPkcsPss(pss_params(hash, salt)), handle, &digest)
                    }
                    _ => run(s, &Mechanism::Ecdsa, handle, &digest),
                }
            }
        })
    }

    /// Signs then verifies with the hash computed first (`C_Digest`) and the raw mechanism, whatever the profile
    /// says: how the probe exercises the fallback capabilities.
    pub(crate) fn sign_verify_hash_first(
        &self,
        key_pair: (&[u8], &[u8]),
        algorithm: SignatureAlgorithm,
        hash: HashAlg,
        data: &[u8],
    ) -> HsmResult<bool> {
        let plan = SignaturePlan::HashFirst(hash);
        let signature =
            self.with_signature_input(key_pair.0, algorithm, plan, data, |s, mechanism, handle, input| {
                Ok(s.sign(mechanism, handle, input)?)
            })?;
        self.with_signature_input(key_pair.1, algorithm, plan, data, |s, mechanism, handle, input| {
            verdict(s.verify(mechanism, handle, input, &signature))
        })
    }

    fn cipher_stream(&self, s: PooledSession, direction: Direction) -> Box<dyn CipherStream> {
        Box::new(Pkcs11Stream { session: Some(s), direction })
    }
}

#[derive(Debug, Clone, Copy)]
enum SignaturePlan {
    InHsm,
    HashFirst(HashAlg),
    /// The caller hashed: the raw mechanism signs its digest.
    Prehashed(HashAlg),
}

fn not_supported_sig(direct: Capability, fallback: Capability) -> HsmError {
    HsmError::NotSupported(format!("{direct} (neither it nor the {fallback} fallback with a digest is in the profile)"))
}

/// `CKA_VALUE_LEN` of a new secret key: none for Triple DES, whose size is fixed (PKCS#11 forbids the
/// attribute in its generation and derivation templates).
fn value_len(spec: SecretKeySpec) -> Option<u64> {
    let fixed_size = matches!(spec.algorithm, SecretKeyAlgorithm::Des3 | SecretKeyAlgorithm::Des2);
    (!fixed_size).then_some(u64::from(spec.bits / 8))
}

fn format_pin(profile: &Profile, secret: &str) -> HsmResult<SecretString> {
    let pin = match profile.login.pin_format {
        PinFormat::Plain => Zeroizing::new(secret.to_string()),
        PinFormat::UserColonPassword => {
            let user = profile
                .login
                .user
                .as_deref()
                .ok_or_else(|| HsmError::Config("pin_format user-colon-password needs login.user".into()))?;
            Zeroizing::new(format!("{user}:{secret}"))
        }
        PinFormat::KeyIdPassword => {
            let key_id = profile
                .login
                .key_id
                .ok_or_else(|| HsmError::Config("pin_format key-id-password needs login.key_id".into()))?;
            Zeroizing::new(format!("{key_id:04x}{secret}"))
        }
    };
    Ok(SecretString::from(pin.as_str()))
}

/// `None` for an object destroyed or still being written between `C_FindObjects` and the read (another session
/// or process). SoftHSM answers `CKR_ATTRIBUTE_VALUE_INVALID` for an object another thread is creating.
fn skip_vanished<T>(result: HsmResult<T>) -> HsmResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if matches!(e.code(), Some("CKR_OBJECT_HANDLE_INVALID" | "CKR_ATTRIBUTE_VALUE_INVALID")) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Hsm for Pkcs11Hsm {
    fn generate_secret_key(&self, spec: SecretKeySpec, object: &NewObject) -> HsmResult<()> {
        let (mechanism, key_type) = match spec.algorithm {
            SecretKeyAlgorithm::Aes => {
                self.require(Capability::AesKeyGen)?;
                if !matches!(spec.bits, 128 | 192 | 256) {
                    return Err(HsmError::InvalidInput(format!(
                        "AES keys are 128, 192 or 256 bits, not {}",
                        spec.bits
                    )));
                }
                (Mechanism::AesKeyGen, CkKeyType::AES)
            }
            SecretKeyAlgorithm::GenericSecret => {
                self.require(Capability::GenericSecretKeyGen)?;
                if spec.bits % 8 != 0 || !(8..=4096).contains(&spec.bits) {
                    return Err(HsmError::InvalidInput("generic secrets are 8..=4096 bits in whole bytes".into()));
                }
                (Mechanism::GenericSecretKeyGen, CkKeyType::GENERIC_SECRET)
            }
            SecretKeyAlgorithm::Des3 => {
                self.require(Capability::Des3KeyGen)?;
                if spec.bits != 168 {
                    return Err(HsmError::InvalidInput(format!("Triple DES keys are 168 bits, not {}", spec.bits)));
                }
                (Mechanism::Des3KeyGen, CkKeyType::DES3)
            }
            SecretKeyAlgorithm::Des2 => {
                self.require(Capability::Des2KeyGen)?;
                if spec.bits != 112 {
                    return Err(HsmError::InvalidInput(format!("two-key Triple DES keys are 112 bits, not {}", spec.bits)));
                }
                (Mechanism::Des2KeyGen, CkKeyType::DES2)
            }
        };
        let cka_id = self.cka_id(&object.id)?;
        let id = Identity { cka_id: &cka_id, label: self.object_label(object)? };
        let template = self.templates.secret_key(key_type, object, &id, value_len(spec), None);
        let handle = self.pool.run(Idempotence::NotIdempotent, |s| Ok(s.generate_key(&mechanism, &template)?))?;
        self.cache_put(cka_id, handle);
        Ok(())
    }

    fn generate_key_pair(
        &self,
        spec: KeyPairSpec,
        private: &NewObject,
        public: &NewObject,
    ) -> HsmResult<PublicKeyMaterial> {
        let private_id = self.cka_id(&private.id)?;
        let public_id = self.cka_id(&public.id)?;
        let private_ident = Identity { cka_id: &private_id, label: self.object_label(private)? };
        let public_ident = Identity { cka_id: &public_id, label: self.object_label(public)? };
        let (mechanism, mut public_template, private_template) = match spec {
            KeyPairSpec::Rsa { bits } => {
                self.require(Capability::RsaKeyGen(bits))?;
                let mut pub_t = self.templates.public_key(CkKeyType::RSA, public, &public_ident);
                pub_t.push(Attribute::ModulusBits(u64::from(bits).into()));
                pub_t.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
                (
                    Mechanism::RsaPkcsKeyPairGen,
                    pub_t,
                    self.templates.private_key(CkKeyType::RSA, private, &private_ident),
                )
            }
            KeyPairSpec::Ec(curve) => {
                self.require(Capability::EcKeyGen(curve))?;
                let key_type = curve_key_type(curve);
                let mechanism =
                    if curve == Curve::Ed25519 { Mechanism::EccEdwardsKeyPairGen } else { Mechanism::EccKeyPairGen };
                let pub_t = self.templates.public_key(key_type, public, &public_ident);
                (mechanism, pub_t, self.templates.private_key(key_type, private, &private_ident))
            }
        };
        if let KeyPairSpec::Ec(curve) = spec {
            public_template.push(Attribute::EcParams(curve.der_oid().to_vec()));
        }
        let (public_handle, private_handle) = self.pool.run(Idempotence::NotIdempotent, |s| {
            Ok(s.generate_key_pair(&mechanism, &public_template, &private_template)?)
        })?;
        self.cache_put(private_id, private_handle);
        self.cache_put(public_id, public_handle);
        self.public_key(&public.id)
    }

    fn import_secret_key(&self, algorithm: SecretKeyAlgorithm, value: &[u8], object: &NewObject) -> HsmResult<()> {
        if algorithm == SecretKeyAlgorithm::Aes && !matches!(value.len(), 16 | 24 | 32) {
            return Err(HsmError::InvalidInput("AES keys are 16, 24 or 32 bytes".into()));
        }
        if algorithm == SecretKeyAlgorithm::Des3 && value.len() != 24 {
            return Err(HsmError::InvalidInput("Triple DES keys are 24 bytes (three keys with parity)".into()));
        }
        if algorithm == SecretKeyAlgorithm::Des2 && value.len() != 16 {
            return Err(HsmError::InvalidInput("two-key Triple DES keys are 16 bytes".into()));
        }
        let key_type = secret_key_type(algorithm);
        let cka_id = self.cka_id(&object.id)?;
        let id = Identity { cka_id: &cka_id, label: self.object_label(object)? };
        if self.profile.objects.plaintext_import {
            self.require(Capability::CreateObject)?;
            let template = SecretTemplate(self.templates.secret_key(key_type, object, &id, None, Some(value)));
            return self.create(&template.0, cka_id);
        }
        // No plaintext in a template: encrypt under a throwaway RSA session key pair, then unwrap inside the HSM.
        // RSA-OAEP because SoftHSM (like others) unwraps only with KW/KWP/RSA, and KW/KWP are not C_Encrypt
        // mechanisms there.
        self.require(Capability::Unwrap)?;
        let hash = HashAlg::ALL
            .into_iter()
            .find(|h| self.supports(Capability::RsaOaep(*h)))
            .ok_or_else(|| HsmError::NotSupported("import without plaintext needs an RSA-OAEP hash".into()))?;
        self.require(Capability::RsaKeyGen(2048))?;
        let template = self.templates.secret_key(key_type, object, &id, None, None);
        let transport_public = [
            Attribute::Token(false),
            Attribute::Private(false),
            Attribute::Encrypt(true),
            Attribute::Verify(false),
            Attribute::Wrap(false),
            Attribute::ModulusBits(2048.into()),
            Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
        ];
        let transport_private = [
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Decrypt(false),
            Attribute::Sign(false),
            Attribute::Unwrap(true),
        ];
        let oaep = oaep_params(hash);
        let mechanism = Mechanism::RsaPkcsOaep(oaep);
        let handle = self.pool.run(Idempotence::NotIdempotent, |s| {
            let (public, private) =
                s.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &transport_public, &transport_private)?;
            let result = s
                .encrypt(&mechanism, public, value)
                .and_then(|wrapped| s.unwrap_key(&mechanism, private, &wrapped, &template));
            // Session objects; destroy them now rather than when the session closes.
            let _ = s.destroy_object(public);
            let _ = s.destroy_object(private);
            Ok(result?)
        })?;
        self.cache_put(cka_id, handle);
        Ok(())
    }

    fn import_private_key(&self, material: &PrivateKeyMaterial, object: &NewObject) -> HsmResult<()> {
        self.require(Capability::CreateObject)?;
        if !self.profile.objects.plaintext_import {
            return Err(HsmError::NotSupported(
                "this HSM takes no plaintext private keys: import a wrapped PKCS#8 with unwrap_key".into(),
            ));
        }
        let cka_id = self.cka_id(&object.id)?;
        let id = Identity { cka_id: &cka_id, label: self.object_label(object)? };
        let template = SecretTemplate(match material {
            PrivateKeyMaterial::Rsa {
                modulus,
                public_exponent,
                private_exponent,
                prime_1,
                prime_2,
                exponent_1,
                exponent_2,
                coefficient,
            } => {
                let mut t = self.templates.private_key(CkKeyType::RSA, object, &id);
                t.extend([
                    Attribute::Modulus(modulus.clone()),
                    Attribute::PublicExponent(public_exponent.clone()),
                    Attribute::PrivateExponent(private_exponent.to_vec()),
                    Attribute::Prime1(prime_1.to_vec()),
                    Attribute::Prime2(prime_2.to_vec()),
                    Attribute::Exponent1(exponent_1.to_vec()),
                    Attribute::Exponent2(exponent_2.to_vec()),
                    Attribute::Coefficient(coefficient.to_vec()),
                ]);
                t
            }
            PrivateKeyMaterial::Ec { curve, value } => {
                let mut t = self.templates.private_key(curve_key_type(*curve), object, &id);
                t.extend([Attribute::EcParams(curve.der_oid().to_vec()), Attribute::Value(value.to_vec())]);
                t
            }
            PrivateKeyMaterial::Dsa { prime, subprime, base, value } => {
                let mut t = self.templates.private_key(CkKeyType::DSA, object, &id);
                // cryptoki 0.12 has no CKA_SUBPRIME, and its Attribute::Base passes a length of 1: both go as raw
                // attribute types, which it passes through unchanged.
                let raw = |kind, bytes: &Vec<u8>| {
                    Attribute::VendorDefined((AttributeType::VendorDefined(kind), bytes.clone()))
                };
                t.extend([
                    Attribute::Prime(prime.clone()),
                    raw(cryptoki_sys::CKA_SUBPRIME, subprime),
                    raw(cryptoki_sys::CKA_BASE, base),
                    Attribute::Value(value.to_vec()),
                ]);
                t
            }
        });
        self.create(&template.0, cka_id)
    }

    fn import_public_key(&self, material: &PublicKeyMaterial, object: &NewObject) -> HsmResult<()> {
        self.require(Capability::CreateObject)?;
        let cka_id = self.cka_id(&object.id)?;
        let id = Identity { cka_id: &cka_id, label: self.object_label(object)? };
        let template = match material {
            PublicKeyMaterial::Rsa { modulus, public_exponent } => {
                let mut t = self.templates.public_key(CkKeyType::RSA, object, &id);
                t.extend([Attribute::Modulus(modulus.clone()), Attribute::PublicExponent(public_exponent.clone())]);
                t
            }
            PublicKeyMaterial::Ec { curve, point } => {
                let mut t = self.templates.public_key(curve_key_type(*curve), object, &id);
                t.extend([Attribute::EcParams(curve.der_oid().to_vec()), Attribute::EcPoint(der_octet_string(point))]);
                t
            }
        };
        self.create(&template, cka_id)
    }

    fn unwrap_key(
        &self,
        wrapping_key: &[u8],
        mechanism: WrapMechanism,
        wrapped: &[u8],
        target: UnwrapTarget,
        object: &NewObject,
    ) -> HsmResult<()> {
        self.require(Capability::Unwrap)?;
        let cka_id = self.cka_id(&object.id)?;
        let id = Identity { cka_id: &cka_id, label: self.object_label(object)? };
        let template = self.unwrap_template(target, object, &id);
        let mut oaep = None;
        let mechanism = self.wrap_mechanism(mechanism, &mut oaep)?;
        let handle = self.with_key(Idempotence::NotIdempotent, wrapping_key, |s, wrapping| {
            Ok(s.unwrap_key(&mechanism, wrapping, wrapped, &template)?)
        })?;
        self.cache_put(cka_id, handle);
        Ok(())
    }

    fn wrap_key(&self, wrapping_key: &[u8], mechanism: Option<WrapMechanism>, key: &[u8]) -> HsmResult<Wrapped> {
        let info = self.object_info(key)?;
        if info.kind == ObjectKind::PrivateKey {
            if !self.profile.objects.wrap_private_keys {
                return Err(HsmError::NotSupported("this HSM does not let private keys be wrapped".into()));
            }
            self.require(Capability::WrapPrivateKey)?;
        }
        let chosen = match mechanism {
            Some(m) => m,
            None => self
                .profile
                .mechanisms
                .wrap_preference
                .iter()
                .find_map(|name| match name.as_str() {
                    "aes-kwp" if self.supports(Capability::AesKeyWrapPad) => Some(WrapMechanism::AesKeyWrapPad),
                    "aes-kw" if self.supports(Capability::AesKeyWrap) => Some(WrapMechanism::AesKeyWrap),
                    _ => None,
                })
                .ok_or_else(|| HsmError::NotSupported("no wrapping mechanism of the profile's preference".into()))?,
        };
        let mut oaep = None;
        let mech = self.wrap_mechanism(chosen, &mut oaep)?;
        let bytes =
            self.with_two_keys(wrapping_key, key, |s, wrapping, target| Ok(s.wrap_key(&mech, wrapping, target)?))?;
        Ok(Wrapped { mechanism: chosen, bytes })
    }

    fn encrypt(&self, key: &[u8], cipher: &Cipher, plaintext: &[u8]) -> HsmResult<Encrypted> {
        self.require_cipher(cipher)?;
        let gcm = self.profile.aes_gcm.clone();
        if matches!(cipher, Cipher::AesGcm { .. }) {
            self.check_gcm_len(plaintext.len())?;
        }
        let given = given_iv(cipher);
        let chunk = self.profile.mechanisms.cbc_chunk_bytes;
        self.with_key(Idempotence::Idempotent, key, |s, handle| {
            // Decide the IV: the caller's, one from the HSM's RNG, or a buffer the HSM fills in.
            let (iv, chosen_here) = match (cipher, &given) {
                (Cipher::AesGcm { .. }, Some(_)) if gcm.iv_mode != IvMode::Caller => {
                    return Err(HsmError::NotSupported("this HSM generates AES-GCM IVs itself".into()))
                }
                (_, Some(iv)) => (iv.clone(), false),
                (Cipher::AesGcm { .. }, None) if gcm.iv_mode == IvMode::Caller => {
                    (self.random_bytes(s, gcm.iv_len)?, true)
                }
                (Cipher::AesGcm { .. }, None) => (vec![0; gcm.iv_len], true),
                (Cipher::AesCbc { .. }, None) => (self.random_bytes(s, 16)?, true),
                (Cipher::AesCtr { counter_bits, .. }, None) => {
                    let mut block = self.random_bytes(s, 16)?;
                    // Zero the counter part so a long message cannot wrap into the nonce.
                    let counter_bytes = usize::try_from(counter_bits.div_ceil(8)).unwrap_or(16).min(16);
                    for b in block.iter_mut().skip(16 - counter_bytes) {
                        *b = 0;
                    }
                    (block, true)
                }
                _ => (Vec::new(), false),
            };
            let mut params = CipherParams::new(iv, cipher)?;
            let mechanism = params.mechanism(cipher)?;
            let mut ciphertext = if chunk > 0 && is_chunkable(cipher) && plaintext.len() > chunk {
                s.encrypt_init(&mechanism, handle)?;
                let mut out = Vec::with_capacity(plaintext.len() + 16);
                for part in plaintext.chunks(chunk) {
                    out.extend(s.encrypt_update(part)?);
                }
                out.extend(s.encrypt_final()?);
                out
            } else {
                s.encrypt(&mechanism, handle, plaintext)?
            };
            drop(mechanism);
            let generated_iv = match (cipher, gcm.iv_mode) {
                _ if !chosen_here => None,
                (Cipher::AesGcm { .. }, IvMode::HsmAppended) => {
                    let split = ciphertext
                        .len()
                        .checked_sub(gcm.iv_len)
                        .ok_or_else(|| HsmError::Module("AES-GCM output shorter than its IV".into()))?;
                    Some(ciphertext.split_off(split))
                }
                _ => Some(params.iv.clone()),
            };
            Ok(Encrypted { ciphertext, generated_iv })
        })
    }

    fn decrypt(&self, key: &[u8], cipher: &Cipher, ciphertext: &[u8]) -> HsmResult<SecretBytes> {
        self.require_cipher(cipher)?;
        if matches!(cipher, Cipher::AesGcm { .. }) {
            self.check_gcm_len(ciphertext.len())?;
        }
        let iv = match (cipher, given_iv(cipher)) {
            (Cipher::AesGcm { .. } | Cipher::AesCbc { .. } | Cipher::AesCtr { .. }, None) => {
                return Err(HsmError::InvalidInput("decryption needs the IV or counter block".into()))
            }
            (_, iv) => iv.unwrap_or_default(),
        };
        let chunk = self.profile.mechanisms.cbc_chunk_bytes;
        self.with_key(Idempotence::Idempotent, key, |s, handle| {
            let mut params = CipherParams::new(iv.clone(), cipher)?;
            let mechanism = params.mechanism(cipher)?;
            let plaintext = if chunk > 0 && is_chunkable(cipher) && ciphertext.len() > chunk {
                s.decrypt_init(&mechanism, handle)?;
                let mut out = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
                for part in ciphertext.chunks(chunk) {
                    out.extend(Zeroizing::new(s.decrypt_update(part)?).iter());
                }
                out.extend(Zeroizing::new(s.decrypt_final()?).iter());
                out
            } else {
                match s.decrypt(&mechanism, handle, ciphertext) {
                    Ok(plaintext) => Zeroizing::new(plaintext),
                    Err(e) => return Err(gcm_integrity(cipher, HsmError::from(e))),
                }
            };
            Ok(plaintext)
        })
    }

    fn begin_cipher(&self, key: &[u8], cipher: &Cipher, direction: Direction) -> HsmResult<Box<dyn CipherStream>> {
        self.require_cipher(cipher)?;
        if matches!(cipher, Cipher::AesGcm { .. }) && self.profile.aes_gcm.max_data_bytes > 0 {
            return Err(HsmError::NotSupported("multi-part AES-GCM on an HSM with a per-call data limit".into()));
        }
        if matches!(cipher, Cipher::RsaOaep(_) | Cipher::RsaPkcs1v15) {
            return Err(HsmError::InvalidInput("RSA encryption is single-part only".into()));
        }
        let iv = given_iv(cipher);
        if iv.is_none() && cipher != &Cipher::AesEcb {
            return Err(HsmError::InvalidInput("a multi-part cipher needs its IV or counter block up front".into()));
        }
        let cka_id = self.cka_id(key)?;
        let session = self.pool.checkout()?;
        let mut params = CipherParams::new(iv.unwrap_or_default(), cipher)?;
        let mechanism = params.mechanism(cipher)?;
        let init = |handle| match direction {
            Direction::Encrypt => session.encrypt_init(&mechanism, handle),
            Direction::Decrypt => session.decrypt_init(&mechanism, handle),
        };
        let handle = self.handle(&session, &cka_id)?;
        match init(handle) {
            Err(e) if rv(&e).is_some_and(|r| matches!(r, RvError::KeyHandleInvalid | RvError::ObjectHandleInvalid)) => {
                init(self.refind(&session, &cka_id)?)?
            }
            other => other?,
        }
        drop(mechanism);
        Ok(self.cipher_stream(session, direction))
    }

    fn sign(&self, key: &[u8], algorithm: SignatureAlgorithm, data: &[u8]) -> HsmResult<Vec<u8>> {
        let plan = self.signature_plan(algorithm)?;
        self.with_signature_input(key, algorithm, plan, data, |s, mechanism, handle, input| {
            Ok(s.sign(mechanism, handle, input)?)
        })
    }

    fn verify(&self, key: &[u8], algorithm: SignatureAlgorithm, data: &[u8], signature: &[u8]) -> HsmResult<bool> {
        let plan = self.signature_plan(algorithm)?;
        self.with_signature_input(key, algorithm, plan, data, |s, mechanism, handle, input| {
            verdict(s.verify(mechanism, handle, input, signature))
        })
    }

    fn sign_digest(&self, key: &[u8], algorithm: SignatureAlgorithm, digest: &[u8]) -> HsmResult<Vec<u8>> {
        let plan = self.prehashed_plan(algorithm)?;
        self.with_signature_input(key, algorithm, plan, digest, |s, mechanism, handle, input| {
            Ok(s.sign(mechanism, handle, input)?)
        })
    }

    fn verify_digest(
        &self,
        key: &[u8],
        algorithm: SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> HsmResult<bool> {
        let plan = self.prehashed_plan(algorithm)?;
        self.with_signature_input(key, algorithm, plan, digest, |s, mechanism, handle, input| {
            verdict(s.verify(mechanism, handle, input, signature))
        })
    }

    fn mac(&self, key: &[u8], algorithm: MacAlgorithm, data: &[u8]) -> HsmResult<Vec<u8>> {
        self.require(mac_capability(algorithm))?;
        let mechanism = mac_mechanism(algorithm);
        self.with_key(Idempotence::Idempotent, key, |s, handle| Ok(s.sign(&mechanism, handle, data)?))
    }

    fn mac_verify(&self, key: &[u8], algorithm: MacAlgorithm, data: &[u8], mac: &[u8]) -> HsmResult<bool> {
        self.require(mac_capability(algorithm))?;
        let mechanism = mac_mechanism(algorithm);
        self.with_key(Idempotence::Idempotent, key, |s, handle| verdict(s.verify(&mechanism, handle, data, mac)))
    }

    fn digest(&self, algorithm: HashAlg, data: &[u8]) -> HsmResult<Vec<u8>> {
        self.require(Capability::Digest(algorithm))?;
        let mechanism = digest_mechanism(algorithm);
        self.pool.run(Idempotence::Idempotent, |s| Ok(s.digest(&mechanism, data)?))
    }

    /// `C_DigestInit`, `C_DigestKey`, `C_DigestFinal` on one pooled session.
    ///
    /// Only secret keys are digested: PKCS#11 defines `C_DigestKey` for them, and SoftHSM 2.6.1 would otherwise
    /// hash an EC private key's raw `CKA_VALUE` scalar, which is not what KMIP's Digest covers (the encoded Key
    /// Material); public keys it refuses with `CKR_KEY_INDIGESTIBLE`. Anything refused this way, by kmipd or the
    /// module, is an [`ErrorClass::Indigestible`](super::ErrorClass::Indigestible) error; a profile without
    /// `digest-key` or the hash gives [`ErrorClass::NotSupported`](super::ErrorClass::NotSupported). Either tells
    /// the caller to omit the Digest.
    ///
    /// A failed `C_DigestKey` may leave the digest operation active (the standard says an error ends it, not every
    /// module complies): `C_DigestFinal` is then called to end it, so the session goes back to the pool clean.
    fn digest_key(&self, key: &[u8], algorithm: HashAlg) -> HsmResult<Vec<u8>> {
        self.require(Capability::DigestKey)?;
        self.require(Capability::Digest(algorithm))?;
        let mechanism = digest_mechanism(algorithm);
        self.with_key(Idempotence::Idempotent, key, |s, handle| {
            let class = s.get_attributes(handle, &[AttributeType::Class])?.into_iter().find_map(|a| match a {
                Attribute::Class(class) => Some(class),
                _ => None,
            });
            if class != Some(ObjectClass::SECRET_KEY) {
                return Err(HsmError::Indigestible("only secret keys are digested inside the HSM".into()));
            }
            s.digest_init(&mechanism)?;
            if let Err(error) = s.digest_key(handle) {
                // Ends the operation if the module left it active; fails harmlessly if not.
                let _ = s.digest_final();
                return Err(error.into());
            }
            Ok(s.digest_final()?)
        })
    }

    fn derive_key(&self, base: &[u8], derivation: &Derivation, spec: SecretKeySpec, object: &NewObject) -> HsmResult<()> {
        let mechanism = match derivation {
            Derivation::AesCbcEncrypt { iv, data } => {
                self.require(Capability::AesCbcEncryptData)?;
                if data.is_empty() || data.len() % 16 != 0 {
                    return Err(HsmError::InvalidInput("AES-CBC derivation data must be whole 16-byte blocks".into()));
                }
                if usize::try_from(spec.bits / 8).map_or(true, |len| len > data.len()) {
                    return Err(HsmError::InvalidInput("the derived key is longer than the derivation data".into()));
                }
                Mechanism::AesCbcEncryptData(AesCbcDeriveParams::new(*iv, data))
            }
        };
        let cka_id = self.cka_id(&object.id)?;
        let id = Identity { cka_id: &cka_id, label: self.object_label(object)? };
        let template = self.templates.secret_key(secret_key_type(spec.algorithm), object, &id, value_len(spec), None);
        let handle = self.with_key(Idempotence::NotIdempotent, base, |s, handle| {
            Ok(s.derive_key(&mechanism, handle, &template)?)
        })?;
        self.cache_put(cka_id, handle);
        Ok(())
    }

    fn random(&self, len: usize) -> HsmResult<SecretBytes> {
        self.require(Capability::Random)?;
        self.pool.run(Idempotence::Idempotent, |s| Ok(Zeroizing::new(self.random_bytes(s, len)?)))
    }

    fn seed_random(&self, seed: &[u8]) -> HsmResult<()> {
        self.require(Capability::SeedRandom)?;
        self.pool.run(Idempotence::Idempotent, |s| Ok(s.seed_random(seed)?))
    }

    fn public_key(&self, key: &[u8]) -> HsmResult<PublicKeyMaterial> {
        self.with_key(Idempotence::Idempotent, key, |s, handle| {
            let attrs = s.get_attributes(
                handle,
                &[
                    AttributeType::KeyType,
                    AttributeType::Modulus,
                    AttributeType::PublicExponent,
                    AttributeType::EcParams,
                    AttributeType::EcPoint,
                ],
            )?;
            let (mut key_type, mut modulus, mut exponent, mut params, mut point) = (None, None, None, None, None);
            for attr in attrs {
                match attr {
                    Attribute::KeyType(t) => key_type = Some(t),
                    Attribute::Modulus(m) => modulus = Some(m),
                    Attribute::PublicExponent(e) => exponent = Some(e),
                    Attribute::EcParams(p) => params = Some(p),
                    Attribute::EcPoint(p) => point = Some(p),
                    _ => {}
                }
            }
            match (key_type, modulus, exponent, params, point) {
                (Some(t), Some(modulus), Some(public_exponent), _, _) if t == CkKeyType::RSA => {
                    Ok(PublicKeyMaterial::Rsa { modulus, public_exponent })
                }
                (_, _, _, Some(params), Some(point)) => {
                    let curve = curve_from_params(&params)
                        .ok_or_else(|| HsmError::NotSupported("public key on an unknown curve".into()))?;
                    Ok(PublicKeyMaterial::Ec { curve, point: ec_point_from_attribute(curve, point)? })
                }
                _ => Err(HsmError::InvalidInput(
                    "no public key material here (a private key's public half is a separate object)".into(),
                )),
            }
        })
    }

    fn export_private_key(&self, key: &[u8]) -> HsmResult<PrivateKeyMaterial> {
        const SENSITIVE: &str = "the private key is sensitive or not extractable";
        self.with_key(Idempotence::Idempotent, key, |s, handle| {
            let wanted = [
                AttributeType::KeyType,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
                AttributeType::PrivateExponent,
                AttributeType::Prime1,
                AttributeType::Prime2,
                AttributeType::Exponent1,
                AttributeType::Exponent2,
                AttributeType::Coefficient,
                AttributeType::EcParams,
                AttributeType::Prime,
                AttributeType::Base,
                AttributeType::Value,
            ];
            let attrs = match s.get_attributes(handle, &wanted) {
                Ok(attrs) => attrs,
                Err(e) if rv(&e) == Some(RvError::AttributeSensitive) => return Err(HsmError::Sensitive(SENSITIVE.into())),
                Err(e) => return Err(e.into()),
            };
            let mut key_type = None;
            let (mut n, mut e, mut params, mut prime, mut base) = (None, None, None, None, None);
            let [mut d, mut p, mut q, mut dp, mut dq, mut qinv, mut value] = Default::default();
            for attr in attrs {
                match attr {
                    Attribute::KeyType(t) => key_type = Some(t),
                    Attribute::Modulus(v) => n = Some(v),
                    Attribute::PublicExponent(v) => e = Some(v),
                    Attribute::PrivateExponent(v) => d = Some(Zeroizing::new(v)),
                    Attribute::Prime1(v) => p = Some(Zeroizing::new(v)),
                    Attribute::Prime2(v) => q = Some(Zeroizing::new(v)),
                    Attribute::Exponent1(v) => dp = Some(Zeroizing::new(v)),
                    Attribute::Exponent2(v) => dq = Some(Zeroizing::new(v)),
                    Attribute::Coefficient(v) => qinv = Some(Zeroizing::new(v)),
                    Attribute::EcParams(v) => params = Some(v),
                    Attribute::Prime(v) => prime = Some(v),
                    Attribute::Base(v) => base = Some(v),
                    Attribute::Value(v) => value = Some(Zeroizing::new(v)),
                    _ => {}
                }
            }
            // cryptoki leaves out the attributes the module reports unavailable: that is how a sensitive key answers.
            if key_type == Some(CkKeyType::RSA) {
                return match (n, e, d, p, q, dp, dq, qinv) {
                    (Some(modulus), Some(public_exponent), Some(d), Some(p), Some(q), Some(dp), Some(dq), Some(qinv)) => {
                        Ok(PrivateKeyMaterial::Rsa {
                            modulus,
                            public_exponent,
                            private_exponent: d,
                            prime_1: p,
                            prime_2: q,
                            exponent_1: dp,
                            exponent_2: dq,
                            coefficient: qinv,
                        })
                    }
                    _ => Err(HsmError::Sensitive(SENSITIVE.into())),
                };
            }
            if key_type == Some(CkKeyType::DSA) {
                let subprime = module::raw_byte_attribute(&self.module_path, s, handle, cryptoki_sys::CKA_SUBPRIME)?;
                return match (prime, subprime, base, value) {
                    (Some(prime), Some(subprime), Some(base), Some(value)) => {
                        Ok(PrivateKeyMaterial::Dsa { prime, subprime, base, value })
                    }
                    (Some(_), Some(_), Some(_), None) => Err(HsmError::Sensitive(SENSITIVE.into())),
                    _ => Err(HsmError::InvalidInput("a DSA private key without its domain parameters".into())),
                };
            }
            match (params, value) {
                (Some(params), Some(value)) => {
                    let curve = curve_from_params(&params)
                        .ok_or_else(|| HsmError::NotSupported("private key on an unknown curve".into()))?;
                    Ok(PrivateKeyMaterial::Ec { curve, value })
                }
                (Some(_), None) => Err(HsmError::Sensitive(SENSITIVE.into())),
                _ => Err(HsmError::InvalidInput("not an RSA, EC or DSA private key".into())),
            }
        })
    }

    fn export_secret_key(&self, key: &[u8]) -> HsmResult<SecretBytes> {
        self.with_key(Idempotence::Idempotent, key, |s, handle| {
            match s.get_attributes(handle, &[AttributeType::Value]) {
                Ok(attrs) => attrs
                    .into_iter()
                    .find_map(|a| match a {
                        Attribute::Value(v) => Some(Zeroizing::new(v)),
                        _ => None,
                    })
                    // cryptoki skips attributes the module marks unavailable, which is how sensitive values come back.
                    .ok_or_else(|| HsmError::Sensitive("the key is sensitive or not extractable".into())),
                Err(e) if rv(&e) == Some(RvError::AttributeSensitive) => {
                    Err(HsmError::Sensitive("the key is sensitive or not extractable".into()))
                }
                Err(e) => Err(e.into()),
            }
        })
    }

    fn object_info(&self, key: &[u8]) -> HsmResult<ObjectInfo> {
        self.with_key(Idempotence::Idempotent, key, |s, handle| {
            let wanted = [
                AttributeType::Class,
                AttributeType::KeyType,
                AttributeType::Label,
                AttributeType::Token,
                AttributeType::ValueLen,
                AttributeType::ModulusBits,
                AttributeType::Modulus,
                AttributeType::EcParams,
                AttributeType::Prime,
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
                AttributeType::Local,
                AttributeType::Encrypt,
                AttributeType::Decrypt,
                AttributeType::Sign,
                AttributeType::Verify,
                AttributeType::Wrap,
                AttributeType::Unwrap,
                AttributeType::Derive,
            ];
            let mut info = ObjectInfo {
                kind: ObjectKind::Other,
                key_type: KeyType::Other,
                label: String::new(),
                bits: None,
                token: false,
                sensitive: None,
                extractable: None,
                always_sensitive: None,
                never_extractable: None,
                local: None,
                usage: KeyUsage::default(),
            };
            for attr in s.get_attributes(handle, &wanted)? {
                match attr {
                    Attribute::Class(c) => {
                        info.kind = match c {
                            ObjectClass::SECRET_KEY => ObjectKind::SecretKey,
                            ObjectClass::PRIVATE_KEY => ObjectKind::PrivateKey,
                            ObjectClass::PUBLIC_KEY => ObjectKind::PublicKey,
                            _ => ObjectKind::Other,
                        }
                    }
                    Attribute::KeyType(t) => {
                        info.key_type = match t {
                            CkKeyType::AES => KeyType::Aes,
                            CkKeyType::GENERIC_SECRET => KeyType::GenericSecret,
                            CkKeyType::DES3 => KeyType::Des3,
                            CkKeyType::DES2 => KeyType::Des2,
                            CkKeyType::RSA => KeyType::Rsa,
                            CkKeyType::EC => KeyType::Ec,
                            CkKeyType::EC_EDWARDS => KeyType::EcEdwards,
                            CkKeyType::DSA => KeyType::Dsa,
                            _ => KeyType::Other,
                        }
                    }
                    Attribute::Label(l) => info.label = String::from_utf8_lossy(&l).into_owned(),
                    Attribute::Token(b) => info.token = b,
                    Attribute::ValueLen(len) => info.bits = u32::try_from(u64::from(len) * 8).ok(),
                    Attribute::ModulusBits(bits) => info.bits = u32::try_from(u64::from(bits)).ok(),
                    Attribute::Modulus(m) if info.bits.is_none() => info.bits = u32::try_from(m.len() * 8).ok(),
                    Attribute::EcParams(p) => info.bits = curve_from_params(&p).map(Curve::bits),
                    Attribute::Prime(p) => info.bits = u32::try_from(p.len() * 8).ok(),
                    Attribute::Sensitive(b) => info.sensitive = Some(b),
                    Attribute::Extractable(b) => info.extractable = Some(b),
                    Attribute::AlwaysSensitive(b) => info.always_sensitive = Some(b),
                    Attribute::NeverExtractable(b) => info.never_extractable = Some(b),
                    Attribute::Local(b) => info.local = Some(b),
                    Attribute::Encrypt(b) => info.usage.encrypt = b,
                    Attribute::Decrypt(b) => info.usage.decrypt = b,
                    Attribute::Sign(b) => info.usage.sign = b,
                    Attribute::Verify(b) => info.usage.verify = b,
                    Attribute::Wrap(b) => info.usage.wrap = b,
                    Attribute::Unwrap(b) => info.usage.unwrap = b,
                    Attribute::Derive(b) => info.usage.derive = b,
                    _ => {}
                }
            }
            Ok(info)
        })
    }

    fn set_attributes(&self, key: &[u8], update: &AttributeUpdate) -> HsmResult<()> {
        self.require(Capability::SetAttribute)?;
        let mut template = Vec::new();
        if let Some(usage) = update.usage {
            template = self.templates.usage_update(self.object_info(key)?.kind, usage);
        }
        // Under the hashed id strategy the label carries the caller id (see `object_label`): it stays.
        let relabel = self.profile.objects.id_strategy == IdStrategy::Prefixed;
        if let Some(label) = update.label.as_ref().filter(|_| relabel) {
            template.push(Attribute::Label(self.label(label).as_bytes().to_vec()));
        }
        if template.is_empty() {
            return Ok(());
        }
        self.with_key(Idempotence::Idempotent, key, |s, handle| Ok(s.update_attributes(handle, &template)?))
    }

    fn destroy(&self, key: &[u8]) -> HsmResult<()> {
        let cka_id = self.cka_id(key)?;
        self.with_key(Idempotence::Idempotent, key, |s, handle| Ok(s.destroy_object(handle)?))?;
        self.cache_remove(&cka_id);
        Ok(())
    }

    fn list_objects(&self) -> HsmResult<Vec<ObjectSummary>> {
        let scanned = self.scan_token()?;
        Ok(scanned.into_iter().map(|(summary, _)| summary).collect())
    }
}

/// A template carrying key material; the material is wiped when the template is dropped.
struct SecretTemplate(Vec<Attribute>);

impl Drop for SecretTemplate {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        for attr in &mut self.0 {
            if let Attribute::Value(v)
            | Attribute::PrivateExponent(v)
            | Attribute::Prime1(v)
            | Attribute::Prime2(v)
            | Attribute::Exponent1(v)
            | Attribute::Exponent2(v)
            | Attribute::Coefficient(v) = attr
            {
                v.zeroize();
            }
        }
    }
}

/// A failed AES-GCM tag check is the caller's problem, not the device's; SoftHSM reports it as
/// `CKR_GENERAL_ERROR`, the standard says `CKR_ENCRYPTED_DATA_INVALID`.
fn gcm_integrity(cipher: &Cipher, error: HsmError) -> HsmError {
    match error {
        HsmError::Pkcs11 { code, function, .. }
            if matches!(cipher, Cipher::AesGcm { .. })
                && matches!(code.as_str(), "CKR_GENERAL_ERROR" | "CKR_ENCRYPTED_DATA_INVALID") =>
        {
            HsmError::Pkcs11 { code, class: super::ErrorClass::InvalidInput, function }
        }
        other => other,
    }
}

/// Maps a verify result: a mismatch is an answer, not an error.
fn verdict(result: cryptoki::error::Result<()>) -> HsmResult<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if matches!(rv(&e), Some(RvError::SignatureInvalid | RvError::SignatureLenRange)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A multi-part operation; the session goes back to the pool when it finishes, and is closed instead if the
/// stream is dropped midway (an active operation would poison the next user).
struct Pkcs11Stream {
    session: Option<PooledSession>,
    direction: Direction,
}

impl Pkcs11Stream {
    fn session(&self) -> HsmResult<&PooledSession> {
        self.session.as_ref().ok_or_else(|| HsmError::InvalidInput("cipher stream already finished".into()))
    }
}

impl CipherStream for Pkcs11Stream {
    fn update(&mut self, data: &[u8]) -> HsmResult<SecretBytes> {
        let session = self.session()?;
        let out = match self.direction {
            Direction::Encrypt => session.encrypt_update(data),
            Direction::Decrypt => session.decrypt_update(data),
        };
        match out {
            Ok(out) => Ok(Zeroizing::new(out)),
            Err(e) => {
                // A failed update ends the operation; don't hand this session back in an unknown state.
                if let Some(mut s) = self.session.take() {
                    s.discard();
                }
                Err(e.into())
            }
        }
    }

    fn finish(mut self: Box<Self>) -> HsmResult<SecretBytes> {
        let mut session =
            self.session.take().ok_or_else(|| HsmError::InvalidInput("cipher stream already finished".into()))?;
        let out = match self.direction {
            Direction::Encrypt => session.encrypt_final(),
            Direction::Decrypt => session.decrypt_final(),
        };
        if out.is_err() {
            session.discard();
        }
        Ok(Zeroizing::new(out?))
    }
}

impl Drop for Pkcs11Stream {
    fn drop(&mut self) {
        if let Some(mut session) = self.session.take() {
            session.discard();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(login: &str) -> Profile {
        let text =
            format!("name = \"t\"\n[module]\npath = \"/x.so\"\n[login]\n{login}\n[mechanisms]\ncapabilities = []\n");
        Profile::parse(&text).unwrap()
    }

    #[test]
    fn pin_formats() {
        let pin = |login: &str| format_pin(&profile(login), "secret").map(|p| p.expose_secret().to_string());
        assert_eq!(pin("pin_format = \"plain\"").unwrap(), "secret");
        assert_eq!(pin("pin_format = \"user-colon-password\"\nuser = \"cu\"").unwrap(), "cu:secret");
        assert_eq!(pin("pin_format = \"key-id-password\"\nkey_id = 1").unwrap(), "0001secret");
        assert!(pin("pin_format = \"user-colon-password\"").is_err());
    }

    #[test]
    fn pins_are_read_without_trailing_newlines() {
        let path = std::env::temp_dir().join(format!("kmipd-pin-unit-{}", std::process::id()));
        std::fs::write(&path, "1234\r\n").unwrap();
        assert_eq!(PinSource::File(path.clone()).read().unwrap().as_str(), "1234");
        std::fs::remove_file(path).unwrap();
    }
}
