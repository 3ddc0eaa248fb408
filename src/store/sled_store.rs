//! The sled implementation of [`Store`].

use super::group_commit::GroupCommit;
use super::keys::{self, hsm_entry, index_entries, record_key, seq_of_entry, KeyBuf, Kind};
use super::locate::{matches, plan, IndexScan};
use super::{
    DestroyedForm, Grant, HsmRef, IndexKeys, Lifecycle, LocateQuery, Located, NewObject,
    ObjectRecord, Store, StoreError, StoreResult,
};
use sled::{Batch, IVec};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// First byte of every stored record: the record format version.
const RECORD_FORMAT: u8 = 1;
/// Key of the store format marker.
const FORMAT_KEY: &[u8] = b"m/format";
/// The store format this code reads and writes.
const STORE_FORMAT: &[u8] = b"kmipd-store-1";
/// Name of the sled tree holding everything.
const TREE_NAME: &[u8] = b"kmipd";
/// Read-modify-write lock stripes (by UID hash).
const STRIPES: usize = 64;
/// See [`SledStore::open`]: costs one extra flush per this many allocated ids.
const IDGEN_PERSIST_INTERVAL: u64 = 1000;

/// How to open a [`SledStore`].
#[derive(Clone, Debug)]
pub struct SledStoreConfig {
    /// Directory of the database (created if missing).
    pub path: PathBuf,
    /// sled's page cache size in bytes.
    pub cache_capacity_bytes: u64,
    /// Delete the database when the store is dropped (for other layers' tests).
    pub temporary: bool,
}

impl SledStoreConfig {
    /// A configuration with a 256 MiB cache.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            cache_capacity_bytes: 256 * 1024 * 1024,
            temporary: false,
        }
    }

    /// A throw-away store in a fresh temporary directory, deleted on drop.
    pub fn temporary() -> Self {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("kmipd-store-{}-{n}", std::process::id()));
        Self {
            path,
            cache_capacity_bytes: 16 * 1024 * 1024,
            temporary: true,
        }
    }
}

/// The [`Store`] on sled 0.34.
///
/// A record and all its index entries live in one tree and change together in one atomic
/// batch; each mutation is flushed (group commit) before it returns. Mutations of one UID are
/// serialized by a striped lock; reads take no lock.
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    group: GroupCommit,
    /// Serializes the uniqueness checks of `create_pending`.
    creating: Mutex<()>,
    stripes: [Mutex<()>; STRIPES],
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

/// What [`SledStore::verify_indexes`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexReport {
    /// Records read.
    pub records: usize,
    /// Index or HSM entries a record implies but the tree lacks.
    pub missing: Vec<Vec<u8>>,
    /// Index or HSM entries no record implies (or pointing at the wrong UID).
    pub dangling: Vec<Vec<u8>>,
}

impl IndexReport {
    /// True when every record's entries exist and no other entry does.
    pub fn is_consistent(&self) -> bool {
        self.missing.is_empty() && self.dangling.is_empty()
    }
}

impl SledStore {
    /// [`Store::update`] and [`Store::update_with_grants`]: the attributes and keys, and the
    /// grants when given, of a Committed or Destroyed record at `expected_revision`.
    fn replace_attributes(
        &self,
        uid: &str,
        expected_revision: u64,
        attributes: Vec<u8>,
        keys: IndexKeys,
        grants: Option<Vec<Grant>>,
    ) -> StoreResult<ObjectRecord> {
        self.mutate(uid, |record| {
            expect_lifecycle(record, &[Lifecycle::Committed, Lifecycle::Destroyed], "Committed or Destroyed")?;
            expect_revision(record, expected_revision)?;
            record.attributes = attributes;
            record.keys = keys;
            if let Some(grants) = grants {
                record.grants = grants;
            }
            Ok(())
        })
    }

    /// Open (or create) the store. sled recovers its log here; no record is read.
    pub fn open(config: &SledStoreConfig) -> StoreResult<Self> {
        let db = sled::Config::new()
            .path(&config.path)
            .cache_capacity(config.cache_capacity_bytes)
            .temporary(config.temporary)
            // sled persists the id counter every this many ids and skips twice as many after
            // a restart; the default (a million) makes UIDs jump by millions at each start.
            .idgen_persist_interval(IDGEN_PERSIST_INTERVAL)
            .open()?;
        let tree = db.open_tree(TREE_NAME)?;
        match tree.get(FORMAT_KEY)? {
            Some(format) if format.as_ref() == STORE_FORMAT => {}
            Some(other) => {
                return Err(StoreError::Corrupt(format!(
                    "unknown store format {:?}",
                    String::from_utf8_lossy(&other)
                )))
            }
            None => {
                tree.insert(FORMAT_KEY, STORE_FORMAT)?;
                db.flush()?;
            }
        }
        let stripes = std::array::from_fn(|_| Mutex::new(()));
        Ok(Self {
            db,
            tree,
            group: GroupCommit::default(),
            creating: Mutex::new(()),
            stripes,
        })
    }

    /// Read every record and index entry and compare them: for `kmipd` maintenance commands
    /// and tests. Reads the whole store.
    pub fn verify_indexes(&self) -> StoreResult<IndexReport> {
        let mut report = IndexReport::default();
        let mut expected: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for item in self.tree.scan_prefix([keys::RECORD]) {
            let (_, value) = item?;
            let record = decode_record(&value)?;
            report.records += 1;
            let uid = record.uid.as_bytes().to_vec();
            for key in index_entries(&record).into_iter().chain(hsm_entry(&record)) {
                expected.insert(key, uid.clone());
            }
        }
        for prefix in [keys::INDEX, keys::HSM] {
            for item in self.tree.scan_prefix([prefix]) {
                let (key, value) = item?;
                match expected.remove(key.as_ref()) {
                    Some(uid) if uid == value.as_ref() => {}
                    _ => report.dangling.push(key.to_vec()),
                }
            }
        }
        report.missing = expected.into_keys().collect();
        Ok(report)
    }

    fn lock(&self, uid: &str) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        uid.hash(&mut hasher);
        // In bounds: reduced modulo the array's length.
        let stripe = (hasher.finish() % STRIPES as u64) as usize;
        // The guarded data is `()`: a poisoned stripe carries no broken state.
        self.stripes[stripe]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self, uid: &str) -> StoreResult<Option<ObjectRecord>> {
        self.tree
            .get(record_key(uid))?
            .map(|value| decode_record(&value))
            .transpose()
    }

    /// Write the change from `old` to `new` (either may be absent) as one atomic batch and
    /// return once it is durable.
    fn write_change(
        &self,
        old: Option<&ObjectRecord>,
        new: Option<&ObjectRecord>,
    ) -> StoreResult<()> {
        let writing = self.group.begin_write();
        self.apply_change(old, new)?;
        drop(writing);
        self.sync()
    }

    /// Return once everything written so far is durable (group commit).
    fn sync(&self) -> StoreResult<()> {
        self.group.sync(|| self.db.flush().map(drop))?;
        Ok(())
    }

    /// Apply the change from `old` to `new` as one atomic batch, not yet durable.
    fn apply_change(
        &self,
        old: Option<&ObjectRecord>,
        new: Option<&ObjectRecord>,
    ) -> StoreResult<()> {
        let mut batch = Batch::default();
        let old_entries = old.map(index_entries).unwrap_or_default();
        let new_entries = new.map(index_entries).unwrap_or_default();
        for key in old_entries.difference(&new_entries) {
            batch.remove(key.as_slice());
        }
        let old_hsm = old.and_then(hsm_entry);
        let new_hsm = new.and_then(hsm_entry);
        if let Some(key) = &old_hsm {
            if new_hsm.as_ref() != Some(key) {
                batch.remove(key.as_slice());
            }
        }
        match new {
            Some(record) => {
                let uid = record.uid.as_bytes();
                for key in new_entries.difference(&old_entries) {
                    batch.insert(key.as_slice(), uid);
                }
                if let Some(key) = new_hsm {
                    batch.insert(key, uid);
                }
                batch.insert(record_key(&record.uid), encode_record(record)?);
            }
            None => {
                if let Some(record) = old {
                    batch.remove(record_key(&record.uid));
                }
            }
        }
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    /// Read-modify-write one record under its stripe lock; `change` sees the current record
    /// and may refuse. The revision is bumped for it.
    fn mutate(
        &self,
        uid: &str,
        change: impl FnOnce(&mut ObjectRecord) -> StoreResult<()>,
    ) -> StoreResult<ObjectRecord> {
        let _guard = self.lock(uid);
        let old = self
            .read(uid)?
            .ok_or_else(|| StoreError::NotFound(uid.to_owned()))?;
        let mut new = old.clone();
        change(&mut new)?;
        new.revision = old.revision.wrapping_add(1);
        self.write_change(Some(&old), Some(&new))?;
        Ok(new)
    }

    /// The entries of an exact-prefix index scan, newest first, without reading them all
    /// (under one prefix, entries are in creation order).
    fn descending(&self, scan: &IndexScan) -> StoreResult<Descending> {
        let mut iters = Vec::with_capacity(scan.ranges.len());
        let mut heads = Vec::with_capacity(scan.ranges.len());
        for (low, high) in &scan.ranges {
            let mut iter = self.tree.range(low.as_slice()..=high.as_slice()).rev();
            heads.push(iter.next().map(index_item).transpose()?);
            iters.push(iter);
        }
        Ok(Descending { iters, heads })
    }

    /// Whether the object created at `seq` has an entry under one of `prefixes`.
    fn has_entry(&self, prefixes: &[Vec<u8>], seq: u64) -> StoreResult<bool> {
        for prefix in prefixes {
            let mut key = Vec::with_capacity(prefix.len() + 8);
            key.extend_from_slice(prefix);
            key.extend_from_slice(&seq.to_be_bytes());
            if self.tree.contains_key(key)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Merges the reversed ranges of one index scan into one newest-first stream.
struct Descending {
    iters: Vec<std::iter::Rev<sled::Iter>>,
    /// The next (largest remaining) entry of each range.
    heads: Vec<Option<(u64, IVec)>>,
}

impl Iterator for Descending {
    type Item = StoreResult<(u64, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        let (index, _) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, head)| head.as_ref().map(|(seq, _)| (i, *seq)))
            .max_by_key(|(_, seq)| *seq)?;
        let entry = self.heads.get_mut(index)?.take()?;
        if let (Some(iter), Some(head)) = (self.iters.get_mut(index), self.heads.get_mut(index)) {
            match iter.next().map(index_item).transpose() {
                Ok(next) => *head = next,
                Err(error) => return Some(Err(error)),
            }
        }
        Some(Ok(entry))
    }
}

/// An index entry as creation sequence and UID.
fn index_item(item: sled::Result<(IVec, IVec)>) -> StoreResult<(u64, IVec)> {
    let (key, uid) = item?;
    let seq = seq_of_entry(&key)
        .ok_or_else(|| StoreError::Corrupt("index key without sequence".into()))?;
    Ok((seq, uid))
}

fn encode_record(record: &ObjectRecord) -> StoreResult<Vec<u8>> {
    let mut out = vec![RECORD_FORMAT];
    out.extend_from_slice(&postcard::to_stdvec(record)?);
    Ok(out)
}

fn decode_record(bytes: &[u8]) -> StoreResult<ObjectRecord> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT, body)) => {
            postcard::from_bytes(body).map_err(|e| StoreError::Corrupt(format!("record: {e}")))
        }
        Some((other, _)) => Err(StoreError::Corrupt(format!(
            "unknown record format {other}"
        ))),
        None => Err(StoreError::Corrupt("empty record".into())),
    }
}

fn uid_string(bytes: &IVec) -> StoreResult<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| StoreError::Corrupt("UID is not UTF-8".into()))
}

fn expect_lifecycle(
    record: &ObjectRecord,
    allowed: &[Lifecycle],
    expected: &'static str,
) -> StoreResult<()> {
    if allowed.contains(&record.lifecycle) {
        Ok(())
    } else {
        Err(StoreError::WrongLifecycle {
            uid: record.uid.clone(),
            actual: record.lifecycle,
            expected,
        })
    }
}

fn expect_revision(record: &ObjectRecord, expected: u64) -> StoreResult<()> {
    if record.revision == expected {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            uid: record.uid.clone(),
            expected,
            actual: record.revision,
        })
    }
}

impl Store for SledStore {
    fn allocate_uid(&self) -> StoreResult<String> {
        // sled persists the counter ahead of use and skips past it after a crash, so an
        // identifier is never handed out twice.
        Ok(self.db.generate_id()?.wrapping_add(1).to_string())
    }

    fn create_pending(&self, object: NewObject) -> StoreResult<ObjectRecord> {
        // Uniqueness of the UID and of the HSM object is checked and claimed under one lock;
        // the flush happens outside it so that concurrent creations share it.
        let writing = self.group.begin_write();
        let creating = self.creating.lock().unwrap_or_else(PoisonError::into_inner);
        if self.tree.contains_key(record_key(&object.uid))? {
            return Err(StoreError::AlreadyExists(object.uid));
        }
        if let Some(hsm) = &object.hsm {
            if let Some(owner) = self.uid_for_hsm_object(hsm)? {
                return Err(StoreError::HsmObjectClaimed {
                    uid: object.uid,
                    owner,
                });
            }
        }
        let record = ObjectRecord {
            created_seq: self.db.generate_id()?,
            uid: object.uid,
            revision: 1,
            owner: object.owner,
            lifecycle: Lifecycle::Pending,
            archived: false,
            hsm: object.hsm,
            attributes: object.attributes,
            material: object.material,
            keys: object.keys,
            grants: normalized_grants(object.grants),
            destroyed_form: None,
        };
        self.apply_change(None, Some(&record))?;
        drop(creating);
        drop(writing);
        self.sync()?;
        Ok(record)
    }

    fn commit(&self, uid: &str) -> StoreResult<ObjectRecord> {
        self.mutate(uid, |record| {
            expect_lifecycle(record, &[Lifecycle::Pending], "Pending")?;
            record.lifecycle = Lifecycle::Committed;
            Ok(())
        })
    }

    fn update(
        &self,
        uid: &str,
        expected_revision: u64,
        attributes: Vec<u8>,
        keys: IndexKeys,
    ) -> StoreResult<ObjectRecord> {
        self.replace_attributes(uid, expected_revision, attributes, keys, None)
    }

    fn update_with_grants(
        &self,
        uid: &str,
        expected_revision: u64,
        attributes: Vec<u8>,
        keys: IndexKeys,
        grants: Vec<Grant>,
    ) -> StoreResult<ObjectRecord> {
        self.replace_attributes(uid, expected_revision, attributes, keys, Some(normalized_grants(grants)))
    }

    fn set_archived(&self, uid: &str, archived: bool) -> StoreResult<ObjectRecord> {
        self.mutate(uid, |record| {
            expect_lifecycle(record, &[Lifecycle::Committed], "Committed")?;
            record.archived = archived;
            Ok(())
        })
    }

    fn mark_destroying(
        &self,
        uid: &str,
        expected_revision: u64,
        destroyed: DestroyedForm,
    ) -> StoreResult<ObjectRecord> {
        self.mutate(uid, |record| {
            expect_lifecycle(record, &[Lifecycle::Committed], "Committed")?;
            expect_revision(record, expected_revision)?;
            record.lifecycle = Lifecycle::Destroying;
            record.destroyed_form = Some(destroyed);
            Ok(())
        })
    }

    fn cancel_destroying(&self, uid: &str) -> StoreResult<ObjectRecord> {
        self.mutate(uid, |record| {
            expect_lifecycle(record, &[Lifecycle::Destroying], "Destroying")?;
            record.lifecycle = Lifecycle::Committed;
            record.destroyed_form = None;
            Ok(())
        })
    }

    fn mark_destroyed(&self, uid: &str) -> StoreResult<ObjectRecord> {
        self.mutate(uid, |record| {
            expect_lifecycle(record, &[Lifecycle::Destroying], "Destroying")?;
            record.lifecycle = Lifecycle::Destroyed;
            if let Some(form) = record.destroyed_form.take() {
                record.attributes = form.attributes;
                record.keys = form.keys;
            }
            record.material = None;
            Ok(())
        })
    }

    fn get(&self, uid: &str) -> StoreResult<Option<ObjectRecord>> {
        self.read(uid)
    }

    fn delete(&self, uid: &str) -> StoreResult<()> {
        let _guard = self.lock(uid);
        let old = self
            .read(uid)?
            .ok_or_else(|| StoreError::NotFound(uid.to_owned()))?;
        self.write_change(Some(&old), None)
    }

    fn locate_refined(
        &self,
        query: &LocateQuery,
        refine: Option<&dyn Fn(&ObjectRecord) -> bool>,
    ) -> StoreResult<Located> {
        let plan = plan(query);
        // The first scan of the plan (the most selective guess: a name, usually) drives,
        // streamed newest first; every other filter is checked per candidate, by an index
        // point lookup where it can be, else on the record.
        let Some(driver) = plan.scans.first() else {
            return Ok(Located::default());
        };
        let candidates: Box<dyn Iterator<Item = StoreResult<(u64, IVec)>>> =
            if driver.prefixes.is_some() {
                Box::new(self.descending(driver)?)
            } else {
                // A range (dates) orders its entries by value: sort them by age first.
                let mut by_seq = BTreeMap::new();
                for (low, high) in &driver.ranges {
                    for item in self.tree.range(low.as_slice()..=high.as_slice()) {
                        let (seq, uid) = index_item(item)?;
                        by_seq.insert(seq, uid);
                    }
                }
                Box::new(by_seq.into_iter().rev().map(Ok))
            };
        let mut point_checks = Vec::new();
        let mut record_check = !plan.complete || refine.is_some();
        for scan in plan.scans.iter().skip(1) {
            match &scan.prefixes {
                Some(prefixes) => point_checks.push(prefixes.as_slice()),
                None => record_check = true,
            }
        }
        let end = query
            .maximum
            .map_or(usize::MAX, |max| query.offset.saturating_add(max));
        let mut located = Located::default();
        let mut matched = 0usize;
        let mut exhausted = true;
        for candidate in candidates {
            let (seq, uid) = candidate?;
            let mut passes = true;
            for prefixes in &point_checks {
                if !self.has_entry(prefixes, seq)? {
                    passes = false;
                    break;
                }
            }
            if !passes || self.has_entry(&plan.exclusions, seq)? {
                continue;
            }
            let uid = uid_string(&uid)?;
            if record_check {
                // A record deleted since the scan is simply not a match.
                let Some(record) = self.read(&uid)? else {
                    continue;
                };
                let passes = record.created_seq == seq
                    && matches(&record, query)
                    && refine.is_none_or(|refine| refine(&record));
                if !passes {
                    continue;
                }
            }
            if matched >= query.offset && matched < end {
                located.uids.push(uid);
            }
            matched += 1;
            if matched >= end && !query.count_total {
                exhausted = false;
                break;
            }
        }
        located.matched = exhausted.then_some(matched);
        Ok(located)
    }

    fn list_incomplete(&self) -> StoreResult<Vec<ObjectRecord>> {
        let scan = self
            .tree
            .scan_prefix(KeyBuf::index(Kind::Incomplete).prefix());
        let mut by_seq = BTreeMap::new();
        for item in scan {
            let (seq, uid) = index_item(item)?;
            by_seq.insert(seq, uid);
        }
        let mut records = Vec::with_capacity(by_seq.len());
        for uid in by_seq.values() {
            if let Some(record) = self.read(&uid_string(uid)?)? {
                records.push(record);
            }
        }
        Ok(records)
    }

    fn uid_for_hsm_object(&self, hsm: &HsmRef) -> StoreResult<Option<String>> {
        self.tree
            .get(keys::hsm_key(hsm.kind, &hsm.id))?
            .as_ref()
            .map(uid_string)
            .transpose()
    }

    fn hsm_claims(&self) -> StoreResult<BTreeMap<HsmRef, String>> {
        let mut claims = BTreeMap::new();
        for item in self.tree.scan_prefix([keys::HSM]) {
            let (key, uid) = item?;
            let hsm = keys::hsm_ref_of_key(&key)
                .ok_or_else(|| StoreError::Corrupt("short HSM reference key".into()))?;
            claims.insert(hsm, uid_string(&uid)?);
        }
        Ok(claims)
    }

    fn grant(&self, uid: &str, identity: &str, operations: &[u32]) -> StoreResult<ObjectRecord> {
        self.mutate(uid, |record| {
            expect_lifecycle(
                record,
                &[Lifecycle::Committed, Lifecycle::Destroyed],
                "Committed or Destroyed",
            )?;
            if operations.is_empty() {
                return Ok(());
            }
            let position = match record
                .grants
                .binary_search_by(|g| g.identity.as_str().cmp(identity))
            {
                Ok(position) => position,
                Err(position) => {
                    record.grants.insert(
                        position,
                        Grant {
                            identity: identity.to_owned(),
                            operations: Vec::new(),
                        },
                    );
                    position
                }
            };
            if let Some(grant) = record.grants.get_mut(position) {
                let merged: BTreeSet<u32> =
                    grant.operations.iter().chain(operations).copied().collect();
                grant.operations = merged.into_iter().collect();
            }
            Ok(())
        })
    }

    fn revoke_grant(
        &self,
        uid: &str,
        identity: &str,
        operations: &[u32],
    ) -> StoreResult<ObjectRecord> {
        self.mutate(uid, |record| {
            for grant in record.grants.iter_mut().filter(|g| g.identity == identity) {
                if operations.is_empty() {
                    grant.operations.clear();
                } else {
                    grant.operations.retain(|op| !operations.contains(op));
                }
            }
            record.grants.retain(|g| !g.operations.is_empty());
            Ok(())
        })
    }

    fn grants_for(&self, uid: &str) -> StoreResult<Vec<Grant>> {
        Ok(self
            .read(uid)?
            .ok_or_else(|| StoreError::NotFound(uid.to_owned()))?
            .grants)
    }
}

/// Grants as records keep them: sorted by identity, one entry per identity, operations sorted
/// and unique, no empty entries ([`ObjectRecord::permits`] binary-searches them).
fn normalized_grants(grants: Vec<Grant>) -> Vec<Grant> {
    let mut by_identity: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for grant in grants {
        by_identity.entry(grant.identity).or_default().extend(grant.operations);
    }
    by_identity
        .into_iter()
        .filter_map(|(identity, mut operations)| {
            operations.sort_unstable();
            operations.dedup();
            (!operations.is_empty()).then_some(Grant { identity, operations })
        })
        .collect()
}
