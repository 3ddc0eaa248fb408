//! The session pool under load: 32 threads (what `spawn_blocking` tasks become) hammering a pool of a few
//! sessions with mixed operations, including key creation and destruction.

mod hsm_support;

use std::sync::Arc;

use hsm_support::{id, open, softhsm_profile, token};
use kmipd::hsm::{
    Cipher, Curve, HashAlg, Hsm, KeyPairSpec, KeyUsage, NewObject, SecretKeyAlgorithm, SecretKeySpec,
    SignatureAlgorithm,
};

#[test]
fn thirty_two_threads_share_a_small_pool() {
    token(&[]);
    let mut profile = softhsm_profile();
    profile.sessions.max = 4;
    let hsm = Arc::new(open(profile));
    assert_eq!(hsm.pool().max_sessions(), 4);
    let aes = NewObject::token(id("shared-aes"), "shared", KeyUsage::ALL);
    hsm.generate_secret_key(SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 }, &aes).unwrap();
    let ec = NewObject::token(id("shared-ec"), "shared", KeyUsage::ALL);
    let ec_pub = NewObject::token(id("shared-ec-pub"), "shared", KeyUsage::ALL);
    hsm.generate_key_pair(KeyPairSpec::Ec(Curve::P256), &ec, &ec_pub).unwrap();

    let threads: Vec<_> = (0..32)
        .map(|t| {
            let (hsm, aes, ec, ec_pub) = (hsm.clone(), aes.id.clone(), ec.id.clone(), ec_pub.id.clone());
            std::thread::spawn(move || {
                for i in 0..40 {
                    let data = format!("thread {t} op {i}").into_bytes();
                    let iv = vec![t as u8; 12];
                    let gcm = Cipher::AesGcm { iv: Some(iv), aad: Vec::new(), tag_len: 16 };
                    let ct = hsm.encrypt(&aes, &gcm, &data).unwrap().ciphertext;
                    assert_eq!(hsm.decrypt(&aes, &gcm, &ct).unwrap().as_slice(), data.as_slice());
                    let algorithm = SignatureAlgorithm::Ecdsa(HashAlg::Sha256);
                    let sig = hsm.sign(&ec, algorithm, &data).unwrap();
                    assert!(hsm.verify(&ec_pub, algorithm, &data, &sig).unwrap());
                    if i % 10 == 0 {
                        let own = NewObject::token(id(&format!("t{t}")), "own", KeyUsage::ALL);
                        let spec = SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 128 };
                        hsm.generate_secret_key(spec, &own).unwrap();
                        hsm.encrypt(&own.id, &Cipher::AesEcb, &[0; 16]).unwrap();
                        hsm.destroy(&own.id).unwrap();
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    // Every session went back: the whole pool can be checked out at once again, and no more.
    let sessions: Vec<_> = (0..4).map(|_| hsm.pool().checkout().unwrap()).collect();
    assert_eq!(sessions.len(), 4);
}

#[test]
fn an_exhausted_pool_times_out_cleanly() {
    token(&[]);
    let mut profile = softhsm_profile();
    profile.sessions.max = 1;
    profile.sessions.checkout_timeout_ms = 50;
    let hsm = open(profile);
    let held = hsm.pool().checkout().unwrap();
    let err = hsm.random(8).unwrap_err();
    assert!(matches!(err, kmipd::hsm::HsmError::PoolTimeout(50)), "{err}");
    drop(held);
    assert_eq!(hsm.random(8).unwrap().len(), 8);
}
