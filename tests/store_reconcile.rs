//! The start-up reconciler against a fake HSM inventory.

mod store_support;

use kmipd::store::{
    reconcile, DestroyedForm, HsmInventory, HsmRef, IndexKeys, Lifecycle, NewObject,
    ReconcileError, Store,
};
use std::cell::RefCell;
use std::collections::BTreeSet;
use store_support::{open, ScratchDir};

/// An in-memory HSM: a set of objects, optionally failing to destroy some.
#[derive(Default)]
struct FakeHsm {
    objects: RefCell<BTreeSet<HsmRef>>,
    destroyed: RefCell<Vec<HsmRef>>,
    refuse_destroy: RefCell<BTreeSet<HsmRef>>,
    listing_fails: bool,
}

impl HsmInventory for FakeHsm {
    type Error = std::io::Error;

    fn list_objects(&self) -> Result<Vec<HsmRef>, Self::Error> {
        if self.listing_fails {
            return Err(std::io::Error::other("token removed"));
        }
        Ok(self.objects.borrow().iter().cloned().collect())
    }

    fn destroy_object(&self, object: &HsmRef) -> Result<(), Self::Error> {
        if self.refuse_destroy.borrow().contains(object) {
            return Err(std::io::Error::other("CKR_DEVICE_ERROR"));
        }
        self.objects.borrow_mut().remove(object);
        self.destroyed.borrow_mut().push(object.clone());
        Ok(())
    }
}

fn hsm_ref(n: u8) -> HsmRef {
    HsmRef {
        kind: 4,
        id: vec![n],
    }
}

fn keys(state: u32) -> IndexKeys {
    IndexKeys {
        object_type: 2,
        state: Some(state),
        ..IndexKeys::default()
    }
}

/// Create a record with HSM object `n` and bring it to `lifecycle`.
fn record(store: &dyn Store, n: u8, lifecycle: Lifecycle) -> String {
    let uid = store.allocate_uid().unwrap();
    let object = NewObject {
        uid: uid.clone(),
        owner: "alice".into(),
        hsm: Some(hsm_ref(n)),
        attributes: b"live".to_vec(),
        keys: keys(2),
        ..NewObject::default()
    };
    store.create_pending(object).unwrap();
    if lifecycle == Lifecycle::Pending {
        return uid;
    }
    let committed = store.commit(&uid).unwrap();
    if lifecycle == Lifecycle::Committed {
        return uid;
    }
    let form = DestroyedForm {
        attributes: b"destroyed".to_vec(),
        keys: keys(6),
    };
    store
        .mark_destroying(&uid, committed.revision, form)
        .unwrap();
    if lifecycle == Lifecycle::Destroyed {
        store.mark_destroyed(&uid).unwrap();
    }
    uid
}

#[test]
fn settles_every_incomplete_record_and_reports_strangers() {
    let dir = ScratchDir::new("store-reconcile");
    let store = open(dir.path());
    let pending_made = record(&store, 1, Lifecycle::Pending); // crashed after C_CreateObject
    let pending_unmade = record(&store, 2, Lifecycle::Pending); // crashed before it
    let destroying_there = record(&store, 3, Lifecycle::Destroying); // crashed before C_DestroyObject
    let destroying_gone = record(&store, 4, Lifecycle::Destroying); // crashed after it
    let committed = record(&store, 5, Lifecycle::Committed);
    let destroyed = record(&store, 6, Lifecycle::Destroyed);
    let hsm = FakeHsm::default();
    for n in [1, 3, 5, 6, 9] {
        hsm.objects.borrow_mut().insert(hsm_ref(n));
    }

    let report = reconcile(&store, &hsm).unwrap();
    assert_eq!(
        report.rolled_back,
        vec![pending_made.clone(), pending_unmade.clone()]
    );
    assert_eq!(
        report.destroyed,
        vec![destroying_there.clone(), destroying_gone.clone()]
    );
    // 6 belongs to a destroyed record: its HSM object should not exist any more.
    assert_eq!(report.strangers, vec![hsm_ref(6), hsm_ref(9)]);
    assert!(report.failures.is_empty());
    assert_eq!(*hsm.destroyed.borrow(), vec![hsm_ref(1), hsm_ref(3)]);

    assert!(store.get(&pending_made).unwrap().is_none());
    assert!(store.get(&pending_unmade).unwrap().is_none());
    for uid in [&destroying_there, &destroying_gone, &destroyed] {
        let record = store.get(uid).unwrap().unwrap();
        assert_eq!(record.lifecycle, Lifecycle::Destroyed);
        assert_eq!(record.attributes, b"destroyed");
        assert_eq!(record.keys.state, Some(6));
    }
    assert_eq!(
        store.get(&committed).unwrap().unwrap().lifecycle,
        Lifecycle::Committed
    );
    assert!(store.list_incomplete().unwrap().is_empty());
    assert!(store.verify_indexes().unwrap().is_consistent());

    // Running it again changes nothing.
    let again = reconcile(&store, &hsm).unwrap();
    assert!(
        again.rolled_back.is_empty() && again.destroyed.is_empty() && again.failures.is_empty()
    );
}

#[test]
fn a_failed_hsm_destroy_leaves_the_record_for_next_time() {
    let dir = ScratchDir::new("store-reconcile-fail");
    let store = open(dir.path());
    let pending = record(&store, 1, Lifecycle::Pending);
    let destroying = record(&store, 2, Lifecycle::Destroying);
    let hsm = FakeHsm::default();
    for n in [1, 2] {
        hsm.objects.borrow_mut().insert(hsm_ref(n));
        hsm.refuse_destroy.borrow_mut().insert(hsm_ref(n));
    }
    let report = reconcile(&store, &hsm).unwrap();
    let failed: Vec<&str> = report.failures.iter().map(|f| f.uid.as_str()).collect();
    assert_eq!(failed, vec![pending.as_str(), destroying.as_str()]);
    assert!(report.failures[0].error.contains("CKR_DEVICE_ERROR"));
    assert!(
        report.strangers.is_empty(),
        "objects of unsettled records are not strangers"
    );
    assert_eq!(store.list_incomplete().unwrap().len(), 2);

    hsm.refuse_destroy.borrow_mut().clear();
    let report = reconcile(&store, &hsm).unwrap();
    assert_eq!(report.rolled_back, vec![pending]);
    assert_eq!(report.destroyed, vec![destroying]);
    assert!(hsm.objects.borrow().is_empty());
}

#[test]
fn an_unlistable_hsm_stops_the_reconciler_before_any_change() {
    let dir = ScratchDir::new("store-reconcile-list");
    let store = open(dir.path());
    let pending = record(&store, 1, Lifecycle::Pending);
    let hsm = FakeHsm {
        listing_fails: true,
        ..FakeHsm::default()
    };
    assert!(matches!(
        reconcile(&store, &hsm),
        Err(ReconcileError::HsmList(_))
    ));
    assert_eq!(
        store.get(&pending).unwrap().unwrap().lifecycle,
        Lifecycle::Pending
    );
}
