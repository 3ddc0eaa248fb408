//! Locate: which index scans a query needs, and the record-level check of every filter.

use super::keys::{storage_byte, KeyBuf, Kind};
use super::{LocateQuery, ObjectRecord, StorageStatus};

/// One index-served filter: the union of `ranges` (inclusive bounds) holds exactly the
/// entries of the objects that pass it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct IndexScan {
    /// Inclusive `(low, high)` key bounds.
    pub(super) ranges: Vec<(Vec<u8>, Vec<u8>)>,
    /// When the filter is a union of exact prefixes: an object passes iff some
    /// `prefix ‖ created_seq` key exists, a point lookup. `None` when only the record can tell
    /// (date ranges, a term without value).
    pub(super) prefixes: Option<Vec<Vec<u8>>>,
}

impl IndexScan {
    fn prefixes(prefixes: Vec<Vec<u8>>) -> Self {
        Self {
            ranges: prefixes.iter().cloned().map(prefix_bounds).collect(),
            prefixes: Some(prefixes),
        }
    }

    fn prefix(prefix: Vec<u8>) -> Self {
        Self::prefixes(vec![prefix])
    }

    fn range(low: Vec<u8>, high: Vec<u8>) -> Self {
        Self {
            ranges: vec![(low, high)],
            prefixes: None,
        }
    }
}

/// Inclusive bounds of every entry key under `prefix` (entry keys end in an 8-byte sequence).
fn prefix_bounds(prefix: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    let mut low = prefix.clone();
    low.extend_from_slice(&[0; 8]);
    let mut high = prefix;
    high.extend_from_slice(&[0xff; 8]);
    (low, high)
}

/// The index scans of a query, most selective first (a guess: names are nearly unique,
/// object types and storage classes cover most of the store). `complete` is false when some
/// filter has no index, so candidates must be checked against the records.
pub(super) struct Plan {
    pub(super) scans: Vec<IndexScan>,
    pub(super) complete: bool,
    /// Index prefixes no match may have an entry under (the excluded object types): checked
    /// by point lookups.
    pub(super) exclusions: Vec<Vec<u8>>,
}

pub(super) fn plan(query: &LocateQuery) -> Plan {
    let mut scans = Vec::new();
    let mut complete = query.cryptographic_usage_mask.is_none();
    for name in &query.names {
        scans.push(IndexScan::prefix(
            KeyBuf::index(Kind::Name).bytes(name.as_bytes()).prefix(),
        ));
    }
    for link in &query.links {
        match &link.target {
            Some(target) => scans.push(IndexScan::prefix(
                KeyBuf::index(Kind::LinkTarget)
                    .bytes(target.as_bytes())
                    .prefix(),
            )),
            None => complete = false,
        }
        // The index holds targets only; a link type is checked on the record.
        if link.link_type.is_some() {
            complete = false;
        }
    }
    for term in &query.terms {
        let key = KeyBuf::index(Kind::Term).bytes(term.attribute.as_bytes());
        match &term.value {
            Some(value) => scans.push(IndexScan::prefix(key.bytes(value).prefix())),
            None => {
                // Any value: entries continue with a 4-byte value length that is never
                // all-ones (sled keys are far shorter), so this bound is above all of them.
                let prefix = key.prefix();
                let mut high = prefix.clone();
                high.extend_from_slice(&[0xff; 13]);
                scans.push(IndexScan::range(prefix, high));
            }
        }
    }
    for group in &query.object_groups {
        scans.push(IndexScan::prefix(
            KeyBuf::index(Kind::Group).bytes(group.as_bytes()).prefix(),
        ));
    }
    for range in &query.date_ranges {
        let base = KeyBuf::index(Kind::Date).u32(range.attribute);
        let low = base.clone().i64(range.from).entry(0);
        let high = base.i64(range.to).entry(u64::MAX);
        scans.push(IndexScan::range(low, high));
    }
    if let Some(identity) = &query.visible_to {
        scans.push(IndexScan::prefix(
            KeyBuf::index(Kind::Visible)
                .bytes(identity.as_bytes())
                .prefix(),
        ));
    }
    if let Some(algorithm) = query.cryptographic_algorithm {
        scans.push(IndexScan::prefix(
            KeyBuf::index(Kind::Algorithm).u32(algorithm).prefix(),
        ));
    }
    if let Some(length) = query.cryptographic_length {
        scans.push(IndexScan::prefix(
            KeyBuf::index(Kind::Length).i32(length).prefix(),
        ));
    }
    if let Some(state) = query.state {
        scans.push(IndexScan::prefix(
            KeyBuf::index(Kind::State).u32(state).prefix(),
        ));
    }
    if let Some(object_type) = query.object_type {
        scans.push(IndexScan::prefix(
            KeyBuf::index(Kind::ObjectType).u32(object_type).prefix(),
        ));
    }
    let storage_prefixes = [
        StorageStatus::Online,
        StorageStatus::Archived,
        StorageStatus::Destroyed,
    ]
    .into_iter()
    .filter(|status| query.storage.includes(*status))
    .map(|status| {
        KeyBuf::index(Kind::Storage)
            .byte(storage_byte(Some(status)))
            .prefix()
    })
    .collect();
    scans.push(IndexScan::prefixes(storage_prefixes));
    let exclusions = query
        .excluded_object_types
        .iter()
        .map(|t| KeyBuf::index(Kind::ObjectType).u32(*t).prefix())
        .collect();
    Plan { scans, complete, exclusions }
}

/// Whether a record passes every filter of the query (offset and maximum aside).
pub(super) fn matches(record: &ObjectRecord, query: &LocateQuery) -> bool {
    let keys = &record.keys;
    let storage_ok = record
        .storage_status()
        .is_some_and(|status| query.storage.includes(status));
    storage_ok
        && query
            .visible_to
            .as_deref()
            .is_none_or(|identity| record.is_visible_to(identity))
        && query.names.iter().all(|name| keys.names.contains(name))
        && query.object_type.is_none_or(|t| keys.object_type == t)
        && !query.excluded_object_types.contains(&keys.object_type)
        && query.state.is_none_or(|s| keys.state == Some(s))
        && query
            .cryptographic_algorithm
            .is_none_or(|a| keys.cryptographic_algorithm == Some(a))
        && query
            .cryptographic_length
            .is_none_or(|l| keys.cryptographic_length == Some(l))
        && query.cryptographic_usage_mask.is_none_or(|wanted| {
            keys.cryptographic_usage_mask
                .is_some_and(|m| m & wanted == wanted)
        })
        && query
            .object_groups
            .iter()
            .all(|group| keys.object_groups.contains(group))
        && query.links.iter().all(|filter| {
            keys.links.iter().any(|link| {
                filter.link_type.is_none_or(|t| link.link_type == t)
                    && filter.target.as_deref().is_none_or(|t| link.target == t)
            })
        })
        && query.date_ranges.iter().all(|range| {
            keys.dates.iter().any(|d| {
                d.attribute == range.attribute && (range.from..=range.to).contains(&d.seconds)
            })
        })
        && query.terms.iter().all(|filter| {
            keys.terms.iter().any(|term| {
                term.attribute == filter.attribute
                    && filter.value.as_ref().is_none_or(|v| &term.value == v)
            })
        })
}
