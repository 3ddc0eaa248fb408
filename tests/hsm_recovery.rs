//! Sessions closed or logged out behind the pool's back (DESIGN.md invariant 5): the next calls succeed.

mod hsm_support;

use hsm_support::{hsm, id};
use kmipd::hsm::{Cipher, Hsm, KeyUsage, NewObject, SecretKeyAlgorithm, SecretKeySpec};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// `C_CloseAllSessions` on the pool's slot, through a second handle on the already initialized module.
fn close_all_sessions() {
    let slot = hsm().pool().slot().id();
    // SAFETY: the module is loaded and initialized by the fixture; dlopen returns the same library, and
    // C_CloseAllSessions takes only a slot id.
    let rv = unsafe {
        let lib = cryptoki_sys::Pkcs11::new(MODULE).unwrap();
        lib.C_CloseAllSessions(slot)
    };
    assert_eq!(rv, cryptoki_sys::CKR_OK);
}

fn aes_key() -> Vec<u8> {
    let object = NewObject::token(id("aes"), "aes", KeyUsage::ALL);
    hsm().generate_secret_key(SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 }, &object).unwrap();
    object.id
}

#[test]
fn the_pool_recovers_from_closed_sessions_and_lost_login() {
    let key = aes_key();
    let block = hsm().encrypt(&key, &Cipher::AesEcb, &[0; 16]).unwrap();

    // Everything closed: the anchor too, so the login is gone as well.
    close_all_sessions();
    assert_eq!(hsm().encrypt(&key, &Cipher::AesEcb, &[0; 16]).unwrap(), block);
    // Non-idempotent calls are retried too: the session error proves the call never ran.
    close_all_sessions();
    let fresh = aes_key();
    assert!(hsm().object_info(&fresh).unwrap().token);

    // Logged out behind the pool's back (CKR_USER_NOT_LOGGED_IN on private objects).
    hsm().pool().checkout().unwrap().logout().unwrap();
    assert_eq!(hsm().encrypt(&key, &Cipher::AesEcb, &[0; 16]).unwrap(), block);

    // Sessions vanish while threads are busy: every call still completes.
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let (key, block) = (key.clone(), block.clone());
            std::thread::spawn(move || {
                for i in 0..200 {
                    let out = hsm().encrypt(&key, &Cipher::AesEcb, &[0; 16]);
                    assert_eq!(out.unwrap(), block, "thread {t} call {i}");
                }
            })
        })
        .collect();
    for _ in 0..5 {
        std::thread::sleep(std::time::Duration::from_millis(5));
        close_all_sessions();
    }
    for worker in workers {
        worker.join().unwrap();
    }
}
