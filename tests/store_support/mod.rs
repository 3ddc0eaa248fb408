//! Helpers shared by the store tests.
#![allow(dead_code)]

use kmipd::store::{IndexKeys, NewObject, SledStore, SledStoreConfig, Store};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A scratch directory removed when dropped.
pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let path =
            std::env::temp_dir().join(format!("kmipd-{label}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Opens the store in `dir`. A store of this process dropped moments ago may still hold the database lock (sled's
/// background flusher lets go of it shortly after the drop; a restarted server is a new process and never sees
/// this), so a held lock is waited for, for up to five seconds.
pub fn open(dir: &Path) -> SledStore {
    let mut config = SledStoreConfig::new(dir.join("db"));
    config.cache_capacity_bytes = 32 * 1024 * 1024;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match SledStore::open(&config) {
            Err(e) if e.to_string().contains("could not acquire lock") && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.unwrap(),
        }
    }
}

pub fn new_object(store: &dyn Store, owner: &str, keys: IndexKeys) -> NewObject {
    NewObject {
        uid: store.allocate_uid().unwrap(),
        owner: owner.into(),
        hsm: None,
        attributes: b"attrs".to_vec(),
        material: None,
        keys,
        grants: Vec::new(),
    }
}

/// Create and commit an object; returns its UID.
pub fn create(store: &dyn Store, owner: &str, keys: IndexKeys) -> String {
    let record = store
        .create_pending(new_object(store, owner, keys))
        .unwrap();
    store.commit(&record.uid).unwrap();
    record.uid
}
