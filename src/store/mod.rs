//! The metadata store: object records, the attribute indexes that serve Locate, ownership and
//! grants, and the start-up reconciler of DESIGN.md invariant 3.
//!
//! The store is deliberately KMIP-neutral: it never parses KMIP. The ops layer hands it an
//! opaque attribute blob (the TTLV-encoded 2.x `Attributes` structure), optional opaque object
//! material, and explicit [`IndexKeys`] extracted from the attributes; KMIP enumerations appear
//! only as `u32` values and KMIP tags as `u32` numbers.
//!
//! # Lifecycle of a record (invariant 3)
//!
//! ```text
//! create_pending ──▶ Pending ──commit──▶ Committed ──mark_destroying──▶ Destroying ──mark_destroyed──▶ Destroyed
//!                       │                    ▲                              │
//!                       └──delete (roll back) └────────cancel_destroying────┘
//! ```
//!
//! Every mutating call returns only after the change is durable on disk (group commit: one
//! `fsync` covers every caller that wrote before it started).
//!
//! ```text
//! Create/Register: uid = allocate_uid(); create_pending(NewObject { uid, hsm: Some(ref), .. })
//!                  → make the HSM object → commit(uid) → reply
//!                  (HSM failure: delete(uid) → error reply)
//! Destroy:         r = get(uid); mark_destroying(uid, r.revision, DestroyedForm { .. })
//!                  → destroy the HSM object → mark_destroyed(uid) → reply
//!                  (HSM failure: cancel_destroying(uid) → error reply)
//! Attribute ops:   r = get(uid); update(uid, r.revision, attributes, keys); on Conflict, retry
//! Start-up:        reconcile(&store, &hsm_inventory) → log the report
//! ```
//!
//! # Locate
//!
//! A [`LocateQuery`] holds the filters in store terms; all given filters must match (AND).
//! The first index in a fixed order of likely selectivity (names, link targets, terms, groups,
//! dates, owner/grantee, algorithm, length, state, object type, storage status) drives the
//! search, streamed newest first; every other filter is checked with an index point lookup,
//! or on the record when no index can answer (usage mask, link type, date ranges not driving,
//! the caller's `refine` predicate). With `maximum` set and `count_total` unset, the search
//! stops when the page is full.
//!
//! # Threading
//!
//! [`Store`] is synchronous. Mutations block on `fsync` (milliseconds) and must be called from
//! blocking threads (`tokio::task::spawn_blocking`, or the blocking task that also makes the
//! PKCS#11 call). Reads (`get`, `locate`, `grants_for`) are served from sled's page cache and
//! usually take microseconds, but can still touch the disk: call them from blocking threads too.

mod group_commit;
mod keys;
mod locate;
mod reconcile;
mod sled_store;

pub use reconcile::{reconcile, HsmInventory, ReconcileError, ReconcileFailure, ReconcileReport};
pub use sled_store::{IndexReport, SledStore, SledStoreConfig};

use serde::{Deserialize, Serialize};

/// Where a record is in the two-phase protocol that keeps the store and the HSM consistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lifecycle {
    /// Written (and flushed) before the HSM object is created; never visible to Locate.
    Pending,
    /// The HSM object (if any) exists and the creation was acknowledged.
    Committed,
    /// Written (and flushed) before the HSM object is destroyed.
    Destroying,
    /// The HSM object is gone; the metadata stays, as KMIP requires.
    Destroyed,
}

/// Reference to the HSM object that holds a record's key material. Opaque to the store: the
/// HSM layer chooses what `kind` and `id` mean and lists its objects in the same terms
/// ([`HsmInventory`]). kmipd's HSM layer uses the PKCS#11 object class and the id it derives
/// the `CKA_ID` from (the UID's bytes): see `hsm::inventory`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HsmRef {
    /// HSM-layer object kind, e.g. a PKCS#11 `CKO_*` class.
    pub kind: u32,
    /// The HSM layer's identifier of the object (kmipd: the caller id the `CKA_ID` is derived from).
    pub id: Vec<u8>,
}

/// One link of an object to another (KMIP Link attribute).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkKey {
    /// KMIP Link Type enumeration value.
    pub link_type: u32,
    /// Unique Identifier of the linked object.
    pub target: String,
}

/// One date-valued attribute of an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateKey {
    /// KMIP tag number of the date attribute (e.g. Activation Date, `0x420001`-style).
    pub attribute: u32,
    /// Seconds since the Unix epoch, as in a KMIP Date-Time.
    pub seconds: i64,
}

/// An exact-match attribute that has no field of its own in [`IndexKeys`]: custom (`x-`/`y-`),
/// vendor attributes, Contact Information, Fresh, and so on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermKey {
    /// The attribute's name, as the ops layer spells it (e.g. `x-Product`).
    pub attribute: String,
    /// The attribute's value in a canonical encoding chosen by the ops layer (e.g. its TTLV
    /// bytes); compared byte for byte.
    pub value: Vec<u8>,
}

/// The values Locate can search on, extracted from the attributes by the ops layer.
///
/// Each field is indexed; multi-valued fields produce one index entry per value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexKeys {
    /// KMIP Object Type enumeration value.
    pub object_type: u32,
    /// KMIP State enumeration value, for objects that have one.
    pub state: Option<u32>,
    /// Name values (the Name attribute's text; the name type is not indexed).
    pub names: Vec<String>,
    /// KMIP Cryptographic Algorithm enumeration value.
    pub cryptographic_algorithm: Option<u32>,
    /// Cryptographic Length in bits.
    pub cryptographic_length: Option<i32>,
    /// Cryptographic Usage Mask; matched with mask semantics (all requested bits set), not indexed.
    pub cryptographic_usage_mask: Option<u32>,
    /// Object Group values.
    pub object_groups: Vec<String>,
    /// Links to other objects.
    pub links: Vec<LinkKey>,
    /// Date attributes (Initial, Activation, Deactivation, Destroy, Compromise, ...).
    pub dates: Vec<DateKey>,
    /// Every other exact-match attribute the ops layer wants Locate to find.
    pub terms: Vec<TermKey>,
}

/// Operations one identity may perform on another identity's object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The grantee's identity, as the server derives it from the client certificate.
    pub identity: String,
    /// KMIP Operation enumeration values, sorted and without duplicates.
    pub operations: Vec<u32>,
}

/// What the ops layer supplies to create a record.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NewObject {
    /// Unique Identifier, usually from [`Store::allocate_uid`].
    pub uid: String,
    /// Identity of the creating client.
    pub owner: String,
    /// The HSM object this record will own, if the material lives in the HSM.
    pub hsm: Option<HsmRef>,
    /// Opaque attribute blob (TTLV-encoded Attributes structure).
    pub attributes: Vec<u8>,
    /// Opaque material kept in the store (public keys, certificates, envelope-encrypted data).
    pub material: Option<Vec<u8>>,
    /// Values Locate searches on.
    pub keys: IndexKeys,
    /// Other identities' rights, from the start.
    pub grants: Vec<Grant>,
}

impl std::fmt::Debug for NewObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewObject")
            .field("uid", &self.uid)
            .field("owner", &self.owner)
            .field("hsm", &self.hsm)
            .field("attributes_len", &self.attributes.len())
            .field("material_len", &self.material.as_ref().map(Vec::len))
            .field("keys", &self.keys)
            .field("grants", &self.grants)
            .finish()
    }
}

/// A stored object.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecord {
    /// Unique Identifier.
    pub uid: String,
    /// Creation order: strictly increasing across the store's life; Locate returns newest first.
    pub created_seq: u64,
    /// Incremented by every change; [`Store::update`] checks it to catch lost updates.
    pub revision: u64,
    /// Identity of the owner.
    pub owner: String,
    /// Where the record is in the create/destroy protocol.
    pub lifecycle: Lifecycle,
    /// True once the object was archived (KMIP Archive) and not yet recovered.
    pub archived: bool,
    /// The HSM object holding the material, if any.
    pub hsm: Option<HsmRef>,
    /// Opaque attribute blob (TTLV-encoded Attributes structure).
    pub attributes: Vec<u8>,
    /// Opaque material kept in the store; dropped when the object is destroyed.
    pub material: Option<Vec<u8>>,
    /// Values Locate searches on.
    pub keys: IndexKeys,
    /// Other identities' rights, sorted by identity.
    pub grants: Vec<Grant>,
    /// While Destroying: what the record becomes once Destroyed.
    pub destroyed_form: Option<DestroyedForm>,
}

/// The attributes and index keys a record takes when its destruction completes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestroyedForm {
    /// Attribute blob after destruction.
    pub attributes: Vec<u8>,
    /// Index keys after destruction.
    pub keys: IndexKeys,
}

impl std::fmt::Debug for ObjectRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectRecord")
            .field("uid", &self.uid)
            .field("created_seq", &self.created_seq)
            .field("revision", &self.revision)
            .field("owner", &self.owner)
            .field("lifecycle", &self.lifecycle)
            .field("archived", &self.archived)
            .field("hsm", &self.hsm)
            .field("attributes_len", &self.attributes.len())
            .field("material_len", &self.material.as_ref().map(Vec::len))
            .field("keys", &self.keys)
            .field("grants", &self.grants)
            .field("destroyed_form", &self.destroyed_form)
            .finish()
    }
}

impl ObjectRecord {
    /// The storage status Locate's Storage Status Mask selects on; `None` for pending records,
    /// which no Locate may return.
    pub fn storage_status(&self) -> Option<StorageStatus> {
        match self.lifecycle {
            Lifecycle::Pending => None,
            Lifecycle::Committed if self.archived => Some(StorageStatus::Archived),
            Lifecycle::Committed => Some(StorageStatus::Online),
            Lifecycle::Destroying | Lifecycle::Destroyed => Some(StorageStatus::Destroyed),
        }
    }

    /// Whether `identity` owns the object or holds any grant on it.
    pub fn is_visible_to(&self, identity: &str) -> bool {
        self.owner == identity || self.grants.iter().any(|g| g.identity == identity)
    }

    /// Whether `identity` owns the object or was granted `operation` (a KMIP Operation value).
    pub fn permits(&self, identity: &str, operation: u32) -> bool {
        self.owner == identity
            || self
                .grants
                .iter()
                .any(|g| g.identity == identity && g.operations.binary_search(&operation).is_ok())
    }
}

/// Where a committed object lives, as KMIP's Storage Status Mask distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageStatus {
    /// Neither archived nor destroyed.
    Online,
    /// Archived (KMIP Archive).
    Archived,
    /// Destroyed or being destroyed; metadata only.
    Destroyed,
}

/// Which storage statuses a Locate searches (KMIP Storage Status Mask). The default is
/// on-line only, as the spec requires when the mask is omitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageMask {
    /// Include on-line objects.
    pub online: bool,
    /// Include archived objects.
    pub archived: bool,
    /// Include destroyed objects.
    pub destroyed: bool,
}

impl Default for StorageMask {
    fn default() -> Self {
        Self {
            online: true,
            archived: false,
            destroyed: false,
        }
    }
}

impl StorageMask {
    /// Whether objects of `status` are searched.
    pub fn includes(&self, status: StorageStatus) -> bool {
        match status {
            StorageStatus::Online => self.online,
            StorageStatus::Archived => self.archived,
            StorageStatus::Destroyed => self.destroyed,
        }
    }
}

/// A Link filter: either field may be omitted (KMIP matches structure fields given).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkFilter {
    /// Required Link Type, if any.
    pub link_type: Option<u32>,
    /// Required linked Unique Identifier, if any.
    pub target: Option<String>,
}

/// A date filter: the object's `attribute` must lie in `from..=to` (a single KMIP date is
/// `from == to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateRange {
    /// KMIP tag number of the date attribute.
    pub attribute: u32,
    /// Earliest accepted value, seconds since the epoch.
    pub from: i64,
    /// Latest accepted value, inclusive.
    pub to: i64,
}

/// A filter on a [`TermKey`]: the attribute must be present, and equal `value` if given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermFilter {
    /// Attribute name.
    pub attribute: String,
    /// Required canonical value, if any.
    pub value: Option<Vec<u8>>,
}

/// A Locate request in store terms. Every filter given must match (AND); empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocateQuery {
    /// Storage statuses searched.
    pub storage: StorageMask,
    /// Only objects this identity owns or holds a grant on; `None` for admins.
    pub visible_to: Option<String>,
    /// Every name must be one of the object's names.
    pub names: Vec<String>,
    /// Object Type.
    pub object_type: Option<u32>,
    /// Object Types never found (those the client's protocol version does not define).
    pub excluded_object_types: Vec<u32>,
    /// State.
    pub state: Option<u32>,
    /// Cryptographic Algorithm.
    pub cryptographic_algorithm: Option<u32>,
    /// Cryptographic Length.
    pub cryptographic_length: Option<i32>,
    /// Every bit set here must be set in the object's Cryptographic Usage Mask.
    pub cryptographic_usage_mask: Option<u32>,
    /// Every group must be one of the object's groups.
    pub object_groups: Vec<String>,
    /// Every filter must match one of the object's links.
    pub links: Vec<LinkFilter>,
    /// Every range must contain the object's value of that date attribute.
    pub date_ranges: Vec<DateRange>,
    /// Every term filter must match one of the object's terms.
    pub terms: Vec<TermFilter>,
    /// Matches to skip (KMIP Offset Items).
    pub offset: usize,
    /// Matches to return at most (KMIP Maximum Items); `None` returns all.
    pub maximum: Option<usize>,
    /// Count every match (KMIP Located Items) even past `offset + maximum`; without it the
    /// search stops once the page is full, which keeps broad searches cheap.
    pub count_total: bool,
}

/// Result of a Locate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Located {
    /// The page of matching UIDs, newest object first.
    pub uids: Vec<String>,
    /// How many objects matched in all (KMIP Located Items), before offset and maximum;
    /// `None` when the search stopped early (see [`LocateQuery::count_total`]).
    pub matched: Option<usize>,
}

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No record has this UID.
    #[error("no object with unique identifier {0:?}")]
    NotFound(String),
    /// `create_pending` was given a UID that already has a record.
    #[error("an object with unique identifier {0:?} already exists")]
    AlreadyExists(String),
    /// `create_pending` was given an HSM object that a live record already owns (HSMs
    /// accept duplicate `CKA_ID`s; uniqueness is kmipd's job).
    #[error("object {uid:?} refers to the HSM object of {owner:?}")]
    HsmObjectClaimed {
        /// The UID being created.
        uid: String,
        /// The UID of the record owning the HSM object.
        owner: String,
    },
    /// The call is not allowed in the record's current lifecycle.
    #[error("object {uid:?} is {actual:?}; this change needs it {expected}")]
    WrongLifecycle {
        /// The record's UID.
        uid: String,
        /// Its current lifecycle.
        actual: Lifecycle,
        /// The lifecycle(s) the call needs, in words.
        expected: &'static str,
    },
    /// Another writer changed the record since the caller read it; re-read and retry.
    #[error("object {uid:?} changed concurrently (expected revision {expected}, found {actual})")]
    Conflict {
        /// The record's UID.
        uid: String,
        /// The revision the caller read.
        expected: u64,
        /// The revision now stored.
        actual: u64,
    },
    /// The underlying database failed (I/O, corruption detected by sled).
    #[error("database error: {0}")]
    Database(#[from] ::sled::Error),
    /// A stored value could not be decoded: the database holds data this version can't read.
    #[error("stored data is corrupt or of an unknown format: {0}")]
    Corrupt(String),
    /// A record could not be encoded.
    #[error("cannot encode record: {0}")]
    Encode(#[from] postcard::Error),
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// The metadata store. See the module documentation for lifecycle and threading rules.
pub trait Store: Send + Sync {
    /// Allocate a fresh Unique Identifier. Identifiers are decimal numbers that increase
    /// monotonically and are never handed out twice, across restarts and crashes included
    /// (they are not contiguous).
    fn allocate_uid(&self) -> StoreResult<String>;

    /// Write a [`Lifecycle::Pending`] record; durable when this returns. Fails with
    /// [`StoreError::AlreadyExists`] if the UID has a record, and with
    /// [`StoreError::HsmObjectClaimed`] if a live record owns the same HSM object.
    fn create_pending(&self, object: NewObject) -> StoreResult<ObjectRecord>;

    /// Pending → Committed, durably.
    fn commit(&self, uid: &str) -> StoreResult<ObjectRecord>;

    /// Replace the attribute blob and index keys of a Committed or Destroyed record, atomically
    /// with its index entries. `expected_revision` is the revision the caller read; a mismatch
    /// answers [`StoreError::Conflict`].
    fn update(
        &self,
        uid: &str,
        expected_revision: u64,
        attributes: Vec<u8>,
        keys: IndexKeys,
    ) -> StoreResult<ObjectRecord>;

    /// [`Store::update`], also replacing the object's grants in the same write (the ops layer
    /// keeps them in step with an attribute, so both must change together).
    fn update_with_grants(
        &self,
        uid: &str,
        expected_revision: u64,
        attributes: Vec<u8>,
        keys: IndexKeys,
        grants: Vec<Grant>,
    ) -> StoreResult<ObjectRecord>;

    /// Set or clear the archived flag of a Committed record (KMIP Archive and Recover).
    fn set_archived(&self, uid: &str, archived: bool) -> StoreResult<ObjectRecord>;

    /// Committed → Destroying, durably, before the HSM object is destroyed. `destroyed` is what
    /// the attributes and keys become once the destruction is done (State, Destroy Date), kept
    /// in the record so that the reconciler can finish the job without knowing KMIP.
    /// `expected_revision` is checked as in [`Store::update`].
    fn mark_destroying(
        &self,
        uid: &str,
        expected_revision: u64,
        destroyed: DestroyedForm,
    ) -> StoreResult<ObjectRecord>;

    /// Destroying → Committed, when destroying the HSM object failed and the object lives on.
    fn cancel_destroying(&self, uid: &str) -> StoreResult<ObjectRecord>;

    /// Destroying → Destroyed: applies the [`DestroyedForm`] given to `mark_destroying` and
    /// drops the stored material.
    fn mark_destroyed(&self, uid: &str) -> StoreResult<ObjectRecord>;

    /// The record with this UID, if any (in any lifecycle).
    fn get(&self, uid: &str) -> StoreResult<Option<ObjectRecord>>;

    /// Remove a record and all its index entries (rolling back a failed create). Answers
    /// [`StoreError::NotFound`] if there is none.
    fn delete(&self, uid: &str) -> StoreResult<()>;

    /// Find objects matching every filter of `query`; see [`Store::locate_refined`].
    fn locate(&self, query: &LocateQuery) -> StoreResult<Located> {
        self.locate_refined(query, None)
    }

    /// Find objects matching every filter of `query` and, if given, the `refine` predicate
    /// (for filters the store does not model, such as Usage Limits). Candidates come from the
    /// indexes; the result is in descending creation order (newest first), then `offset` and
    /// `maximum` are applied. Pending records are never returned. The cost is proportional to
    /// the candidates examined: a selective filter (a name) answers in microseconds at any
    /// store size; a broad one stops after `offset + maximum` matches unless
    /// `count_total` is set.
    fn locate_refined(
        &self,
        query: &LocateQuery,
        refine: Option<&dyn Fn(&ObjectRecord) -> bool>,
    ) -> StoreResult<Located>;

    /// Records in [`Lifecycle::Pending`] or [`Lifecycle::Destroying`], oldest first; served by
    /// an index, so start-up does not read every record.
    fn list_incomplete(&self) -> StoreResult<Vec<ObjectRecord>>;

    /// UID of the live (not yet Destroyed) record that owns this HSM object, if any.
    fn uid_for_hsm_object(&self, hsm: &HsmRef) -> StoreResult<Option<String>>;

    /// Every HSM object a live record owns, with the owner's UID: one index scan (about a
    /// microsecond an entry), no record read. For the reconciler and the HSM handle map.
    fn hsm_claims(&self) -> StoreResult<std::collections::BTreeMap<HsmRef, String>>;

    /// Give `identity` the right to perform `operations` (KMIP Operation values) on the
    /// object, adding to any rights it already has.
    fn grant(&self, uid: &str, identity: &str, operations: &[u32]) -> StoreResult<ObjectRecord>;

    /// Take `operations` away from `identity`; an empty slice takes every right away.
    fn revoke_grant(
        &self,
        uid: &str,
        identity: &str,
        operations: &[u32],
    ) -> StoreResult<ObjectRecord>;

    /// The grants on an object, sorted by identity.
    fn grants_for(&self, uid: &str) -> StoreResult<Vec<Grant>>;
}
