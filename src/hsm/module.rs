//! Loading a PKCS#11 module once per process, finding a token, and the few raw calls cryptoki can't make (the
//! unfiltered mechanism list, attributes it has no name for).
//!
//! `C_Initialize` must run once per process (parallel initializations fail or crash) and `C_Finalize` never runs:
//! with OpenSSL 3 it can crash at exit (DESIGN.md §3). The contexts live in a process-wide map for good.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::Rv;
use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;
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

fn raw_libraries() -> &'static Mutex<HashMap<PathBuf, Arc<cryptoki_sys::Pkcs11>>> {
    static RAW: OnceLock<Mutex<HashMap<PathBuf, Arc<cryptoki_sys::Pkcs11>>>> = OnceLock::new();
    RAW.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The module's own C functions, for the few calls cryptoki can't make; loaded once per path and kept. The module
/// must already be loaded and initialized by [`context`]: dlopen then returns that same library and this handle
/// only raises its reference count.
#[allow(unsafe_code)]
fn raw_library(path: &Path) -> HsmResult<Arc<cryptoki_sys::Pkcs11>> {
    let mut map = raw_libraries().lock().map_err(|_| HsmError::Module("module registry poisoned".into()))?;
    if let Some(lib) = map.get(path) {
        return Ok(Arc::clone(lib));
    }
    // SAFETY: loading runs the library's initializers, which already ran when `context` loaded it; the symbols are
    // only resolved here, each call below checks the one it uses.
    let lib = unsafe { cryptoki_sys::Pkcs11::new(path) }
        .map_err(|e| HsmError::Module(format!("cannot load {}: {e}", path.display())))?;
    let lib = Arc::new(lib);
    map.insert(path.to_path_buf(), Arc::clone(&lib));
    Ok(lib)
}

/// A function of the raw library, or the reason the module lacks it.
fn symbol<'a, F, E: std::fmt::Display>(function: &'a Result<F, E>, name: &str) -> HsmResult<&'a F> {
    function.as_ref().map_err(|e| HsmError::Module(format!("the module exports no {name}: {e}")))
}

/// The slot's mechanism list exactly as the module reports it. cryptoki's `get_mechanism_list` drops the types it
/// does not know (30 of SoftHSM's 70), which would make a probe report false gaps.
#[allow(unsafe_code)]
pub fn raw_mechanism_list(path: &Path, slot: Slot) -> HsmResult<Vec<u64>> {
    let lib = raw_library(path)?;
    let get_list = symbol(&lib.C_GetMechanismList, "C_GetMechanismList")?;
    // SAFETY: C_GetMechanismList is called per the spec: first with a NULL buffer to get the count, then with a
    // buffer of exactly that many elements, and the result is truncated to the count the module wrote back.
    unsafe {
        let mut count: cryptoki_sys::CK_ULONG = 0;
        let rv = get_list(slot.id(), std::ptr::null_mut(), &mut count);
        if rv != cryptoki_sys::CKR_OK {
            return Err(HsmError::Module(format!("C_GetMechanismList returned {rv:#x}")));
        }
        let len = usize::try_from(count).map_err(|_| HsmError::Module("mechanism count overflow".into()))?;
        let mut list: Vec<cryptoki_sys::CK_MECHANISM_TYPE> = vec![0; len];
        let rv = get_list(slot.id(), list.as_mut_ptr(), &mut count);
        if rv != cryptoki_sys::CKR_OK {
            return Err(HsmError::Module(format!("C_GetMechanismList returned {rv:#x}")));
        }
        list.truncate(usize::try_from(count).unwrap_or(len).min(len));
        Ok(list)
    }
}

/// One byte-array attribute of `object`, read with the module's own `C_GetAttributeValue`: cryptoki 0.12 fails the
/// whole read on attribute types it has no name for (`CKA_SUBPRIME` among them). `None` when the object has no
/// such attribute or may not reveal it.
#[allow(unsafe_code)]
pub fn raw_byte_attribute(
    path: &Path,
    session: &Session,
    object: ObjectHandle,
    attribute: cryptoki_sys::CK_ATTRIBUTE_TYPE,
) -> HsmResult<Option<Vec<u8>>> {
    use cryptoki_sys::{CK_ATTRIBUTE, CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID, CK_UNAVAILABLE_INFORMATION};
    let lib = raw_library(path)?;
    let get_value = symbol(&lib.C_GetAttributeValue, "C_GetAttributeValue")?;
    let mut template = CK_ATTRIBUTE { type_: attribute, pValue: std::ptr::null_mut(), ulValueLen: 0 };
    // SAFETY: a one-element template; with a NULL pValue the module only writes the length.
    let rv = unsafe { get_value(session.handle(), object.handle(), &mut template, 1) };
    match rv {
        CKR_ATTRIBUTE_SENSITIVE | CKR_ATTRIBUTE_TYPE_INVALID => return Ok(None),
        _ => Rv::from(rv).into_result(Function::GetAttributeValue)?,
    }
    if template.ulValueLen == CK_UNAVAILABLE_INFORMATION {
        return Ok(None);
    }
    let len = usize::try_from(template.ulValueLen).map_err(|_| HsmError::Module("attribute length overflow".into()))?;
    let mut value = vec![0u8; len];
    template.pValue = value.as_mut_ptr().cast();
    // SAFETY: pValue points at `len` writable bytes and ulValueLen says so; the module writes at most that many.
    let rv = unsafe { get_value(session.handle(), object.handle(), &mut template, 1) };
    Rv::from(rv).into_result(Function::GetAttributeValue)?;
    value.truncate(usize::try_from(template.ulValueLen).unwrap_or(len).min(len));
    Ok(Some(value))
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
