//! Concurrent writers on shared objects: no lost update (revision checks), indexes consistent.

mod store_support;

use kmipd::store::{IndexKeys, LocateQuery, Store, StoreError};
use std::sync::Arc;
use store_support::{create, open, ScratchDir};

const OBJECTS: usize = 20;
const THREADS: usize = 8;
const INCREMENTS: usize = 40;

fn keys(name: &str, counter: u64) -> IndexKeys {
    IndexKeys {
        object_type: 2,
        names: vec![name.into()],
        state: Some(u32::try_from(counter % 3).unwrap()),
        ..IndexKeys::default()
    }
}

#[test]
fn concurrent_read_modify_write_loses_nothing() {
    let dir = ScratchDir::new("store-concurrency");
    let store = Arc::new(open(dir.path()));
    let uids: Arc<Vec<String>> = Arc::new(
        (0..OBJECTS)
            .map(|i| {
                let uid = create(store.as_ref(), "alice", keys(&format!("c{i}"), 0));
                let r = store.get(&uid).unwrap().unwrap();
                store
                    .update(
                        &uid,
                        r.revision,
                        0u64.to_be_bytes().to_vec(),
                        keys(&format!("c{i}"), 0),
                    )
                    .unwrap();
                uid
            })
            .collect(),
    );
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            let uids = Arc::clone(&uids);
            std::thread::spawn(move || {
                let mut conflicts = 0;
                for n in 0..INCREMENTS {
                    let i = (t * 7 + n * 3) % OBJECTS;
                    let uid = &uids[i];
                    loop {
                        let r = store.get(uid).unwrap().unwrap();
                        let counter =
                            u64::from_be_bytes(r.attributes.as_slice().try_into().unwrap()) + 1;
                        let result = store.update(
                            uid,
                            r.revision,
                            counter.to_be_bytes().to_vec(),
                            keys(&format!("c{i}"), counter),
                        );
                        match result {
                            Ok(_) => break,
                            Err(StoreError::Conflict { .. }) => conflicts += 1,
                            Err(e) => panic!("{e}"),
                        }
                    }
                    // Grants race with the updates on the same records.
                    let who = format!("reader-{t}");
                    store.grant(uid, &who, &[1]).unwrap();
                    store.revoke_grant(uid, &who, &[]).unwrap();
                }
                conflicts
            })
        })
        .collect();
    let conflicts: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let total: u64 = uids
        .iter()
        .map(|uid| {
            let r = store.get(uid).unwrap().unwrap();
            assert!(r.grants.is_empty());
            u64::from_be_bytes(r.attributes.as_slice().try_into().unwrap())
        })
        .sum();
    assert_eq!(total, (THREADS * INCREMENTS) as u64, "lost updates");
    let report = store.verify_indexes().unwrap();
    assert!(report.is_consistent(), "{report:?}");
    // The state index follows the last update of each object.
    for (i, uid) in uids.iter().enumerate() {
        let r = store.get(uid).unwrap().unwrap();
        let query = LocateQuery {
            names: vec![format!("c{i}")],
            state: r.keys.state,
            ..LocateQuery::default()
        };
        assert_eq!(store.locate(&query).unwrap().uids, vec![uid.clone()]);
    }
    eprintln!(
        "{} updates, {conflicts} conflicts retried",
        THREADS * INCREMENTS
    );
}
