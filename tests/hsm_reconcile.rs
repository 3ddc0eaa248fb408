//! The start-up reconciler against a real SoftHSM2 token: records in a real store, HSM objects made through the
//! `Hsm` trait exactly as the object operations make them (caller id = the UID's bytes, `HsmRef` from
//! `hsm::hsm_ref`), settled through `hsm::Inventory`.

mod hsm_support;
mod store_support;

use std::collections::BTreeSet;

use hsm_support::{open, softhsm_profile, token};
use kmipd::hsm::inventory::UNRESOLVED;
use kmipd::hsm::profile::IdStrategy;
use kmipd::hsm::{
    hsm_kind, hsm_ref, Curve, ErrorClass, Hsm, Inventory, KeyPairSpec, KeyUsage, NewObject as HsmObject, ObjectKind,
    Pkcs11Hsm, SecretKeyAlgorithm, SecretKeySpec,
};
use kmipd::store::{reconcile, DestroyedForm, HsmInventory, HsmRef, IndexKeys, Lifecycle, NewObject, Store};
use store_support::ScratchDir;

/// An `Hsm` on the binary's token whose objects carry their own `CKA_ID` prefix, so that tests running in
/// parallel never see each other's objects.
fn namespaced(prefix: &str) -> Pkcs11Hsm {
    let mut profile = softhsm_profile();
    profile.objects.id_prefix = prefix.into();
    token(&[]);
    open(profile)
}

fn aes() -> SecretKeySpec {
    SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 128 }
}

fn keys(state: u32) -> IndexKeys {
    IndexKeys { object_type: 2, state: Some(state), ..IndexKeys::default() }
}

/// Step 1 of Create/Register: a Pending record (flushed) claiming the HSM object of `kind` with caller id = UID.
fn pending(store: &dyn Store, kind: ObjectKind) -> String {
    let uid = store.allocate_uid().unwrap();
    let object = NewObject {
        uid: uid.clone(),
        owner: "alice".into(),
        hsm: Some(hsm_ref(kind, uid.as_bytes())),
        attributes: b"live".to_vec(),
        keys: keys(1),
        ..NewObject::default()
    };
    store.create_pending(object).unwrap();
    uid
}

fn commit(store: &dyn Store, uid: &str) {
    store.commit(uid).unwrap();
}

fn mark_destroying(store: &dyn Store, uid: &str) {
    let record = store.get(uid).unwrap().unwrap();
    let form = DestroyedForm { attributes: b"destroyed".to_vec(), keys: keys(6) };
    store.mark_destroying(uid, record.revision, form).unwrap();
}

fn secret_key(hsm: &dyn Hsm, caller_id: &str) {
    hsm.generate_secret_key(aes(), &HsmObject::token(caller_id, "kmipd test key", KeyUsage::ALL)).unwrap();
}

fn key_pair(hsm: &dyn Hsm, private: &str, public: &str) {
    let private = HsmObject::token(private, "kmipd test private", KeyUsage::ALL);
    let public = HsmObject::token(public, "kmipd test public", KeyUsage::ALL);
    hsm.generate_key_pair(KeyPairSpec::Ec(Curve::P256), &private, &public).unwrap();
}

/// A whole Create: record, HSM object, commit.
fn committed_key(store: &dyn Store, hsm: &dyn Hsm) -> String {
    let uid = pending(store, ObjectKind::SecretKey);
    secret_key(hsm, &uid);
    commit(store, &uid);
    uid
}

/// A whole CreateKeyPair: one record per half, the pair, both commits.
fn committed_pair(store: &dyn Store, hsm: &dyn Hsm) -> (String, String) {
    let private = pending(store, ObjectKind::PrivateKey);
    let public = pending(store, ObjectKind::PublicKey);
    key_pair(hsm, &private, &public);
    commit(store, &private);
    commit(store, &public);
    (private, public)
}

fn exists(hsm: &dyn Hsm, caller_id: &str) -> bool {
    match hsm.object_info(caller_id.as_bytes()) {
        Ok(_) => true,
        Err(e) if e.class() == ErrorClass::NotFound => false,
        Err(e) => panic!("{e}"),
    }
}

fn set(uids: &[String]) -> BTreeSet<&str> {
    uids.iter().map(String::as_str).collect()
}

#[test]
fn crashed_creations_and_destructions_are_settled_on_the_token() {
    let dir = ScratchDir::new("hsm-reconcile");
    let store = store_support::open(dir.path());
    let hsm = namespaced("rc1:");

    // Crashed after the HSM object was made, before commit: rolled back, object destroyed.
    let pending_made = pending(&store, ObjectKind::SecretKey);
    secret_key(&hsm, &pending_made);
    // Crashed before the HSM call: rolled back.
    let pending_unmade = pending(&store, ObjectKind::SecretKey);
    // A key pair is two records, one per half, each half's caller id its own UID.
    let pair_private = pending(&store, ObjectKind::PrivateKey);
    let pair_public = pending(&store, ObjectKind::PublicKey);
    key_pair(&hsm, &pair_private, &pair_public);
    // Crashed after `destroying` was flushed, before C_DestroyObject: finished.
    let destroying_there = committed_key(&store, &hsm);
    mark_destroying(&store, &destroying_there);
    // Crashed after C_DestroyObject: finished.
    let destroying_gone = committed_key(&store, &hsm);
    mark_destroying(&store, &destroying_gone);
    hsm.destroy(destroying_gone.as_bytes()).unwrap();
    // Acknowledged objects stay as they are.
    let committed = committed_key(&store, &hsm);
    let (committed_private, committed_public) = committed_pair(&store, &hsm);
    // Deleted behind kmipd's back: missing.
    let committed_gone = committed_key(&store, &hsm);
    hsm.destroy(committed_gone.as_bytes()).unwrap();
    // A record naming another class than the object's: its object was never made, so the record is rolled back;
    // the object with its caller id is not the one it names and stays, a stranger.
    let mismatched = pending(&store, ObjectKind::PrivateKey);
    secret_key(&hsm, &mismatched);
    // In kmipd's namespace, claimed by nobody: a stranger, reported and kept.
    secret_key(&hsm, "stranger-1");

    let report = reconcile(&store, &Inventory::new(&hsm)).unwrap();

    let rolled_back =
        [pending_made.clone(), pending_unmade, pair_private.clone(), pair_public.clone(), mismatched.clone()];
    assert_eq!(set(&report.rolled_back), set(&rolled_back));
    assert_eq!(set(&report.destroyed), set(&[destroying_there.clone(), destroying_gone.clone()]));
    let strangers: BTreeSet<HsmRef> = report.strangers.iter().cloned().collect();
    let expected_strangers: BTreeSet<HsmRef> =
        [hsm_ref(ObjectKind::SecretKey, mismatched.as_bytes()), hsm_ref(ObjectKind::SecretKey, b"stranger-1")].into();
    assert_eq!(strangers, expected_strangers);
    assert_eq!(report.missing, vec![committed_gone.clone()]);
    assert!(report.failures.is_empty(), "{:?}", report.failures);

    // The token agrees with the store.
    for gone in [&pending_made, &pair_private, &pair_public, &destroying_there, &destroying_gone] {
        assert!(!exists(&hsm, gone), "{gone} still on the token");
    }
    for kept in [&committed, &committed_private, &committed_public, &mismatched, &"stranger-1".to_string()] {
        assert!(exists(&hsm, kept), "{kept} was destroyed");
    }
    assert!(store.get(&pending_made).unwrap().is_none());
    for uid in [&destroying_there, &destroying_gone] {
        let record = store.get(uid).unwrap().unwrap();
        assert_eq!(record.lifecycle, Lifecycle::Destroyed);
        assert_eq!(record.attributes, b"destroyed");
    }
    assert_eq!(store.get(&committed).unwrap().unwrap().lifecycle, Lifecycle::Committed);
    assert!(store.get(&mismatched).unwrap().is_none());
    assert!(store.list_incomplete().unwrap().is_empty());
    let listed: BTreeSet<HsmRef> = Inventory::new(&hsm).list_objects().unwrap().into_iter().collect();
    let expected: BTreeSet<HsmRef> = [
        hsm_ref(ObjectKind::SecretKey, committed.as_bytes()),
        hsm_ref(ObjectKind::PrivateKey, committed_private.as_bytes()),
        hsm_ref(ObjectKind::PublicKey, committed_public.as_bytes()),
        hsm_ref(ObjectKind::SecretKey, mismatched.as_bytes()),
        hsm_ref(ObjectKind::SecretKey, b"stranger-1"),
    ]
    .into();
    assert_eq!(listed, expected);

    // A second start changes nothing and reports the same.
    let again = reconcile(&store, &Inventory::new(&hsm)).unwrap();
    assert!(again.rolled_back.is_empty() && again.destroyed.is_empty() && again.failures.is_empty());
    assert_eq!((again.strangers, again.missing), (report.strangers, report.missing));
    assert!(store.verify_indexes().unwrap().is_consistent());
}

#[test]
fn the_inventory_destroys_only_what_the_reference_names() {
    let hsm = namespaced("rc3:");
    let inventory = Inventory::new(&hsm);
    secret_key(&hsm, "k");
    // Absent objects are destroyed already.
    inventory.destroy_object(&hsm_ref(ObjectKind::SecretKey, b"absent")).unwrap();
    // A reference of another class leaves the object alone.
    let err = inventory.destroy_object(&hsm_ref(ObjectKind::PublicKey, b"k")).unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidInput, "{err}");
    // An unresolved reference is never acted on.
    let unresolved = HsmRef { kind: hsm_kind(ObjectKind::SecretKey) | UNRESOLVED, id: b"rc3:k".to_vec() };
    assert!(inventory.destroy_object(&unresolved).is_err());
    assert!(exists(&hsm, "k"));
    inventory.destroy_object(&hsm_ref(ObjectKind::SecretKey, b"k")).unwrap();
    assert!(!exists(&hsm, "k"));
}

#[test]
fn hashed_ids_are_recovered_from_the_label() {
    let dir = ScratchDir::new("hsm-reconcile-hashed");
    let store = store_support::open(dir.path());
    let mut profile = softhsm_profile();
    profile.objects.id_strategy = IdStrategy::Hashed;
    profile.objects.max_id_bytes = 8;
    token(&[]);
    let hsm = open(profile);
    // Another namespace's object: on a hashed token (assumed kmipd's alone) its caller id can't be recovered.
    let foreign = namespaced("rc2:");
    secret_key(&foreign, "foreign");

    let pending_made = pending(&store, ObjectKind::SecretKey);
    secret_key(&hsm, &pending_made);
    let committed = committed_key(&store, &hsm);
    let (private, public) = committed_pair(&store, &hsm);
    secret_key(&hsm, "hashed-stranger");

    let label = hsm.object_info(committed.as_bytes()).unwrap().label;
    assert_eq!(label, committed, "under the hashed strategy the label is the caller id");
    let report = reconcile(&store, &Inventory::new(&hsm)).unwrap();
    assert_eq!(report.rolled_back, vec![pending_made.clone()]);
    assert!(!exists(&hsm, &pending_made));
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    // Objects of other tests share this token, so look for ours rather than compare whole lists.
    assert!(report.strangers.contains(&hsm_ref(ObjectKind::SecretKey, b"hashed-stranger")), "{:?}", report.strangers);
    let foreign_ref = HsmRef { kind: hsm_kind(ObjectKind::SecretKey) | UNRESOLVED, id: b"rc2:foreign".to_vec() };
    assert!(report.strangers.contains(&foreign_ref), "{:?}", report.strangers);
    for uid in [&committed, &private, &public] {
        assert!(!report.missing.contains(uid), "{uid} reported missing");
        assert!(exists(&hsm, uid));
    }
}

/// Start-up reconciles with the listing made when the token was opened (one scan, read in parallel), so that
/// listing must be exactly what a fresh scan finds, and be handed out once.
#[test]
fn the_opening_listing_is_a_full_scan_taken_once() {
    let prefix = "kmipd-opening:";
    let first = namespaced(prefix);
    for i in 0..40 {
        let id = format!("opening-{i}");
        secret_key(&first, &id);
    }
    drop(first);
    let hsm = namespaced(prefix);
    let opening = hsm.take_opening_listing().expect("the open-time scan is kept");
    assert!(hsm.take_opening_listing().is_none(), "handed out twice");
    let mut fresh = hsm.list_objects().unwrap();
    let mut opening = opening;
    fresh.sort_by(|a, b| a.cka_id.cmp(&b.cka_id));
    opening.sort_by(|a, b| a.cka_id.cmp(&b.cka_id));
    assert_eq!(opening, fresh);
    assert!(opening.len() >= 40);
    let listed = Inventory::with_listing(&hsm, Some(opening)).list_objects().unwrap();
    assert_eq!(listed.len(), fresh.len());
    for summary in &fresh {
        hsm.destroy(summary.caller_id.as_deref().unwrap()).unwrap();
    }
}
