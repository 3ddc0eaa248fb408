//! Shared fixture of the HSM tests: a private SoftHSM2 token per test binary (one `C_Initialize` per process),
//! prepared by `softhsm/setup.sh`, never the machine's global token store.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use kmipd::hsm::{HsmConfig, PinSource, Pkcs11Hsm, Profile};
use secrecy::SecretString;

/// The token label every fixture uses (the label `hsm-profiles/softhsm2.toml` expects).
pub const TOKEN_LABEL: &str = "kmipd";
/// The user PIN of fixture tokens.
pub const USER_PIN: &str = "1234-user";
const SO_PIN: &str = "5678-so";

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Creates a fresh token in a per-binary state directory and returns the conf path. `extra_conf` lines are
/// appended to softhsm2.conf (e.g. `slots.mechanisms = ...`).
pub fn make_token(name: &str, extra_conf: &[&str]) -> PathBuf {
    let state = std::env::temp_dir().join(format!("kmipd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let output = Command::new("bash")
        .arg(repo().join("softhsm/setup.sh"))
        .arg(&state)
        .arg(TOKEN_LABEL)
        .arg(SO_PIN)
        .arg(USER_PIN)
        .args(extra_conf)
        .output()
        .expect("run softhsm/setup.sh");
    assert!(output.status.success(), "setup.sh failed: {}", String::from_utf8_lossy(&output.stderr));
    let conf = PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
    assert!(conf.exists(), "{conf:?} missing");
    conf
}

/// The SoftHSM2 profile of the repository.
pub fn softhsm_profile() -> Profile {
    Profile::load(&repo().join("hsm-profiles/softhsm2.toml")).unwrap()
}

/// Opens an `Hsm` on the process's token with `profile`.
pub fn open(profile: Profile) -> Pkcs11Hsm {
    let config = HsmConfig { pin: Some(PinSource::Value(SecretString::from(USER_PIN))), ..HsmConfig::new(profile) };
    Pkcs11Hsm::open(config).unwrap()
}

/// The process-wide token: created once, then `SOFTHSM2_CONF` points at it before the first `C_Initialize`.
pub fn token(extra_conf: &[&str]) -> &'static Path {
    static CONF: OnceLock<PathBuf> = OnceLock::new();
    CONF.get_or_init(|| {
        let name = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "hsm".into());
        let conf = make_token(&name, extra_conf);
        std::env::set_var("SOFTHSM2_CONF", &conf);
        conf
    })
}

/// The process-wide `Hsm` with the repository's SoftHSM2 profile.
pub fn hsm() -> &'static Pkcs11Hsm {
    static HSM: OnceLock<Pkcs11Hsm> = OnceLock::new();
    HSM.get_or_init(|| {
        token(&[]);
        open(softhsm_profile())
    })
}

/// A unique caller id for a test object.
pub fn id(tag: &str) -> Vec<u8> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{tag}-{}", N.fetch_add(1, Ordering::Relaxed)).into_bytes()
}

/// Hex decoding for test vectors.
pub fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}
