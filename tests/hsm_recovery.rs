//! Sessions closed or logged out behind the pool's back (DESIGN.md invariant 5): the next calls succeed.

mod hsm_support;

use std::sync::{Arc, Barrier};

use hsm_support::{hsm, id, open, softhsm_profile};
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

/// One test function: closing all sessions would also hit any test running beside it in this process.
#[test]
fn the_pool_recovers_from_lost_sessions() {
    closed_sessions_and_lost_login();
    sessions_expired_while_idle_are_replaced_without_a_reset();
}

fn closed_sessions_and_lost_login() {
    let key = aes_key();
    let block = hsm().encrypt(&key, &Cipher::AesEcb, &[0; 16]).unwrap();

    // Everything closed: the anchor too, so the login is gone as well.
    let resets = hsm().pool().resets();
    close_all_sessions();
    assert_eq!(hsm().encrypt(&key, &Cipher::AesEcb, &[0; 16]).unwrap(), block);
    assert!(hsm().pool().resets() > resets);
    // Non-idempotent calls are retried too: the session error proves the call never ran.
    close_all_sessions();
    let fresh = aes_key();
    assert!(hsm().object_info(&fresh).unwrap().token);

    // Logged out behind the pool's back (CKR_USER_NOT_LOGGED_IN on private objects).
    hsm().pool().checkout().unwrap().logout().unwrap();
    assert_eq!(hsm().encrypt(&key, &Cipher::AesEcb, &[0; 16]).unwrap(), block);

    // Sessions vanish under several threads at once; each thread's next call finds a dead session, one of them
    // resets the pool, all complete. (The sessions are closed between calls: SoftHSM itself crashes or answers
    // CKR_GENERAL_ERROR when C_CloseAllSessions frees a session another thread is inside.)
    const THREADS: usize = 4;
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (key, block, barrier) = (key.clone(), block.clone(), barrier.clone());
            std::thread::spawn(move || {
                for round in 0..5 {
                    for i in 0..20 {
                        let out = hsm().encrypt(&key, &Cipher::AesEcb, &[0; 16]);
                        assert_eq!(out.unwrap(), block, "thread {t} round {round} call {i}");
                    }
                    barrier.wait(); // all idle
                    barrier.wait(); // sessions closed
                }
            })
        })
        .collect();
    for _ in 0..5 {
        barrier.wait();
        close_all_sessions();
        barrier.wait();
    }
    for worker in workers {
        worker.join().unwrap();
    }
}

fn sessions_expired_while_idle_are_replaced_without_a_reset() {
    let mut profile = softhsm_profile();
    profile.sessions.idle_check_secs = 1;
    hsm();
    let expiring = open(profile);
    let session = expiring.pool().checkout().unwrap();
    // SAFETY: as above; the handle belongs to this process and is closed once, by us.
    let rv = unsafe {
        let lib = cryptoki_sys::Pkcs11::new(MODULE).unwrap();
        lib.C_CloseSession(session.handle())
    };
    assert_eq!(rv, cryptoki_sys::CKR_OK);
    drop(session); // back to the pool, dead, as after an HSM-side idle timeout
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let resets = expiring.pool().resets();
    assert_eq!(expiring.random(8).unwrap().len(), 8);
    assert_eq!(expiring.pool().resets(), resets, "replaced by the idle check, not by a reset");
}
