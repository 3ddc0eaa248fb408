//! Every `Store` method on the sled backend, index consistency after each kind of change, and
//! Locate filter combinations.

mod store_support;

use kmipd::store::{
    DateKey, DateRange, DestroyedForm, HsmRef, IndexKeys, Lifecycle, LinkFilter, LinkKey,
    LocateQuery, SledStore, StorageMask, Store, StoreError, TermFilter, TermKey,
};
use store_support::{create, new_object, open, ScratchDir};

const SYMMETRIC_KEY: u32 = 2;
const PUBLIC_KEY: u32 = 3;
const SECRET_DATA: u32 = 7;
const PRE_ACTIVE: u32 = 1;
const ACTIVE: u32 = 2;
const DESTROYED: u32 = 6;
const AES: u32 = 3;
const RSA: u32 = 4;
const ACTIVATION_DATE: u32 = 0x42_0001;
const INITIAL_DATE: u32 = 0x42_0039;
const PUBLIC_KEY_LINK: u32 = 0x102;
const PRIVATE_KEY_LINK: u32 = 0x101;

fn aes(name: &str) -> IndexKeys {
    IndexKeys {
        object_type: SYMMETRIC_KEY,
        state: Some(PRE_ACTIVE),
        names: vec![name.into()],
        cryptographic_algorithm: Some(AES),
        cryptographic_length: Some(256),
        cryptographic_usage_mask: Some(0x0C),
        ..IndexKeys::default()
    }
}

fn by_name(name: &str) -> LocateQuery {
    LocateQuery {
        names: vec![name.into()],
        ..LocateQuery::default()
    }
}

fn uids(store: &SledStore, query: &LocateQuery) -> Vec<String> {
    store.locate(query).unwrap().uids
}

fn assert_consistent(store: &SledStore) {
    let report = store.verify_indexes().unwrap();
    assert!(report.is_consistent(), "{report:?}");
}

#[test]
fn uids_increase_and_survive_reopen() {
    let dir = ScratchDir::new("store-uid");
    let (a, b) = {
        let store = open(dir.path());
        (store.allocate_uid().unwrap(), store.allocate_uid().unwrap())
    };
    let a: u64 = a.parse().unwrap();
    let b: u64 = b.parse().unwrap();
    assert!(b > a);
    let store = open(dir.path());
    let c: u64 = store.allocate_uid().unwrap().parse().unwrap();
    assert!(c > b, "{c} after reopen not above {b}");
}

#[test]
fn create_commit_get_and_lifecycle_errors() {
    let dir = ScratchDir::new("store-create");
    let store = open(dir.path());
    let mut object = new_object(&store, "alice", aes("k1"));
    object.hsm = Some(HsmRef {
        kind: 4,
        id: b"id-1".to_vec(),
    });
    object.material = Some(vec![1, 2, 3]);
    let uid = object.uid.clone();
    let pending = store.create_pending(object.clone()).unwrap();
    assert_eq!(pending.lifecycle, Lifecycle::Pending);
    assert_eq!(pending.revision, 1);
    assert!(matches!(store.create_pending(object), Err(StoreError::AlreadyExists(u)) if u == uid));
    // Pending records are invisible to Locate, whatever the storage mask.
    let all = StorageMask {
        online: true,
        archived: true,
        destroyed: true,
    };
    assert!(uids(
        &store,
        &LocateQuery {
            storage: all,
            ..by_name("k1")
        }
    )
    .is_empty());
    assert_eq!(store.list_incomplete().unwrap().len(), 1);
    assert_eq!(
        store
            .uid_for_hsm_object(&HsmRef {
                kind: 4,
                id: b"id-1".to_vec()
            })
            .unwrap(),
        Some(uid.clone())
    );

    // One HSM object, one record: HSMs accept duplicate CKA_IDs, the store does not.
    let mut twin = new_object(&store, "alice", aes("twin"));
    twin.hsm = Some(HsmRef {
        kind: 4,
        id: b"id-1".to_vec(),
    });
    assert!(matches!(
        store.create_pending(twin),
        Err(StoreError::HsmObjectClaimed { owner, .. }) if owner == uid
    ));

    let claims = store.hsm_claims().unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(
        claims.get(&HsmRef {
            kind: 4,
            id: b"id-1".to_vec()
        }),
        Some(&uid)
    );

    let committed = store.commit(&uid).unwrap();
    assert_eq!(committed.lifecycle, Lifecycle::Committed);
    assert_eq!(committed.revision, 2);
    assert!(matches!(
        store.commit(&uid),
        Err(StoreError::WrongLifecycle {
            actual: Lifecycle::Committed,
            ..
        })
    ));
    assert!(store.list_incomplete().unwrap().is_empty());
    let got = store.get(&uid).unwrap().unwrap();
    assert_eq!(got, committed);
    assert_eq!(got.material.as_deref(), Some(&[1u8, 2, 3][..]));
    assert_eq!(uids(&store, &by_name("k1")), vec![uid.clone()]);
    assert!(store.get("nope").unwrap().is_none());
    assert!(matches!(store.commit("nope"), Err(StoreError::NotFound(_))));
    assert_consistent(&store);
}

#[test]
fn update_moves_index_entries_and_checks_revision() {
    let dir = ScratchDir::new("store-update");
    let store = open(dir.path());
    let uid = create(&store, "alice", aes("old-name"));
    let record = store.get(&uid).unwrap().unwrap();
    let mut keys = aes("new-name");
    keys.state = Some(ACTIVE);
    keys.object_groups = vec!["g".into()];
    let updated = store
        .update(&uid, record.revision, b"v2".to_vec(), keys.clone())
        .unwrap();
    assert_eq!(updated.attributes, b"v2");
    assert_eq!(updated.revision, record.revision + 1);
    assert!(uids(&store, &by_name("old-name")).is_empty());
    assert_eq!(uids(&store, &by_name("new-name")), vec![uid.clone()]);
    assert!(uids(
        &store,
        &LocateQuery {
            state: Some(PRE_ACTIVE),
            ..LocateQuery::default()
        }
    )
    .is_empty());
    assert_eq!(
        uids(
            &store,
            &LocateQuery {
                state: Some(ACTIVE),
                ..LocateQuery::default()
            }
        ),
        vec![uid.clone()]
    );
    // A writer holding the old revision loses.
    assert!(matches!(
        store.update(&uid, record.revision, b"stale".to_vec(), keys),
        Err(StoreError::Conflict { expected, actual, .. }) if expected == record.revision && actual == updated.revision
    ));
    assert_eq!(store.get(&uid).unwrap().unwrap().attributes, b"v2");
    assert_consistent(&store);
}

#[test]
fn archive_and_recover_follow_the_storage_mask() {
    let dir = ScratchDir::new("store-archive");
    let store = open(dir.path());
    let uid = create(&store, "alice", aes("arch"));
    store.set_archived(&uid, true).unwrap();
    assert!(uids(&store, &by_name("arch")).is_empty());
    let archived = StorageMask {
        online: false,
        archived: true,
        destroyed: false,
    };
    assert_eq!(
        uids(
            &store,
            &LocateQuery {
                storage: archived,
                ..by_name("arch")
            }
        ),
        vec![uid.clone()]
    );
    store.set_archived(&uid, false).unwrap();
    assert_eq!(uids(&store, &by_name("arch")), vec![uid.clone()]);
    assert!(uids(
        &store,
        &LocateQuery {
            storage: archived,
            ..by_name("arch")
        }
    )
    .is_empty());
    assert_consistent(&store);
}

#[test]
fn excluded_object_types_are_never_found() {
    const TEMPLATE: u32 = 6;
    let dir = ScratchDir::new("store-exclude");
    let store = open(dir.path());
    let key = create(&store, "alice", aes("shared"));
    let template = create(
        &store,
        "alice",
        IndexKeys {
            object_type: TEMPLATE,
            names: vec!["template".into()],
            cryptographic_usage_mask: Some(0x0C),
            ..IndexKeys::default()
        },
    );
    let hide = |query: LocateQuery| LocateQuery {
        excluded_object_types: vec![TEMPLATE],
        ..query
    };
    let everything = LocateQuery::default();
    assert_eq!(uids(&store, &everything), vec![template.clone(), key.clone()]);
    assert_eq!(uids(&store, &hide(everything)), vec![key.clone()]);
    assert!(uids(&store, &hide(by_name("template"))).is_empty());
    // Also when the records themselves are read (a usage mask is checked on the record).
    let by_mask = LocateQuery {
        cryptographic_usage_mask: Some(0x04),
        ..LocateQuery::default()
    };
    assert_eq!(uids(&store, &by_mask), vec![template, key.clone()]);
    assert_eq!(uids(&store, &hide(by_mask)), vec![key]);
}

#[test]
fn destroy_protocol_applies_the_destroyed_form() {
    let dir = ScratchDir::new("store-destroy");
    let store = open(dir.path());
    let hsm = HsmRef {
        kind: 4,
        id: b"d".to_vec(),
    };
    let mut object = new_object(&store, "alice", aes("doomed"));
    object.hsm = Some(hsm.clone());
    object.material = Some(b"public".to_vec());
    let uid = object.uid.clone();
    store.create_pending(object).unwrap();
    let record = store.commit(&uid).unwrap();
    let mut final_keys = aes("doomed");
    final_keys.state = Some(DESTROYED);
    final_keys.dates = vec![DateKey {
        attribute: 0x42_0020,
        seconds: 1_700_000_000,
    }];
    let form = DestroyedForm {
        attributes: b"destroyed".to_vec(),
        keys: final_keys,
    };

    assert!(matches!(
        store.mark_destroying(&uid, record.revision + 7, form.clone()),
        Err(StoreError::Conflict { .. })
    ));
    let destroying = store
        .mark_destroying(&uid, record.revision, form.clone())
        .unwrap();
    assert_eq!(destroying.lifecycle, Lifecycle::Destroying);
    assert_eq!(store.list_incomplete().unwrap(), vec![destroying.clone()]);
    // Being destroyed: gone from on-line searches already.
    assert!(uids(&store, &by_name("doomed")).is_empty());
    // A failed HSM destroy can put it back.
    let back = store.cancel_destroying(&uid).unwrap();
    assert_eq!(back.lifecycle, Lifecycle::Committed);
    assert_eq!(back.destroyed_form, None);
    assert_eq!(uids(&store, &by_name("doomed")), vec![uid.clone()]);
    assert!(matches!(
        store.mark_destroyed(&uid),
        Err(StoreError::WrongLifecycle { .. })
    ));

    store.mark_destroying(&uid, back.revision, form).unwrap();
    let destroyed = store.mark_destroyed(&uid).unwrap();
    assert_eq!(destroyed.lifecycle, Lifecycle::Destroyed);
    assert_eq!(destroyed.attributes, b"destroyed");
    assert_eq!(destroyed.keys.state, Some(DESTROYED));
    assert_eq!(destroyed.material, None);
    assert_eq!(destroyed.destroyed_form, None);
    assert!(store.list_incomplete().unwrap().is_empty());
    assert_eq!(store.uid_for_hsm_object(&hsm).unwrap(), None);
    assert!(store.hsm_claims().unwrap().is_empty());
    assert!(uids(&store, &by_name("doomed")).is_empty());
    let destroyed_mask = StorageMask {
        online: false,
        archived: false,
        destroyed: true,
    };
    let query = LocateQuery {
        storage: destroyed_mask,
        state: Some(DESTROYED),
        ..by_name("doomed")
    };
    assert_eq!(uids(&store, &query), vec![uid.clone()]);
    // KMIP keeps the metadata of destroyed objects, and it may still change.
    store
        .update(
            &uid,
            destroyed.revision,
            b"later".to_vec(),
            destroyed.keys.clone(),
        )
        .unwrap();
    assert!(matches!(
        store.set_archived(&uid, true),
        Err(StoreError::WrongLifecycle { .. })
    ));
    assert_consistent(&store);
}

#[test]
fn delete_removes_record_and_every_entry() {
    let dir = ScratchDir::new("store-delete");
    let store = open(dir.path());
    let mut object = new_object(&store, "alice", aes("gone"));
    object.hsm = Some(HsmRef {
        kind: 1,
        id: b"x".to_vec(),
    });
    let uid = object.uid.clone();
    store.create_pending(object).unwrap();
    store.grant(&uid, "bob", &[1]).unwrap_err(); // grants need a committed object
    store.delete(&uid).unwrap();
    assert!(store.get(&uid).unwrap().is_none());
    assert!(store.list_incomplete().unwrap().is_empty());
    assert_eq!(
        store
            .uid_for_hsm_object(&HsmRef {
                kind: 1,
                id: b"x".to_vec()
            })
            .unwrap(),
        None
    );
    assert!(matches!(store.delete(&uid), Err(StoreError::NotFound(_))));
    let report = store.verify_indexes().unwrap();
    assert_eq!(report.records, 0);
    assert!(report.is_consistent(), "{report:?}");
}

#[test]
fn grants_merge_revoke_and_make_objects_visible() {
    let dir = ScratchDir::new("store-grants");
    let store = open(dir.path());
    let uid = create(&store, "alice", aes("shared"));
    let mine = LocateQuery {
        visible_to: Some("bob".into()),
        ..by_name("shared")
    };
    assert!(uids(&store, &mine).is_empty());
    store.grant(&uid, "bob", &[10, 3]).unwrap();
    store.grant(&uid, "bob", &[3, 5]).unwrap();
    store.grant(&uid, "carol", &[10]).unwrap();
    let grants = store.grants_for(&uid).unwrap();
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[0].identity, "bob");
    assert_eq!(grants[0].operations, vec![3, 5, 10]);
    assert_eq!(grants[1].identity, "carol");
    let record = store.get(&uid).unwrap().unwrap();
    assert!(record.permits("bob", 5) && !record.permits("bob", 4) && record.permits("alice", 4));
    assert_eq!(uids(&store, &mine), vec![uid.clone()]);

    store.revoke_grant(&uid, "bob", &[5]).unwrap();
    assert_eq!(store.grants_for(&uid).unwrap()[0].operations, vec![3, 10]);
    store.revoke_grant(&uid, "bob", &[]).unwrap();
    assert_eq!(store.grants_for(&uid).unwrap().len(), 1);
    assert!(uids(&store, &mine).is_empty());
    let owner = LocateQuery {
        visible_to: Some("alice".into()),
        ..by_name("shared")
    };
    assert_eq!(uids(&store, &owner), vec![uid.clone()]);
    assert!(matches!(
        store.grants_for("nope"),
        Err(StoreError::NotFound(_))
    ));
    assert_consistent(&store);
}

#[test]
fn locate_filters_are_anded_and_ordered_newest_first() {
    let dir = ScratchDir::new("store-locate");
    let store = open(dir.path());
    let key1 = create(&store, "alice", {
        let mut k = aes("shared-name");
        k.object_groups = vec!["g1".into()];
        k.dates = vec![
            DateKey {
                attribute: ACTIVATION_DATE,
                seconds: 1000,
            },
            DateKey {
                attribute: INITIAL_DATE,
                seconds: 10,
            },
        ];
        k.terms = vec![TermKey {
            attribute: "x-Product".into(),
            value: b"vCenter".to_vec(),
        }];
        k
    });
    let key2 = create(&store, "alice", {
        let mut k = aes("shared-name");
        k.names.push("second".into());
        k.cryptographic_length = Some(128);
        k.cryptographic_usage_mask = Some(0x04);
        k.dates = vec![DateKey {
            attribute: ACTIVATION_DATE,
            seconds: 2000,
        }];
        k.terms = vec![TermKey {
            attribute: "x-Product".into(),
            value: b"other".to_vec(),
        }];
        k
    });
    let public = create(
        &store,
        "bob",
        IndexKeys {
            object_type: PUBLIC_KEY,
            state: Some(ACTIVE),
            names: vec!["pub".into()],
            cryptographic_algorithm: Some(RSA),
            cryptographic_length: Some(2048),
            links: vec![LinkKey {
                link_type: PRIVATE_KEY_LINK,
                target: "priv-1".into(),
            }],
            object_groups: vec!["g1".into()],
            ..IndexKeys::default()
        },
    );
    let secret = create(
        &store,
        "alice",
        IndexKeys {
            object_type: SECRET_DATA,
            ..IndexKeys::default()
        },
    );

    let q = |f: &dyn Fn(&mut LocateQuery)| {
        let mut query = LocateQuery::default();
        f(&mut query);
        uids(&store, &query)
    };
    // No filter: everything on-line, newest first.
    assert_eq!(
        q(&|_| {}),
        vec![secret.clone(), public.clone(), key2.clone(), key1.clone()]
    );
    assert_eq!(
        q(&|x| x.names = vec!["shared-name".into()]),
        vec![key2.clone(), key1.clone()]
    );
    // AND across fields and within multi-valued fields.
    assert_eq!(
        q(&|x| x.names = vec!["shared-name".into(), "second".into()]),
        vec![key2.clone()]
    );
    assert!(q(&|x| x.names = vec!["shared-name".into(), "pub".into()]).is_empty());
    assert_eq!(
        q(&|x| {
            x.names = vec!["shared-name".into()];
            x.cryptographic_length = Some(256);
        }),
        vec![key1.clone()]
    );
    assert_eq!(
        q(&|x| x.object_type = Some(SYMMETRIC_KEY)),
        vec![key2.clone(), key1.clone()]
    );
    assert_eq!(
        q(&|x| x.cryptographic_algorithm = Some(RSA)),
        vec![public.clone()]
    );
    assert_eq!(q(&|x| x.state = Some(ACTIVE)), vec![public.clone()]);
    assert_eq!(
        q(&|x| x.object_groups = vec!["g1".into()]),
        vec![public.clone(), key1.clone()]
    );
    assert_eq!(
        q(&|x| {
            x.object_groups = vec!["g1".into()];
            x.object_type = Some(SYMMETRIC_KEY);
        }),
        vec![key1.clone()]
    );
    // Usage mask: every requested bit must be set.
    assert_eq!(
        q(&|x| x.cryptographic_usage_mask = Some(0x04)),
        vec![key2.clone(), key1.clone()]
    );
    assert_eq!(
        q(&|x| x.cryptographic_usage_mask = Some(0x08)),
        vec![key1.clone()]
    );
    assert!(q(&|x| x.cryptographic_usage_mask = Some(0x10)).is_empty());
    // Links: target only, type only, both.
    let link = |link_type, target: Option<&str>| LinkFilter {
        link_type,
        target: target.map(Into::into),
    };
    assert_eq!(
        q(&|x| x.links = vec![link(None, Some("priv-1"))]),
        vec![public.clone()]
    );
    assert_eq!(
        q(&|x| x.links = vec![link(Some(PRIVATE_KEY_LINK), None)]),
        vec![public.clone()]
    );
    assert_eq!(
        q(&|x| x.links = vec![link(Some(PRIVATE_KEY_LINK), Some("priv-1"))]),
        vec![public.clone()]
    );
    assert!(q(&|x| x.links = vec![link(Some(PUBLIC_KEY_LINK), Some("priv-1"))]).is_empty());
    // Dates: single value and inclusive ranges.
    let range = |from, to| DateRange {
        attribute: ACTIVATION_DATE,
        from,
        to,
    };
    assert_eq!(
        q(&|x| x.date_ranges = vec![range(1000, 1000)]),
        vec![key1.clone()]
    );
    assert_eq!(
        q(&|x| x.date_ranges = vec![range(1000, 2000)]),
        vec![key2.clone(), key1.clone()]
    );
    assert_eq!(
        q(&|x| x.date_ranges = vec![range(1001, 5000)]),
        vec![key2.clone()]
    );
    assert!(q(&|x| x.date_ranges = vec![range(-50, 999)]).is_empty());
    assert_eq!(
        q(&|x| x.date_ranges = vec![
            range(0, 5000),
            DateRange {
                attribute: INITIAL_DATE,
                from: 0,
                to: 10
            }
        ]),
        vec![key1.clone()]
    );
    // Terms: with value, and presence only.
    let term = |value: Option<&[u8]>| TermFilter {
        attribute: "x-Product".into(),
        value: value.map(<[u8]>::to_vec),
    };
    assert_eq!(
        q(&|x| x.terms = vec![term(Some(b"vCenter"))]),
        vec![key1.clone()]
    );
    assert_eq!(
        q(&|x| x.terms = vec![term(None)]),
        vec![key2.clone(), key1.clone()]
    );
    assert!(q(&|x| x.terms = vec![term(Some(b"vCente"))]).is_empty());
    // Visibility.
    assert_eq!(
        q(&|x| x.visible_to = Some("bob".into())),
        vec![public.clone()]
    );
    assert!(q(&|x| x.visible_to = Some("mallory".into())).is_empty());
}

#[test]
fn locate_offset_maximum_count_and_refine() {
    let dir = ScratchDir::new("store-page");
    let store = open(dir.path());
    let created: Vec<String> = (0..10)
        .map(|i| create(&store, "alice", aes(&format!("n{}", i % 2))))
        .collect();
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    let page = store
        .locate(&LocateQuery {
            offset: 2,
            maximum: Some(3),
            ..LocateQuery::default()
        })
        .unwrap();
    // The search stopped once the page was full: no total.
    assert_eq!(page.matched, None);
    assert_eq!(page.uids, newest_first[2..5]);
    let counted = store
        .locate(&LocateQuery {
            offset: 2,
            maximum: Some(3),
            count_total: true,
            ..LocateQuery::default()
        })
        .unwrap();
    assert_eq!(counted.matched, Some(10));
    assert_eq!(counted.uids, page.uids);
    let past_end = store
        .locate(&LocateQuery {
            offset: 20,
            ..LocateQuery::default()
        })
        .unwrap();
    assert_eq!((past_end.matched, past_end.uids.len()), (Some(10), 0));
    let zero = store
        .locate(&LocateQuery {
            maximum: Some(0),
            count_total: true,
            ..LocateQuery::default()
        })
        .unwrap();
    assert_eq!((zero.matched, zero.uids.len()), (Some(10), 0));
    // Offset/maximum apply after filtering, also when records are checked one by one.
    let evens = LocateQuery {
        names: vec!["n0".into()],
        offset: 1,
        maximum: Some(2),
        count_total: true,
        ..LocateQuery::default()
    };
    let page = store.locate(&evens).unwrap();
    let expected: Vec<String> = newest_first
        .iter()
        .skip(1)
        .step_by(2)
        .skip(1)
        .take(2)
        .cloned()
        .collect();
    assert_eq!(page.matched, Some(5));
    assert_eq!(page.uids, expected);
    // A refine predicate is ANDed too.
    let last = created.last().unwrap().clone();
    let refine = move |r: &kmipd::store::ObjectRecord| r.uid != last;
    let refined = store
        .locate_refined(&LocateQuery::default(), Some(&refine))
        .unwrap();
    assert_eq!(refined.matched, Some(9));
    assert_eq!(refined.uids, newest_first[1..]);
}

/// Compare Locate with a brute-force evaluation over enough objects that broad queries stream
/// their driving index while narrow ones read it whole, with and without record checks.
#[test]
fn locate_agrees_with_brute_force() {
    let dir = ScratchDir::new("store-brute");
    let store = std::sync::Arc::new(open(dir.path()));
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let specs: Vec<IndexKeys> = (0..700)
        .map(|_| IndexKeys {
            object_type: [SYMMETRIC_KEY, PUBLIC_KEY, SECRET_DATA][(next() % 3) as usize],
            state: Some([PRE_ACTIVE, ACTIVE][(next() % 2) as usize]),
            names: vec![format!("name-{}", next() % 300)],
            cryptographic_algorithm: Some([AES, RSA][(next() % 2) as usize]),
            cryptographic_length: Some([128, 256][(next() % 2) as usize]),
            object_groups: vec![format!("g{}", next() % 4)],
            dates: vec![DateKey {
                attribute: ACTIVATION_DATE,
                seconds: (next() % 1000) as i64,
            }],
            ..IndexKeys::default()
        })
        .collect();
    // Four writers, so that group commit shares the flushes.
    let chunks: Vec<Vec<IndexKeys>> = specs.chunks(175).map(<[IndexKeys]>::to_vec).collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || {
                for keys in chunk {
                    create(
                        store.as_ref(),
                        if i % 2 == 0 { "alice" } else { "bob" },
                        keys,
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // Archive, destroy and share some, so that storage masks and grants take part.
    let everything = StorageMask {
        online: true,
        archived: true,
        destroyed: true,
    };
    let uids_all = store
        .locate(&LocateQuery {
            storage: everything,
            ..LocateQuery::default()
        })
        .unwrap()
        .uids;
    for uid in &uids_all {
        let record = store.get(uid).unwrap().unwrap();
        match next() % 10 {
            0 => {
                store.set_archived(uid, true).unwrap();
            }
            1 => {
                let form = DestroyedForm {
                    attributes: Vec::new(),
                    keys: record.keys.clone(),
                };
                store.mark_destroying(uid, record.revision, form).unwrap();
                store.mark_destroyed(uid).unwrap();
            }
            2 => {
                store.grant(uid, "bob", &[1]).unwrap();
            }
            _ => {}
        }
    }
    let all_mask = StorageMask {
        online: true,
        archived: true,
        destroyed: true,
    };
    let all = store
        .locate(&LocateQuery {
            storage: all_mask,
            ..LocateQuery::default()
        })
        .unwrap()
        .uids;
    assert_eq!(all.len(), 700);
    let records: Vec<_> = all.iter().map(|u| store.get(u).unwrap().unwrap()).collect();
    for round in 0..300 {
        let mut query = LocateQuery::default();
        if next() % 3 == 0 {
            query.names = vec![format!("name-{}", next() % 300)];
        }
        if next() % 2 == 0 {
            query.object_type =
                Some([SYMMETRIC_KEY, PUBLIC_KEY, SECRET_DATA][(next() % 3) as usize]);
        }
        if next() % 2 == 0 {
            query.state = Some([PRE_ACTIVE, ACTIVE][(next() % 2) as usize]);
        }
        if next() % 3 == 0 {
            query.cryptographic_algorithm = Some(AES);
        }
        if next() % 4 == 0 {
            query.object_groups = vec![format!("g{}", next() % 4)];
        }
        if next() % 3 == 0 {
            let from = (next() % 1000) as i64;
            query.date_ranges = vec![DateRange {
                attribute: ACTIVATION_DATE,
                from,
                to: from + (next() % 200) as i64,
            }];
        }
        if next() % 3 == 0 {
            query.visible_to = Some("bob".into());
        }
        if next() % 3 == 0 {
            query.storage = StorageMask {
                online: next() % 2 == 0,
                archived: next() % 2 == 0,
                destroyed: next() % 2 == 0,
            };
        }
        if next() % 2 == 0 {
            query.offset = (next() % 20) as usize;
            query.maximum = Some((next() % 50) as usize);
        }
        query.count_total = next() % 2 == 0;
        let expected: Vec<String> = records
            .iter()
            .filter(|r| {
                let k = &r.keys;
                query.names.iter().all(|n| k.names.contains(n))
                    && query.object_type.is_none_or(|t| k.object_type == t)
                    && query.state.is_none_or(|s| k.state == Some(s))
                    && query
                        .cryptographic_algorithm
                        .is_none_or(|a| k.cryptographic_algorithm == Some(a))
                    && query
                        .object_groups
                        .iter()
                        .all(|g| k.object_groups.contains(g))
                    && query
                        .date_ranges
                        .iter()
                        .all(|d| (d.from..=d.to).contains(&k.dates[0].seconds))
                    && query.visible_to.as_deref().is_none_or(|v| {
                        r.owner == v || r.grants.iter().any(|g| g.identity == v)
                    })
                    && r.storage_status()
                        .is_some_and(|status| query.storage.includes(status))
            })
            .map(|r| r.uid.clone())
            .collect();
        let got = store.locate(&query).unwrap();
        if query.count_total {
            assert_eq!(
                got.matched,
                Some(expected.len()),
                "round {round}: {query:?}"
            );
        } else if let Some(matched) = got.matched {
            assert_eq!(matched, expected.len(), "round {round}: {query:?}");
        }
        let page: Vec<String> = expected
            .into_iter()
            .skip(query.offset)
            .take(query.maximum.unwrap_or(usize::MAX))
            .collect();
        assert_eq!(got.uids, page, "round {round}: {query:?}");
    }
    assert_consistent(&store);
}

#[test]
fn everything_survives_reopen() {
    let dir = ScratchDir::new("store-reopen");
    let (uid, pending) = {
        let store = open(dir.path());
        let uid = create(&store, "alice", aes("durable"));
        store.grant(&uid, "bob", &[1]).unwrap();
        let pending = store
            .create_pending(new_object(&store, "alice", aes("half")))
            .unwrap()
            .uid;
        (uid, pending)
    };
    let store = open(dir.path());
    assert_eq!(uids(&store, &by_name("durable")), vec![uid.clone()]);
    assert_eq!(store.grants_for(&uid).unwrap()[0].identity, "bob");
    let incomplete = store.list_incomplete().unwrap();
    assert_eq!(incomplete.len(), 1);
    assert_eq!(incomplete[0].uid, pending);
    assert_consistent(&store);
}

#[test]
fn temporary_stores_vanish_on_drop() {
    let config = kmipd::store::SledStoreConfig::temporary();
    let path = config.path.clone();
    {
        let store = SledStore::open(&config).unwrap();
        create(&store, "alice", aes("tmp"));
        assert_eq!(uids(&store, &by_name("tmp")).len(), 1);
    }
    // sled's flusher thread holds the database a moment longer on a loaded machine.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while path.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!path.exists());
}
