//! A SoftHSM2 token with mechanisms hidden through `slots.mechanisms`, standing in for a weaker HSM: with a
//! profile that says so, kmipd falls back (hash first, KW instead of KWP) or answers a clear "not supported".

mod hsm_support;

use std::sync::OnceLock;

use hsm_support::{id, open, softhsm_profile, token, USER_PIN};
use kmipd::hsm::probe::probe;
use kmipd::hsm::{
    Cipher, ErrorClass, HashAlg, Hsm, HsmConfig, KeyPairSpec, KeyUsage, NewObject, PinSource, Pkcs11Hsm, Profile,
    SecretKeyAlgorithm, SecretKeySpec, SignatureAlgorithm, WrapMechanism,
};
use secrecy::SecretString;

/// SoftHSM ignores the first name of a "-" deny list (the minus sticks to it), hence the sacrificial CKM_MD5.
const HIDE: &str = "slots.mechanisms = -CKM_MD5,CKM_AES_GCM,CKM_SHA256_RSA_PKCS,CKM_AES_KEY_WRAP_PAD";
const HIDDEN: [&str; 4] = ["aes-gcm", "rsa-pkcs1-sha256", "aes-kwp", "wrap-private-key"];

fn quirk_profile() -> Profile {
    let mut profile = softhsm_profile();
    profile.name = "SoftHSM without GCM, SHA256-RSA-PKCS and KWP".into();
    profile.mechanisms.capabilities.retain(|c| !HIDDEN.contains(&c.as_str()));
    profile
}

fn quirky() -> &'static Pkcs11Hsm {
    static HSM: OnceLock<Pkcs11Hsm> = OnceLock::new();
    HSM.get_or_init(|| {
        token(&[HIDE]);
        open(quirk_profile())
    })
}

fn aes_key(extractable: bool) -> Vec<u8> {
    let object = NewObject { extractable, ..NewObject::token(id("aes"), "aes", KeyUsage::ALL) };
    quirky().generate_secret_key(SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 }, &object).unwrap();
    object.id
}

#[test]
fn a_missing_mechanism_is_a_clear_not_supported() {
    let key = aes_key(false);
    let gcm = Cipher::AesGcm { iv: None, aad: Vec::new(), tag_len: 16 };
    let err = quirky().encrypt(&key, &gcm, b"data").unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotSupported);
    assert_eq!(err.code(), None, "refused by the profile, without calling the HSM");
    assert!(err.to_string().contains("aes-gcm"), "{err}");
    // Other AES modes still work.
    let cbc = Cipher::AesCbc { iv: Some([0; 16]), padding: true };
    assert!(quirky().encrypt(&key, &cbc, b"data").is_ok());
    // A profile that wrongly promises GCM reaches the HSM, which answers CKR_MECHANISM_INVALID: still NotSupported.
    let naive = open(softhsm_profile());
    let err = naive.encrypt(&key, &gcm, b"data").unwrap_err();
    assert_eq!((err.class(), err.code()), (ErrorClass::NotSupported, Some("CKR_MECHANISM_INVALID")));
}

#[test]
fn signing_falls_back_to_hashing_first() {
    let private = NewObject::token(id("rsa"), "rsa", KeyUsage::ALL);
    let public = NewObject::token(id("rsa-pub"), "rsa", KeyUsage::ALL);
    quirky().generate_key_pair(KeyPairSpec::Rsa { bits: 2048 }, &private, &public).unwrap();
    let algorithm = SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256);
    let signature = quirky().sign(&private.id, algorithm, b"message").unwrap();
    assert!(quirky().verify(&public.id, algorithm, b"message", &signature).unwrap());
    assert!(!quirky().verify(&public.id, algorithm, b"messagE", &signature).unwrap());
    // A profile without the fallback either refuses clearly.
    let mut strict = quirk_profile();
    strict.mechanisms.capabilities.retain(|c| c != "rsa-pkcs1-raw");
    let err = open(strict).sign(&private.id, algorithm, b"message").unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotSupported);
    assert!(err.to_string().contains("rsa-pkcs1-sha256"), "{err}");
}

#[test]
fn wrapping_follows_the_profile_preference() {
    let kek = aes_key(false);
    let target = aes_key(true);
    let wrapped = quirky().wrap_key(&kek, None, &target).unwrap();
    assert_eq!(wrapped.mechanism, WrapMechanism::AesKeyWrap, "KWP is hidden, KW is next in preference");
    let err = quirky().wrap_key(&kek, Some(WrapMechanism::AesKeyWrapPad), &target).unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotSupported);
}

#[test]
fn the_probe_names_exactly_the_hidden_mechanisms() {
    quirky();
    let config = |mut profile: Profile| {
        // RSA-3072/4096 generation is slow on SoftHSM and proven by tests/hsm_probe.rs.
        profile.mechanisms.capabilities.retain(|c| !c.starts_with("rsa-keygen-") || c == "rsa-keygen-2048");
        HsmConfig { pin: Some(PinSource::Value(SecretString::from(USER_PIN))), ..HsmConfig::new(profile) }
    };
    let report = probe(config(softhsm_profile())).unwrap();
    let mut failed: Vec<String> = report.failures().iter().map(|r| r.capability.name()).collect();
    failed.sort();
    let mut expected: Vec<String> = HIDDEN.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(failed, expected);
    let honest = probe(config(quirk_profile())).unwrap();
    assert!(honest.failures().is_empty(), "{:?}", honest.failures());
}
