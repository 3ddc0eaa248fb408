//! Key layout of the single sled tree.
//!
//! Everything lives in one tree so that a record and its index entries change in one atomic
//! `apply_batch` (sled batches are atomic per tree, across crashes too).
//!
//! ```text
//! r | uid                                  → record (format byte + postcard)
//! x | kind | field bytes | created_seq(8)  → uid          (Locate indexes)
//! h | hsm kind(4) | hsm id                 → uid          (live HSM objects)
//! m/format                                 → store format marker
//! ```
//!
//! Variable-length field values are length-prefixed, so one value's entries never share a
//! prefix with another value's. Integers are big-endian with the sign bit flipped, so byte
//! order is numeric order (date range scans rely on that). The trailing creation sequence
//! orders each index's entries by age and makes every key unique.

use super::{HsmRef, Lifecycle, ObjectRecord, StorageStatus};
use std::collections::BTreeSet;

/// Prefix of record keys.
pub(super) const RECORD: u8 = b'r';
/// Prefix of index keys.
pub(super) const INDEX: u8 = b'x';
/// Prefix of HSM-reference keys.
pub(super) const HSM: u8 = b'h';

/// Index kinds (the byte after [`INDEX`]). Values are part of the on-disk format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Kind {
    /// Storage status (Online/Archived/Destroyed), or hidden for pending records.
    Storage = 1,
    /// Name value.
    Name = 2,
    /// Object Type.
    ObjectType = 3,
    /// State.
    State = 4,
    /// Cryptographic Algorithm.
    Algorithm = 5,
    /// Cryptographic Length.
    Length = 6,
    /// Object Group.
    Group = 7,
    /// Link target UID.
    LinkTarget = 8,
    /// Date attribute value.
    Date = 9,
    /// Exact-match term: attribute name then value.
    Term = 10,
    /// Owner and grantees.
    Visible = 11,
    /// Pending and Destroying records, for the reconciler.
    Incomplete = 12,
}

/// The storage byte of pending records: no Locate mask selects it.
const STORAGE_HIDDEN: u8 = 3;

/// The storage byte of a status.
pub(super) fn storage_byte(status: Option<StorageStatus>) -> u8 {
    match status {
        Some(StorageStatus::Online) => 0,
        Some(StorageStatus::Archived) => 1,
        Some(StorageStatus::Destroyed) => 2,
        None => STORAGE_HIDDEN,
    }
}

/// The lifecycle byte of the incomplete index.
pub(super) fn lifecycle_byte(lifecycle: Lifecycle) -> u8 {
    match lifecycle {
        Lifecycle::Pending => 0,
        Lifecycle::Committed => 1,
        Lifecycle::Destroying => 2,
        Lifecycle::Destroyed => 3,
    }
}

/// Builds an index key prefix field by field.
#[derive(Clone, Debug)]
pub(super) struct KeyBuf(Vec<u8>);

impl KeyBuf {
    /// Start an index key of `kind`.
    pub(super) fn index(kind: Kind) -> Self {
        Self(vec![INDEX, kind as u8])
    }

    /// Append a length-prefixed byte string.
    pub(super) fn bytes(mut self, value: &[u8]) -> Self {
        // Values longer than u32::MAX cannot reach here (sled values are far smaller), but
        // saturating keeps the encoding total.
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(value);
        self
    }

    /// Append a `u32`.
    pub(super) fn u32(mut self, value: u32) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Append an `i32` in order-preserving form.
    pub(super) fn i32(self, value: i32) -> Self {
        self.u32(value as u32 ^ 0x8000_0000)
    }

    /// Append an `i64` in order-preserving form.
    pub(super) fn i64(mut self, value: i64) -> Self {
        self.0
            .extend_from_slice(&(value as u64 ^ 0x8000_0000_0000_0000).to_be_bytes());
        self
    }

    /// Append one byte.
    pub(super) fn byte(mut self, value: u8) -> Self {
        self.0.push(value);
        self
    }

    /// Finish as a prefix (for scans).
    pub(super) fn prefix(self) -> Vec<u8> {
        self.0
    }

    /// Finish as a full entry key for the record created at `seq`.
    pub(super) fn entry(mut self, seq: u64) -> Vec<u8> {
        self.0.extend_from_slice(&seq.to_be_bytes());
        self.0
    }
}

/// The creation sequence at the end of an index key.
pub(super) fn seq_of_entry(key: &[u8]) -> Option<u64> {
    let start = key.len().checked_sub(8)?;
    let tail: [u8; 8] = key.get(start..)?.try_into().ok()?;
    Some(u64::from_be_bytes(tail))
}

/// Key of a record.
pub(super) fn record_key(uid: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + uid.len());
    key.push(RECORD);
    key.extend_from_slice(uid.as_bytes());
    key
}

/// Key of an HSM reference.
pub(super) fn hsm_key(kind: u32, id: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(5 + id.len());
    key.push(HSM);
    key.extend_from_slice(&kind.to_be_bytes());
    key.extend_from_slice(id);
    key
}

/// The HSM reference an HSM-reference key stands for.
pub(super) fn hsm_ref_of_key(key: &[u8]) -> Option<HsmRef> {
    let kind: [u8; 4] = key.get(1..5)?.try_into().ok()?;
    Some(HsmRef {
        kind: u32::from_be_bytes(kind),
        id: key.get(5..)?.to_vec(),
    })
}

/// Every index entry key a record has (each maps to the record's UID).
pub(super) fn index_entries(record: &ObjectRecord) -> BTreeSet<Vec<u8>> {
    let seq = record.created_seq;
    let keys = &record.keys;
    let mut out = BTreeSet::new();
    out.insert(
        KeyBuf::index(Kind::Storage)
            .byte(storage_byte(record.storage_status()))
            .entry(seq),
    );
    if matches!(record.lifecycle, Lifecycle::Pending | Lifecycle::Destroying) {
        out.insert(
            KeyBuf::index(Kind::Incomplete)
                .byte(lifecycle_byte(record.lifecycle))
                .entry(seq),
        );
    }
    out.insert(
        KeyBuf::index(Kind::Visible)
            .bytes(record.owner.as_bytes())
            .entry(seq),
    );
    for grant in &record.grants {
        out.insert(
            KeyBuf::index(Kind::Visible)
                .bytes(grant.identity.as_bytes())
                .entry(seq),
        );
    }
    out.insert(
        KeyBuf::index(Kind::ObjectType)
            .u32(keys.object_type)
            .entry(seq),
    );
    if let Some(state) = keys.state {
        out.insert(KeyBuf::index(Kind::State).u32(state).entry(seq));
    }
    for name in &keys.names {
        out.insert(KeyBuf::index(Kind::Name).bytes(name.as_bytes()).entry(seq));
    }
    if let Some(algorithm) = keys.cryptographic_algorithm {
        out.insert(KeyBuf::index(Kind::Algorithm).u32(algorithm).entry(seq));
    }
    if let Some(length) = keys.cryptographic_length {
        out.insert(KeyBuf::index(Kind::Length).i32(length).entry(seq));
    }
    for group in &keys.object_groups {
        out.insert(
            KeyBuf::index(Kind::Group)
                .bytes(group.as_bytes())
                .entry(seq),
        );
    }
    for link in &keys.links {
        out.insert(
            KeyBuf::index(Kind::LinkTarget)
                .bytes(link.target.as_bytes())
                .entry(seq),
        );
    }
    for date in &keys.dates {
        out.insert(
            KeyBuf::index(Kind::Date)
                .u32(date.attribute)
                .i64(date.seconds)
                .entry(seq),
        );
    }
    for term in &keys.terms {
        out.insert(
            KeyBuf::index(Kind::Term)
                .bytes(term.attribute.as_bytes())
                .bytes(&term.value)
                .entry(seq),
        );
    }
    out
}

/// The HSM-reference key a record holds, if its HSM object should exist.
pub(super) fn hsm_entry(record: &ObjectRecord) -> Option<Vec<u8>> {
    match (&record.hsm, record.lifecycle) {
        (_, Lifecycle::Destroyed) | (None, _) => None,
        (Some(hsm), _) => Some(hsm_key(hsm.kind, &hsm.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_integers_sort_numerically() {
        let keys: Vec<Vec<u8>> = [-5i64, -1, 0, 1, 1_700_000_000]
            .iter()
            .map(|v| KeyBuf::index(Kind::Date).u32(7).i64(*v).entry(1))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn length_prefix_separates_values_sharing_a_prefix() {
        let short = KeyBuf::index(Kind::Name).bytes(b"ab").prefix();
        let long = KeyBuf::index(Kind::Name).bytes(b"abc").entry(1);
        assert!(!long.starts_with(&short));
    }

    #[test]
    fn hsm_keys_round_trip() {
        let key = hsm_key(0x0102_0304, b"cka-id");
        let hsm = hsm_ref_of_key(&key).unwrap();
        assert_eq!((hsm.kind, hsm.id.as_slice()), (0x0102_0304, &b"cka-id"[..]));
        assert_eq!(hsm_ref_of_key(b"h12"), None);
    }

    #[test]
    fn sequence_round_trips() {
        let key = KeyBuf::index(Kind::Name)
            .bytes(b"n")
            .entry(0x0102_0304_0506_0708);
        assert_eq!(seq_of_entry(&key), Some(0x0102_0304_0506_0708));
        assert_eq!(seq_of_entry(b"short"), None);
    }
}
