//! Loading a PKCS#11 module once per process, finding a token, and reading the raw mechanism list.
//!
//! `C_Initialize` must run once per process (parallel initializations fail or crash) and `C_Finalize` never runs:
//! with OpenSSL 3 it can crash at exit (DESIGN.md §3). The contexts live in a process-wide map for good.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::slot::Slot;

use super::{HsmError, HsmResult};

fn contexts() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    CONTEXTS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Returns the process-wide initialized context for `path`, loading and initializing the module on first use.
/// `env` is applied (for variables not already set) just before the first `C_Initialize`, which is when modules
/// read their configuration (e.g. `SOFTHSM2_CONF`).
pub fn context(path: &Path, env: &[(String, String)]) -> HsmResult<Pkcs11> {
    let mut map = contexts().lock().map_err(|_| HsmError::Module("module registry poisoned".into()))?;
    if let Some(ctx) = map.get(path) {
        return Ok(ctx.clone());
    }
    for (name, value) in env {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
    let ctx = Pkcs11::new(path).map_err(|e| HsmError::Module(format!("cannot load {}: {e}", path.display())))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        // Someone else in this process (another binding) initialized it: usable as is.
        Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(HsmError::from(e)),
    }
    map.insert(path.to_path_buf(), ctx.clone());
    Ok(ctx)
}

/// Finds the slot holding the token with this serial (preferred) or label.
pub fn find_token(ctx: &Pkcs11, label: Option<&str>, serial: Option<&str>) -> HsmResult<Slot> {
    if label.is_none() && serial.is_none() {
        return Err(HsmError::Config("no token label or serial configured".into()));
    }
    for slot in ctx.get_slots_with_initialized_token()? {
        let info = ctx.get_token_info(slot)?;
        let matches = match serial {
            Some(serial) => info.serial_number().trim_end() == serial,
            None => label.is_some_and(|label| info.label().trim_end() == label),
        };
        if matches {
            return Ok(slot);
        }
    }
    Err(HsmError::Module(match serial {
        Some(serial) => format!("no initialized token with serial {serial:?}"),
        None => format!("no initialized token labelled {:?}", label.unwrap_or_default()),
    }))
}

/// The slot's mechanism list exactly as the module reports it. cryptoki's `get_mechanism_list` drops the types it
/// does not know (30 of SoftHSM's 70), which would make a probe report false gaps.
#[allow(unsafe_code)]
pub fn raw_mechanism_list(path: &Path, slot: Slot) -> HsmResult<Vec<u64>> {
    // SAFETY: the module was loaded and initialized by `context` (dlopen returns the same, already initialized
    // library; this second handle only raises its reference count). C_GetMechanismList is called per the spec:
    // first with a NULL buffer to get the count, then with a buffer of exactly that many elements, and the
    // result is truncated to the count the module wrote back.
    unsafe {
        let lib = cryptoki_sys::Pkcs11::new(path)
            .map_err(|e| HsmError::Module(format!("cannot load {}: {e}", path.display())))?;
        let mut count: cryptoki_sys::CK_ULONG = 0;
        let rv = lib.C_GetMechanismList(slot.id(), std::ptr::null_mut(), &mut count);
        if rv != cryptoki_sys::CKR_OK {
            return Err(HsmError::Module(format!("C_GetMechanismList returned {rv:#x}")));
        }
        let len = usize::try_from(count).map_err(|_| HsmError::Module("mechanism count overflow".into()))?;
        let mut list: Vec<cryptoki_sys::CK_MECHANISM_TYPE> = vec![0; len];
        let rv = lib.C_GetMechanismList(slot.id(), list.as_mut_ptr(), &mut count);
        if rv != cryptoki_sys::CKR_OK {
            return Err(HsmError::Module(format!("C_GetMechanismList returned {rv:#x}")));
        }
        list.truncate(usize::try_from(count).unwrap_or(len).min(len));
        Ok(list)
    }
}

/// The `CKM_*` name of the mechanisms kmipd cares about, else the number in hex.
pub fn mechanism_name(mechanism: u64) -> String {
    use cryptoki_sys as s;
    let name = match mechanism {
        s::CKM_RSA_PKCS_KEY_PAIR_GEN => "CKM_RSA_PKCS_KEY_PAIR_GEN",
        s::CKM_RSA_PKCS => "CKM_RSA_PKCS",
        s::CKM_RSA_X_509 => "CKM_RSA_X_509",
        s::CKM_RSA_PKCS_OAEP => "CKM_RSA_PKCS_OAEP",
        s::CKM_RSA_PKCS_PSS => "CKM_RSA_PKCS_PSS",
        s::CKM_SHA1_RSA_PKCS => "CKM_SHA1_RSA_PKCS",
        s::CKM_SHA224_RSA_PKCS => "CKM_SHA224_RSA_PKCS",
        s::CKM_SHA256_RSA_PKCS => "CKM_SHA256_RSA_PKCS",
        s::CKM_SHA384_RSA_PKCS => "CKM_SHA384_RSA_PKCS",
        s::CKM_SHA512_RSA_PKCS => "CKM_SHA512_RSA_PKCS",
        s::CKM_SHA1_RSA_PKCS_PSS => "CKM_SHA1_RSA_PKCS_PSS",
        s::CKM_SHA224_RSA_PKCS_PSS => "CKM_SHA224_RSA_PKCS_PSS",
        s::CKM_SHA256_RSA_PKCS_PSS => "CKM_SHA256_RSA_PKCS_PSS",
        s::CKM_SHA384_RSA_PKCS_PSS => "CKM_SHA384_RSA_PKCS_PSS",
        s::CKM_SHA512_RSA_PKCS_PSS => "CKM_SHA512_RSA_PKCS_PSS",
        s::CKM_SHA_1 => "CKM_SHA_1",
        s::CKM_SHA224 => "CKM_SHA224",
        s::CKM_SHA256 => "CKM_SHA256",
        s::CKM_SHA384 => "CKM_SHA384",
        s::CKM_SHA512 => "CKM_SHA512",
        s::CKM_SHA_1_HMAC => "CKM_SHA_1_HMAC",
        s::CKM_SHA224_HMAC => "CKM_SHA224_HMAC",
        s::CKM_SHA256_HMAC => "CKM_SHA256_HMAC",
        s::CKM_SHA384_HMAC => "CKM_SHA384_HMAC",
        s::CKM_SHA512_HMAC => "CKM_SHA512_HMAC",
        s::CKM_GENERIC_SECRET_KEY_GEN => "CKM_GENERIC_SECRET_KEY_GEN",
        s::CKM_EC_KEY_PAIR_GEN => "CKM_EC_KEY_PAIR_GEN",
        s::CKM_EC_EDWARDS_KEY_PAIR_GEN => "CKM_EC_EDWARDS_KEY_PAIR_GEN",
        s::CKM_ECDSA => "CKM_ECDSA",
        s::CKM_ECDSA_SHA1 => "CKM_ECDSA_SHA1",
        s::CKM_ECDSA_SHA224 => "CKM_ECDSA_SHA224",
        s::CKM_ECDSA_SHA256 => "CKM_ECDSA_SHA256",
        s::CKM_ECDSA_SHA384 => "CKM_ECDSA_SHA384",
        s::CKM_ECDSA_SHA512 => "CKM_ECDSA_SHA512",
        s::CKM_EDDSA => "CKM_EDDSA",
        s::CKM_ECDH1_DERIVE => "CKM_ECDH1_DERIVE",
        s::CKM_AES_KEY_GEN => "CKM_AES_KEY_GEN",
        s::CKM_AES_ECB => "CKM_AES_ECB",
        s::CKM_AES_CBC => "CKM_AES_CBC",
        s::CKM_AES_CBC_PAD => "CKM_AES_CBC_PAD",
        s::CKM_AES_CTR => "CKM_AES_CTR",
        s::CKM_AES_GCM => "CKM_AES_GCM",
        s::CKM_AES_CMAC => "CKM_AES_CMAC",
        s::CKM_AES_KEY_WRAP => "CKM_AES_KEY_WRAP",
        s::CKM_AES_KEY_WRAP_PAD => "CKM_AES_KEY_WRAP_PAD",
        s::CKM_AES_KEY_WRAP_KWP => "CKM_AES_KEY_WRAP_KWP",
        s::CKM_MD5 => "CKM_MD5",
        s::CKM_MD5_HMAC => "CKM_MD5_HMAC",
        s::CKM_MD5_RSA_PKCS => "CKM_MD5_RSA_PKCS",
        s::CKM_DSA_KEY_PAIR_GEN => "CKM_DSA_KEY_PAIR_GEN",
        s::CKM_DSA => "CKM_DSA",
        s::CKM_DSA_SHA1 => "CKM_DSA_SHA1",
        s::CKM_DSA_SHA224 => "CKM_DSA_SHA224",
        s::CKM_DSA_SHA256 => "CKM_DSA_SHA256",
        s::CKM_DSA_SHA384 => "CKM_DSA_SHA384",
        s::CKM_DSA_SHA512 => "CKM_DSA_SHA512",
        s::CKM_DSA_PARAMETER_GEN => "CKM_DSA_PARAMETER_GEN",
        s::CKM_DH_PKCS_KEY_PAIR_GEN => "CKM_DH_PKCS_KEY_PAIR_GEN",
        s::CKM_DH_PKCS_DERIVE => "CKM_DH_PKCS_DERIVE",
        s::CKM_DH_PKCS_PARAMETER_GEN => "CKM_DH_PKCS_PARAMETER_GEN",
        s::CKM_DES_KEY_GEN => "CKM_DES_KEY_GEN",
        s::CKM_DES_ECB => "CKM_DES_ECB",
        s::CKM_DES_CBC => "CKM_DES_CBC",
        s::CKM_DES_CBC_PAD => "CKM_DES_CBC_PAD",
        s::CKM_DES2_KEY_GEN => "CKM_DES2_KEY_GEN",
        s::CKM_DES3_KEY_GEN => "CKM_DES3_KEY_GEN",
        s::CKM_DES3_ECB => "CKM_DES3_ECB",
        s::CKM_DES3_CBC => "CKM_DES3_CBC",
        s::CKM_DES3_CBC_PAD => "CKM_DES3_CBC_PAD",
        s::CKM_DES3_CMAC => "CKM_DES3_CMAC",
        s::CKM_DES_ECB_ENCRYPT_DATA => "CKM_DES_ECB_ENCRYPT_DATA",
        s::CKM_DES_CBC_ENCRYPT_DATA => "CKM_DES_CBC_ENCRYPT_DATA",
        s::CKM_DES3_ECB_ENCRYPT_DATA => "CKM_DES3_ECB_ENCRYPT_DATA",
        s::CKM_DES3_CBC_ENCRYPT_DATA => "CKM_DES3_CBC_ENCRYPT_DATA",
        s::CKM_AES_ECB_ENCRYPT_DATA => "CKM_AES_ECB_ENCRYPT_DATA",
        s::CKM_AES_CBC_ENCRYPT_DATA => "CKM_AES_CBC_ENCRYPT_DATA",
        _ => return format!("{mechanism:#x}"),
    };
    name.to_string()
}
