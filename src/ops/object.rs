//! What every object operation shares: loading a managed object with its attributes and the
//! caller's rights, the attribute rules of KMIP 1.4 §3 / 2.1 §4 (who may set, change and
//! delete what; single- or multi-valued), the state machine's dates, and writing an
//! object back with the index keys Locate searches.
//!
//! # How attributes are kept
//!
//! The store holds an opaque blob per object; here it is the TTLV encoding of a 2.x
//! `Attributes` structure with every attribute kmipd knows about the object, custom
//! attributes in their 2.x Vendor Attribute form (`x-Name` is vendor `x`, name `Name`), so
//! that a 1.x and a 2.x client see the same object. What a response may carry is filtered per
//! protocol version on the way out ([`AttributeSet::for_version`]).
//!
//! # Who may do what
//!
//! The owner (the identity that created or registered the object), identities it was
//! granted to, and admin identities. Everyone else gets Permission Denied (DESIGN.md
//! invariant 7); a stranger can't tell a foreign object from a missing one only by the
//! reason, which is fine: the UID space is not secret.

use crate::hsm::{Hsm, ObjectKind};
use crate::kmip::attributes::{Attribute, Attributes, IndexedAttribute};
use crate::kmip::codec::{DateTime, FromTtlv, Path, ToTtlv};
use crate::kmip::enums::{ObjectType, Operation, State};
use crate::kmip::objects::{Link, UniqueIdentifier};
use crate::kmip::KmipEnum;
use crate::store::{self, DateKey, IndexKeys, Lifecycle, LinkKey, ObjectRecord, Store, TermKey};
use crate::ttlv::binary::{self, DecodeLimits};
use crate::ttlv::registry::Version;
use crate::ttlv::Tag;

use super::{OpContext, OpError};

/// The HSM and the store, both present.
pub(super) struct Services<'a> {
    pub hsm: &'a dyn Hsm,
    pub store: &'a dyn Store,
}

/// The services of `cx`, or Operation Not Supported on a protocol-only processor.
pub(super) fn services<'a>(cx: &OpContext<'a>, operation: Operation) -> Result<Services<'a>, OpError> {
    match (cx.backend.hsm(), cx.backend.store()) {
        (Some(hsm), Some(store)) => Ok(Services { hsm, store }),
        _ => Err(OpError::OperationNotSupported { operation, detail: ": this server has no HSM or store" }),
    }
}

/// The current time as a KMIP Date-Time (whole seconds).
pub(super) fn now() -> DateTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    DateTime(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// How an attribute's identity is compared: standard attributes by tag, custom and vendor
/// ones by vendor and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AttrId {
    Standard(Tag),
    Vendor(String, String),
}

impl AttrId {
    pub fn of(attribute: &Attribute) -> AttrId {
        match attribute {
            Attribute::Custom(c) => {
                let v = c.to_vendor_form();
                AttrId::Vendor(v.vendor_identification.unwrap_or_default(), v.attribute_name)
            }
            other => AttrId::Standard(other.tag().unwrap_or(Tag::ATTRIBUTE)),
        }
    }

    /// The 1.x Attribute Name form (`Cryptographic Length`, `x-Product`): `None` for a name
    /// that is neither a standard attribute nor custom.
    pub fn from_name(name: &str) -> Option<AttrId> {
        if crate::kmip::attributes::is_custom_name(name) {
            let (vendor, rest) = name.split_once('-')?;
            return Some(AttrId::Vendor(vendor.to_owned(), rest.to_owned()));
        }
        let tag = crate::ttlv::registry::tag_by_name(name).map(|t| Tag(t.tag))?;
        Attribute::is_standard_tag(tag).then_some(AttrId::Standard(tag))
    }

    /// The name used in error messages and 1.x attribute lists.
    pub fn name(&self) -> String {
        match self {
            AttrId::Standard(tag) => crate::ttlv::registry::tag_info(*tag)
                .map(|t| t.name.to_owned())
                .unwrap_or_else(|| format!("{tag}")),
            AttrId::Vendor(vendor, name) => match vendor.as_str() {
                "x" | "y" => format!("{vendor}-{name}"),
                other => format!("x-{other}-{name}"),
            },
        }
    }

    fn tag(&self) -> Option<Tag> {
        match self {
            AttrId::Standard(t) => Some(*t),
            AttrId::Vendor(..) => None,
        }
    }
}

/// Who may touch an attribute, from the attribute tables of KMIP 1.4 §3 and 2.1 §4.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rule {
    /// More than one instance allowed.
    pub multi: bool,
    /// A client may give it when creating or registering the object, or add it later.
    pub client_sets: bool,
    /// A client may change an existing value.
    pub client_modifies: bool,
    /// A client may delete it.
    pub client_deletes: bool,
}

/// The rule for an attribute.
pub(super) fn rule(id: &AttrId) -> Rule {
    const fn r(multi: bool, client_sets: bool, client_modifies: bool, client_deletes: bool) -> Rule {
        Rule { multi, client_sets, client_modifies, client_deletes }
    }
    let Some(tag) = id.tag() else {
        return r(true, true, true, true);
    };
    match tag {
        Tag::NAME | Tag::OBJECT_GROUP | Tag::LINK | Tag::APPLICATION_SPECIFIC_INFORMATION | Tag::ALTERNATIVE_NAME
        | Tag::KEY_VALUE_LOCATION => r(true, true, true, true),
        Tag::CRYPTOGRAPHIC_PARAMETERS => r(false, true, true, true),
        Tag::CONTACT_INFORMATION | Tag::DESCRIPTION | Tag::COMMENT | Tag::PKCS_12_FRIENDLY_NAME
        | Tag::USAGE_LIMITS => r(false, true, true, true),
        Tag::ACTIVATION_DATE | Tag::PROCESS_START_DATE | Tag::PROTECT_STOP_DATE | Tag::DEACTIVATION_DATE
        | Tag::SENSITIVE | Tag::EXTRACTABLE | Tag::ROTATE_AUTOMATIC | Tag::ROTATE_INTERVAL | Tag::ROTATE_NAME
        | Tag::ROTATE_OFFSET => r(false, true, true, false),
        // Certificate Type: clients repeat the type of the certificate they register.
        Tag::CRYPTOGRAPHIC_ALGORITHM | Tag::CRYPTOGRAPHIC_LENGTH | Tag::CRYPTOGRAPHIC_DOMAIN_PARAMETERS
        | Tag::CERTIFICATE_TYPE
        | Tag::CRYPTOGRAPHIC_USAGE_MASK | Tag::OPERATION_POLICY_NAME | Tag::FRESH | Tag::ORIGINAL_CREATION_DATE
        | Tag::RANDOM_NUMBER_GENERATOR | Tag::PROTECTION_LEVEL | Tag::PROTECTION_PERIOD
        | Tag::PROTECTION_STORAGE_MASK | Tag::QUANTUM_SAFE | Tag::NIST_KEY_TYPE | Tag::OPAQUE_DATA_TYPE => {
            r(false, true, false, false)
        }
        Tag::DIGEST => r(true, false, false, false),
        // Everything else is the server's: identifiers, type, state, the lifecycle dates it
        // sets, certificate facts, revocation, Key Value Present/Location facts.
        _ => r(false, false, false, false),
    }
}

/// An object's attributes, custom ones in vendor form.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct AttributeSet {
    list: Vec<Attribute>,
}

impl AttributeSet {
    /// Normalizes custom attributes to their vendor form.
    pub fn new(list: impl IntoIterator<Item = Attribute>) -> AttributeSet {
        let mut set = AttributeSet::default();
        for a in list {
            set.list.push(normalize(a));
        }
        set
    }

    /// Decodes a stored blob.
    pub fn decode(blob: &[u8]) -> Result<AttributeSet, OpError> {
        let item = binary::decode(blob, &DecodeLimits::default())
            .map_err(|e| OpError::Internal(format!("stored attributes unreadable: {e}")))?;
        let attributes = Attributes::from_ttlv_item(&item, &Path::root(Tag::ATTRIBUTES))
            .map_err(|e| OpError::Internal(format!("stored attributes unreadable: {e}")))?;
        Ok(AttributeSet { list: attributes.attributes })
    }

    /// The blob to store.
    pub fn encode(&self) -> Result<Vec<u8>, OpError> {
        let item = Attributes { attributes: self.list.clone() }.to_ttlv_item(Tag::ATTRIBUTES);
        binary::encode(&item).map_err(|e| OpError::Internal(format!("attributes not encodable: {e}")))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Attribute> {
        self.list.iter()
    }

    /// Every instance of the attribute `id`, in order.
    pub fn all<'s>(&'s self, id: &'s AttrId) -> impl Iterator<Item = &'s Attribute> + 's {
        self.list.iter().filter(move |a| AttrId::of(a) == *id)
    }

    /// The first instance of the standard attribute `tag`.
    pub fn get(&self, tag: Tag) -> Option<&Attribute> {
        self.list.iter().find(|a| a.tag() == Some(tag))
    }

    /// Replaces every instance of the attribute with this one (or adds it).
    pub fn set(&mut self, attribute: Attribute) {
        let attribute = normalize(attribute);
        let id = AttrId::of(&attribute);
        match self.list.iter().position(|a| AttrId::of(a) == id) {
            Some(i) => {
                if let Some(slot) = self.list.get_mut(i) {
                    *slot = attribute;
                }
                let mut seen = false;
                self.list.retain(|a| {
                    if AttrId::of(a) != id {
                        return true;
                    }
                    let keep = !seen;
                    seen = true;
                    keep
                });
            }
            None => self.list.push(attribute),
        }
    }

    /// Adds one more instance.
    pub fn push(&mut self, attribute: Attribute) {
        self.list.push(normalize(attribute));
    }

    /// Lays `top` over these attributes: a single-valued attribute of `top` replaces every
    /// instance here, a multi-valued one is added unless this exact value is here already.
    /// `top`'s own instances are all kept (so that a duplicate in it can still be refused).
    pub fn overlay(&mut self, top: &AttributeSet) {
        self.list.retain(|a| {
            let id = AttrId::of(a);
            rule(&id).multi || !top.list.iter().any(|t| AttrId::of(t) == id)
        });
        let added: Vec<Attribute> =
            top.list.iter().filter(|a| !(rule(&AttrId::of(a)).multi && self.list.contains(a))).cloned().collect();
        self.list.extend(added);
    }

    /// Removes the `index`th instance of `id`; whether there was one.
    pub fn remove_instance(&mut self, id: &AttrId, index: usize) -> Option<Attribute> {
        let pos = self.list.iter().enumerate().filter(|(_, a)| AttrId::of(a) == *id).nth(index).map(|(i, _)| i)?;
        Some(self.list.remove(pos))
    }

    /// Replaces the `index`th instance of `id`.
    pub fn replace_instance(&mut self, id: &AttrId, index: usize, attribute: Attribute) -> bool {
        let attribute = normalize(attribute);
        match self.list.iter_mut().filter(|a| AttrId::of(a) == *id).nth(index) {
            Some(slot) => {
                *slot = attribute;
                true
            }
            None => false,
        }
    }

    pub fn state(&self) -> Option<State> {
        match self.get(Tag::STATE) {
            Some(Attribute::State(s)) => Some(*s),
            _ => None,
        }
    }

    pub fn object_type(&self) -> Option<ObjectType> {
        match self.get(Tag::OBJECT_TYPE) {
            Some(Attribute::ObjectType(t)) => Some(*t),
            _ => None,
        }
    }

    pub fn date(&self, tag: Tag) -> Option<i64> {
        self.get(tag).and_then(date_value)
    }

    pub fn usage_mask(&self) -> Option<i32> {
        match self.get(Tag::CRYPTOGRAPHIC_USAGE_MASK) {
            Some(Attribute::CryptographicUsageMask(m)) => Some(*m),
            _ => None,
        }
    }

    pub fn flag(&self, tag: Tag) -> Option<bool> {
        match self.get(tag) {
            Some(Attribute::Sensitive(b) | Attribute::Extractable(b) | Attribute::Fresh(b)) => Some(*b),
            Some(Attribute::AlwaysSensitive(b) | Attribute::NeverExtractable(b) | Attribute::QuantumSafe(b)) => Some(*b),
            _ => None,
        }
    }

    /// Names, as text.
    pub fn names(&self) -> Vec<String> {
        self.list
            .iter()
            .filter_map(|a| match a {
                Attribute::Name(n) => Some(n.name_value.clone()),
                _ => None,
            })
            .collect()
    }

    /// The attributes a peer speaking `version` may receive, in its form (1.x custom names
    /// or 2.x vendor attributes).
    pub fn for_version(&self, version: Version) -> Vec<Attribute> {
        self.list
            .iter()
            .map(|a| match a {
                Attribute::Custom(c) if version.major < 2 => Attribute::Custom(c.to_custom_form()),
                // KMIP 1.0's Digest has no Key Format Type (1.1 added it).
                Attribute::Digest(d) if version == Version::new(1, 0) => {
                    Attribute::Digest(crate::kmip::objects::Digest { key_format_type: None, ..d.clone() })
                }
                other => other.clone(),
            })
            .filter(|a| a.exists_in(version))
            .collect()
    }

    /// What Locate searches on.
    pub fn index_keys(&self) -> IndexKeys {
        let mut keys = IndexKeys::default();
        for a in &self.list {
            match a {
                Attribute::ObjectType(t) => keys.object_type = t.to_u32(),
                Attribute::State(s) => keys.state = Some(s.to_u32()),
                Attribute::Name(n) => keys.names.push(n.name_value.clone()),
                Attribute::CryptographicAlgorithm(alg) => keys.cryptographic_algorithm = Some(alg.to_u32()),
                Attribute::CryptographicLength(l) => keys.cryptographic_length = Some(*l),
                Attribute::CryptographicUsageMask(m) => keys.cryptographic_usage_mask = Some(*m as u32),
                Attribute::ObjectGroup(g) => keys.object_groups.push(g.clone()),
                Attribute::Link(l) => {
                    if let UniqueIdentifier::Text(target) = &l.linked_object_identifier {
                        keys.links.push(LinkKey { link_type: l.link_type.to_u32(), target: target.clone() });
                    }
                }
                other => {
                    if let (Some(tag), Some(seconds)) = (other.tag(), date_value(other)) {
                        keys.dates.push(DateKey { attribute: tag.0, seconds });
                    } else if !matches!(other, Attribute::UniqueIdentifier(_) | Attribute::Digest(_)) {
                        keys.terms.push(term_key(other));
                    }
                }
            }
        }
        keys
    }
}

/// The value of a date-valued attribute.
pub(super) fn date_value(attribute: &Attribute) -> Option<i64> {
    match attribute {
        Attribute::InitialDate(d)
        | Attribute::ActivationDate(d)
        | Attribute::ProcessStartDate(d)
        | Attribute::ProtectStopDate(d)
        | Attribute::DeactivationDate(d)
        | Attribute::DestroyDate(d)
        | Attribute::CompromiseOccurrenceDate(d)
        | Attribute::CompromiseDate(d)
        | Attribute::ArchiveDate(d)
        | Attribute::LastChangeDate(d)
        | Attribute::OriginalCreationDate(d) => Some(d.0),
        _ => None,
    }
}

/// The exact-match index entry of an attribute: its name and its 2.x TTLV encoding.
pub(super) fn term_key(attribute: &Attribute) -> TermKey {
    let attribute = normalize(attribute.clone());
    let value = binary::encode(&attribute.to_ttlv_v2()).unwrap_or_default();
    TermKey { attribute: AttrId::of(&attribute).name(), value }
}

fn normalize(attribute: Attribute) -> Attribute {
    match attribute {
        Attribute::Custom(c) => Attribute::Custom(c.to_vendor_form()),
        other => other,
    }
}

/// A managed object as an operation sees it.
pub(super) struct Managed {
    pub record: ObjectRecord,
    pub attributes: AttributeSet,
}

impl Managed {
    pub fn uid(&self) -> &str {
        &self.record.uid
    }

    pub fn state(&self) -> Option<State> {
        self.attributes.state()
    }

    pub fn object_type(&self) -> Option<ObjectType> {
        self.attributes.object_type()
    }

    /// Fails unless the object is on line: not destroyed, not archived.
    pub fn require_online(&self) -> Result<(), OpError> {
        match self.record.lifecycle {
            Lifecycle::Destroying | Lifecycle::Destroyed => Err(OpError::ObjectDestroyed(self.uid().to_owned())),
            _ if self.record.archived => Err(OpError::ObjectArchived(self.uid().to_owned())),
            _ => Ok(()),
        }
    }

    /// Stamps Last Change Date and writes the attributes back; retried by the caller on a
    /// concurrent change.
    pub fn save(&mut self, store: &dyn Store) -> Result<(), OpError> {
        self.attributes.set(Attribute::LastChangeDate(now()));
        let blob = self.attributes.encode()?;
        let grants = super::grants::grants_of(&self.attributes)?;
        self.record =
            store.update_with_grants(&self.record.uid, self.record.revision, blob, self.attributes.index_keys(), grants)?;
        Ok(())
    }
}

/// The operations a Template can be the subject of (KMIP 1.0–1.4 §2.2.6, and Archive and
/// Recover: Archive Date applies to templates). Others answer Illegal Operation; Create,
/// Register and the like use a template through [`requested_attributes`].
const TEMPLATE_OPERATIONS: &[Operation] = &[
    Operation::Get,
    Operation::GetAttributes,
    Operation::GetAttributeList,
    Operation::AddAttribute,
    Operation::ModifyAttribute,
    Operation::DeleteAttribute,
    Operation::Destroy,
    Operation::Archive,
    Operation::Recover,
];

/// Loads `uid` for `operation`, checking that the caller may perform it. An object whose
/// type the request's version does not define (a Template, for a 2.x client) is not found.
pub(super) fn load(cx: &OpContext<'_>, store: &dyn Store, uid: &str, operation: Operation) -> Result<Managed, OpError> {
    let record = match store.get(uid)? {
        Some(r) if r.lifecycle != Lifecycle::Pending && type_in_version(r.keys.object_type, cx.version()) => r,
        _ => return Err(OpError::ObjectNotFound(uid.to_owned())),
    };
    cx.note_object(&record.keys);
    let m = permitted(cx, record, operation)?;
    if m.object_type() == Some(ObjectType::Template) && !TEMPLATE_OPERATIONS.contains(&operation) {
        return Err(OpError::IllegalOperation(format!("{operation:?} does not apply to a Template ({uid:?})")));
    }
    Ok(m)
}

/// `record` with its attributes, when the caller may perform `operation` on it.
fn permitted(cx: &OpContext<'_>, record: ObjectRecord, operation: Operation) -> Result<Managed, OpError> {
    if !cx.request.is_admin && !record.permits(&cx.request.client_identity, operation.to_u32()) {
        return Err(OpError::PermissionDenied(format!("{operation:?} on object {:?}", record.uid)));
    }
    let attributes = AttributeSet::decode(&record.attributes)?;
    Ok(Managed { record, attributes })
}

/// Whether protocol `version` defines this Object Type value.
pub(super) fn type_in_version(object_type: u32, version: Version) -> bool {
    super::version::enum_value_in_version(Tag::OBJECT_TYPE, object_type, version)
}

/// Runs `change` on a freshly loaded object and saves it, retrying when another request
/// changed the object in between (the store's revision check). Returns `change`'s result and
/// the action that puts the attributes back as they were (for an Undo batch).
pub(super) fn modify<T>(
    cx: &OpContext<'_>,
    store: &dyn Store,
    uid: &str,
    operation: Operation,
    mut change: impl FnMut(&mut Managed) -> Result<T, OpError>,
) -> Result<(T, super::UndoAction), OpError> {
    const ATTEMPTS: usize = 5;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let mut managed = load(cx, store, uid, operation)?;
        let before = managed.attributes.clone();
        let out = change(&mut managed)?;
        super::grants::authorize_change(cx, &managed.record, &before, &managed.attributes)?;
        match managed.save(store) {
            Ok(()) => return Ok((out, restore(uid.to_owned(), before))),
            Err(OpError::Store(e @ store::StoreError::Conflict { .. })) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.map(OpError::Store).unwrap_or_else(|| OpError::Internal("update kept conflicting".into())))
}

/// An undo action writing `before` back as the object's attributes.
fn restore(uid: String, before: AttributeSet) -> super::UndoAction {
    Box::new(move |backend: &dyn super::Backend| {
        let store = backend.store().ok_or_else(|| OpError::Internal("no store".into()))?;
        let record = store.get(&uid)?.ok_or_else(|| OpError::ObjectNotFound(uid.clone()))?;
        let grants = super::grants::grants_of(&before)?;
        store.update_with_grants(&uid, record.revision, before.encode()?, before.index_keys(), grants)?;
        Ok(())
    })
}

/// An undo action removing a just-created object: its HSM object, then its record.
pub(super) fn uncreate(uid: String) -> super::UndoAction {
    Box::new(move |backend: &dyn super::Backend| {
        let store = backend.store().ok_or_else(|| OpError::Internal("no store".into()))?;
        let hsm = backend.hsm().ok_or_else(|| OpError::Internal("no HSM".into()))?;
        let record = store.get(&uid)?.ok_or_else(|| OpError::ObjectNotFound(uid.clone()))?;
        if record.hsm.is_some() {
            match hsm.destroy(uid.as_bytes()) {
                Err(e) if e.class() != crate::hsm::ErrorClass::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        store.delete(&uid)?;
        Ok(())
    })
}

/// Fails with Non Unique Name when another live object (or, with `this` = None, any) already
/// carries one of `names`.
pub(super) fn check_names_unique(store: &dyn Store, names: &[String], this: Option<&str>) -> Result<(), OpError> {
    for name in names {
        let query = store::LocateQuery {
            names: vec![name.clone()],
            storage: store::StorageMask { online: true, archived: true, destroyed: false },
            maximum: Some(2),
            ..Default::default()
        };
        let found = store.locate(&query)?;
        if found.uids.iter().any(|u| Some(u.as_str()) != this) {
            return Err(OpError::NonUniqueName(name.clone()));
        }
    }
    Ok(())
}

/// The state a new object starts in, and its dates: Pre-Active, or Active when the client
/// gave an Activation Date that has passed (KMIP 1.4 §3.22).
pub(super) fn initial_state(attributes: &mut AttributeSet, now: DateTime) {
    let state = match attributes.date(Tag::ACTIVATION_DATE) {
        Some(at) if at <= now.0 => State::Active,
        _ => State::PreActive,
    };
    attributes.set(Attribute::State(state));
    attributes.set(Attribute::InitialDate(now));
    attributes.set(Attribute::LastChangeDate(now));
}

/// What the server records about material it generated itself: when (Original Creation
/// Date) and that no client has seen it yet (Fresh).
pub(super) fn generated(attributes: &mut AttributeSet, now: DateTime) {
    attributes.set(Attribute::OriginalCreationDate(now));
    attributes.set(Attribute::Fresh(true));
}

/// The server-set facts of a new object that 2.x clients read (older versions never see them):
/// Short Unique Identifier (SHA-256 of the UID, KMIP 2.1 §4.49) and Protection Storage Mask
/// (Hardware when the material lives in the HSM, else Software: the store keeps it, sealed
/// or public).
pub(super) fn identity_facts(attributes: &mut AttributeSet, uid: &str, in_hsm: bool) {
    use sha2::Digest as _;
    attributes.set(Attribute::ShortUniqueIdentifier(sha2::Sha256::digest(uid.as_bytes()).to_vec()));
    let storage = if in_hsm { "Hardware" } else { "Software" };
    let mask = crate::ttlv::registry::mask_for_tag(Tag::PROTECTION_STORAGE_MASK).and_then(|m| m.value_of(storage));
    if let Some(bits) = mask.and_then(|v| i32::try_from(v).ok()) {
        attributes.set(Attribute::ProtectionStorageMask(bits));
    }
}

/// Applies the time-driven transitions a read must reflect: an Active object past its
/// Deactivation Date is Deactivated; a Pre-Active one past its Activation Date is Active.
pub(super) fn refresh_state(attributes: &mut AttributeSet, now: DateTime) -> bool {
    let state = attributes.state();
    let deactivate = attributes.date(Tag::DEACTIVATION_DATE).is_some_and(|d| d <= now.0);
    let activate = attributes.date(Tag::ACTIVATION_DATE).is_some_and(|d| d <= now.0);
    let next = match state {
        Some(State::PreActive | State::Active) if deactivate => State::Deactivated,
        Some(State::PreActive) if activate => State::Active,
        _ => return false,
    };
    attributes.set(Attribute::State(next));
    true
}

/// The 1.x Attribute Name / 2.x reference of every attribute the object has, for Get
/// Attribute List: custom ones first by name, then the identifying four (Unique Identifier,
/// Object Type, Cryptographic Algorithm and Length), then the rest by name, as the OASIS
/// reference server lists them.
pub(super) fn attribute_ids(attributes: &[Attribute]) -> Vec<AttrId> {
    const FIRST: [Tag; 4] =
        [Tag::UNIQUE_IDENTIFIER, Tag::OBJECT_TYPE, Tag::CRYPTOGRAPHIC_ALGORITHM, Tag::CRYPTOGRAPHIC_LENGTH];
    let mut ids: Vec<AttrId> = Vec::new();
    for a in attributes {
        let id = AttrId::of(a);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.sort_by_key(|id| {
        let rank = match id {
            AttrId::Vendor(..) => 0,
            AttrId::Standard(tag) => 1 + FIRST.iter().position(|t| t == tag).unwrap_or(FIRST.len()),
        };
        (rank, id.name())
    });
    ids
}

/// Checks the client-supplied attributes of a Create/Register: known to the rules as
/// client-settable, single-valued ones given once, names unique.
pub(super) fn check_client_attributes(attributes: &AttributeSet) -> Result<(), OpError> {
    let mut seen: Vec<AttrId> = Vec::new();
    for a in attributes.iter() {
        let id = AttrId::of(a);
        let rule = rule(&id);
        if !rule.client_sets {
            return Err(OpError::AttributeReadOnly(id.name()));
        }
        if !rule.multi && seen.contains(&id) {
            return Err(OpError::AttributeSingleValued(id.name()));
        }
        seen.push(id);
    }
    Ok(())
}

/// A Link attribute to another object.
pub(super) fn link(link_type: crate::kmip::enums::LinkType, target: &str) -> Attribute {
    Attribute::Link(Link { link_type, linked_object_identifier: UniqueIdentifier::Text(target.to_owned()) })
}

/// A new object: its type, its attributes (client-given plus server-set), and how its HSM
/// object is made.
pub(super) struct Creation {
    pub object_type: ObjectType,
    pub attributes: AttributeSet,
    /// The HSM object's class, when the material lives in the HSM.
    pub hsm_kind: Option<ObjectKind>,
    /// Material kept in the store (public keys, certificates, envelope-encrypted data).
    pub material: Option<Vec<u8>>,
}

/// The Digest attribute (SHA-256 over the raw key, KMIP 1.4 §3.17) of a secret key that
/// lives in the HSM, computed there; `None` when the HSM won't digest it (the attribute is then
/// left out, as the specification allows for material the server can't see).
pub(super) fn hsm_digest(hsm: &dyn Hsm, uid: &str) -> Result<Option<Attribute>, OpError> {
    use crate::hsm::ErrorClass;
    match hsm.digest_key(uid.as_bytes(), crate::hsm::HashAlg::Sha256) {
        Ok(value) => Ok(Some(Attribute::Digest(crate::kmip::objects::Digest {
            hashing_algorithm: crate::kmip::enums::HashingAlgorithm::SHA_256,
            digest_value: Some(value),
            key_format_type: Some(crate::kmip::enums::KeyFormatType::Raw),
        }))),
        Err(e) if matches!(e.class(), ErrorClass::Indigestible | ErrorClass::NotSupported) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Creates an object by the protocol of DESIGN.md invariant 3: allocate the UID, write the
/// pending record (durably), make the HSM object with `make(uid)`, commit. A failed `make`
/// rolls the record back. Returns the UID.
pub(super) fn create(
    cx: &OpContext<'_>,
    svc: &Services<'_>,
    mut creation: Creation,
    make: impl FnOnce(&str) -> Result<(), OpError>,
) -> Result<String, OpError> {
    let store = svc.store;
    let uid = store.allocate_uid()?;
    creation.attributes.set(Attribute::UniqueIdentifier(UniqueIdentifier::Text(uid.clone())));
    creation.attributes.set(Attribute::ObjectType(creation.object_type));
    identity_facts(&mut creation.attributes, &uid, creation.hsm_kind.is_some());
    let pending = store::NewObject {
        uid: uid.clone(),
        owner: cx.request.client_identity.clone(),
        hsm: creation.hsm_kind.map(|kind| crate::hsm::hsm_ref(kind, uid.as_bytes())),
        attributes: creation.attributes.encode()?,
        material: creation.material,
        keys: creation.attributes.index_keys(),
        grants: super::grants::grants_of(&creation.attributes)?,
    };
    cx.note_object(&pending.keys);
    store.create_pending(pending)?;
    if let Err(e) = make(&uid) {
        if let Err(rollback) = store.delete(&uid) {
            tracing::error!(%uid, error = %rollback, "rolling back a failed create left a pending record");
        }
        return Err(e);
    }
    store.commit(&uid)?;
    Ok(uid)
}

/// A request's 1.x Template-Attribute and 2.x Attributes (for one object, or a key pair's half
/// or both).
pub(super) type Requested<'a> = (Option<&'a crate::kmip::attributes::TemplateAttribute>, Option<&'a Attributes>);

/// The attributes a Create/Register/CreateKeyPair/Derive Key/Re-key request gives, from either
/// form. The Templates a 1.x Template-Attribute names are applied first, in order, then the
/// request's own attributes over them (KMIP 1.4 §4: a later template and the request win for
/// single-valued attributes; multi-valued ones are united). A name that is no Template is
/// Item Not Found; an archived Template is Object Archived.
pub(super) fn requested_attributes(
    cx: &OpContext<'_>,
    store: &dyn Store,
    operation: Operation,
    (template, attributes): Requested<'_>,
) -> Result<AttributeSet, OpError> {
    let mut list = Vec::new();
    if let Some(t) = template {
        list.extend(t.to_attribute_list());
    }
    if let Some(a) = attributes {
        list.extend(a.attributes.iter().cloned());
    }
    let explicit = AttributeSet::new(list);
    let names = template.map(|t| t.names.as_slice()).unwrap_or_default();
    if names.is_empty() {
        return Ok(explicit);
    }
    let mut applied = AttributeSet::default();
    for name in names {
        let found = find_template(cx, store, operation, &name.name_value)?;
        applied.overlay(&template_content(&found)?);
    }
    applied.overlay(&explicit);
    Ok(applied)
}

/// The Template named `name`, for an `operation` that applies it.
fn find_template(cx: &OpContext<'_>, store: &dyn Store, operation: Operation, name: &str) -> Result<Managed, OpError> {
    let query = store::LocateQuery {
        names: vec![name.to_owned()],
        object_type: Some(ObjectType::Template.to_u32()),
        storage: store::StorageMask { online: true, archived: true, destroyed: false },
        maximum: Some(1),
        ..Default::default()
    };
    let missing = || OpError::TemplateNotFound(name.to_owned());
    let uid = store.locate(&query)?.uids.into_iter().next().ok_or_else(missing)?;
    let record = store.get(&uid)?.filter(|r| r.lifecycle == Lifecycle::Committed).ok_or_else(missing)?;
    if record.archived {
        return Err(OpError::ObjectArchived(uid));
    }
    permitted(cx, record, operation)
}

/// What a Template applies to the objects made with it, kept as its material (its own
/// attributes, Name and the like, apply to it alone).
pub(super) fn template_content(m: &Managed) -> Result<AttributeSet, OpError> {
    let blob = m.record.material.as_deref();
    AttributeSet::decode(blob.ok_or_else(|| OpError::Internal(format!("template {:?} has no attributes to apply", m.uid())))?)
}

/// Decides Sensitive and Extractable of a new secret or private key (client attributes,
/// else the server policy), records them with Always Sensitive / Never Extractable, and
/// returns them for the HSM template.
pub(super) fn key_protection(attributes: &mut AttributeSet, policy: super::Policy) -> (bool, bool) {
    let sensitive = attributes.flag(Tag::SENSITIVE).unwrap_or(!policy.extractable_by_default);
    let extractable = attributes.flag(Tag::EXTRACTABLE).unwrap_or(policy.extractable_by_default);
    attributes.set(Attribute::Sensitive(sensitive));
    attributes.set(Attribute::Extractable(extractable));
    attributes.set(Attribute::AlwaysSensitive(sensitive));
    attributes.set(Attribute::NeverExtractable(!extractable));
    (sensitive, extractable)
}

/// The PKCS#11 usage flags a KMIP Cryptographic Usage Mask allows; every usage when the
/// client gave no mask (KMIP then leaves the policy to the server, which enforces the mask,
/// not the HSM flags, on each request).
pub(super) fn key_usage(mask: Option<i32>) -> crate::hsm::KeyUsage {
    let Some(mask) = mask else {
        return crate::hsm::KeyUsage::ALL;
    };
    let has = |names: &[&str]| mask & usage_bits(names) != 0;
    crate::hsm::KeyUsage {
        encrypt: has(&["Encrypt"]),
        decrypt: has(&["Decrypt"]),
        sign: has(&["Sign", "MACGenerate"]),
        verify: has(&["Verify", "MACVerify"]),
        wrap: has(&["WrapKey"]),
        unwrap: has(&["UnwrapKey"]),
        derive: has(&["DeriveKey", "KeyAgreement"]),
    }
}

/// The Cryptographic Usage Mask bits named (XML names), from the generated registry.
pub(super) fn usage_bits(names: &[&str]) -> i32 {
    let Some(mask) = crate::ttlv::registry::mask_for_tag(Tag::CRYPTOGRAPHIC_USAGE_MASK) else {
        return 0;
    };
    names.iter().filter_map(|n| mask.value_of(n)).fold(0, |acc, v| acc | v as i32)
}

/// The HSM key type that holds a symmetric key of this KMIP algorithm and length in bits
/// (given or, for imports, from the material): AES, three- or two-key Triple DES (KMIP's DES3
/// of 168 or 112 bits), or a generic secret for the HMAC family; `None` for algorithms the HSM
/// layer does not hold.
pub(super) fn secret_key_algorithm(
    algorithm: crate::kmip::enums::CryptographicAlgorithm,
    bits: Option<u32>,
) -> Option<crate::hsm::SecretKeyAlgorithm> {
    use crate::hsm::SecretKeyAlgorithm;
    use crate::kmip::enums::CryptographicAlgorithm as A;
    match algorithm {
        A::AES => Some(SecretKeyAlgorithm::Aes),
        A::DES3 if bits == Some(112) => Some(SecretKeyAlgorithm::Des2),
        A::DES3 => Some(SecretKeyAlgorithm::Des3),
        A::HMAC_SHA1 | A::HMAC_SHA224 | A::HMAC_SHA256 | A::HMAC_SHA384 | A::HMAC_SHA512 => {
            Some(SecretKeyAlgorithm::GenericSecret)
        }
        _ => None,
    }
}

/// KMIP's Cryptographic Length of a symmetric key of `len` bytes: the effective bits for
/// Triple DES (one parity bit a byte: 168 for 24 bytes, 112 for 16), eight bits a byte
/// otherwise.
pub(super) fn secret_key_length(algorithm: crate::kmip::enums::CryptographicAlgorithm, len: usize) -> i32 {
    let bits = if algorithm == crate::kmip::enums::CryptographicAlgorithm::DES3 { 7 } else { 8 };
    i32::try_from(len.saturating_mul(bits)).unwrap_or(i32::MAX)
}

/// The 1.x echo of an attribute an Add/Modify/Delete Attribute acted on (2.x answers without
/// it): its Attribute Index is given for every instance but the first.
pub(super) fn echoed(cx: &OpContext<'_>, attribute: &Attribute, position: usize) -> Option<IndexedAttribute> {
    (cx.version().major < 2).then(|| IndexedAttribute {
        attribute: attribute.clone(),
        attribute_index: (position > 0).then(|| i32::try_from(position).unwrap_or(i32::MAX)),
    })
}

/// The HSM template identity of a new object.
pub(super) fn new_hsm_object(
    uid: &str,
    attributes: &AttributeSet,
    usage: crate::hsm::KeyUsage,
    (sensitive, extractable): (bool, bool),
) -> crate::hsm::NewObject {
    let label = attributes.names().into_iter().next().unwrap_or_else(|| uid.to_owned());
    crate::hsm::NewObject { sensitive, extractable, ..crate::hsm::NewObject::token(uid.as_bytes(), label, usage) }
}

/// Cryptographic Algorithm and Length of a request, when given.
pub(super) fn algorithm_and_length(
    attributes: &AttributeSet,
) -> (Option<crate::kmip::enums::CryptographicAlgorithm>, Option<i32>) {
    let algorithm = match attributes.get(Tag::CRYPTOGRAPHIC_ALGORITHM) {
        Some(Attribute::CryptographicAlgorithm(a)) => Some(*a),
        _ => None,
    };
    let length = match attributes.get(Tag::CRYPTOGRAPHIC_LENGTH) {
        Some(Attribute::CryptographicLength(l)) => Some(*l),
        _ => None,
    };
    (algorithm, length)
}

/// Refuses a key asked to be Quantum Safe (2.1 §4.54) that is not: public-key algorithms fall to Shor's
/// algorithm, and Grover's halves a symmetric key's strength, so only symmetric keys of 256 bits or more qualify.
/// Meant for the final algorithm and length, defaults applied.
pub(super) fn check_quantum_safe(attributes: &AttributeSet) -> Result<(), OpError> {
    use crate::kmip::enums::CryptographicAlgorithm as A;
    if attributes.flag(Tag::QUANTUM_SAFE) != Some(true) {
        return Ok(());
    }
    let (algorithm, length) = algorithm_and_length(attributes);
    // No algorithm: secret data, judged by its length alone.
    let symmetric = matches!(
        algorithm,
        None | Some(
            A::AES
                | A::ChaCha20
                | A::HMAC_SHA256
                | A::HMAC_SHA384
                | A::HMAC_SHA512
                | A::HMAC_SHA3_256
                | A::HMAC_SHA3_384
                | A::HMAC_SHA3_512
        )
    );
    match (symmetric, length) {
        (true, Some(bits)) if bits >= 256 => Ok(()),
        _ => Err(OpError::NotQuantumSafe(format!(
            "NOT_SAFE: a {} {} key is not quantum safe (symmetric keys of 256 bits or more are)",
            length.map_or_else(|| "?".to_owned(), |l| format!("{l}-bit")),
            algorithm.map_or_else(|| "?".to_owned(), |a| format!("{a:?}"))
        ))),
    }
}

/// The state rules for a client changing `attribute` (KMIP 1.4 §3.24–3.27): Activation Date
/// only while Pre-Active; Process Start, Protect Stop and Deactivation Date while Pre-Active
/// or Active; nothing on a destroyed object.
pub(super) fn check_change_allowed(m: &Managed, attribute: &Attribute) -> Result<(), OpError> {
    if matches!(m.record.lifecycle, Lifecycle::Destroying | Lifecycle::Destroyed) {
        return Err(OpError::ObjectDestroyed(m.uid().to_owned()));
    }
    let state = m.state();
    let allowed = match attribute {
        Attribute::ActivationDate(_) => matches!(state, None | Some(State::PreActive)),
        Attribute::ProcessStartDate(_) | Attribute::ProtectStopDate(_) | Attribute::DeactivationDate(_) => {
            matches!(state, None | Some(State::PreActive | State::Active))
        }
        _ => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(OpError::WrongState(format!("{} can't change while the object is {:?}", AttrId::of(attribute).name(), state)))
    }
}

/// Name uniqueness for a Name being added or changed on `m`.
pub(super) fn check_new_name(store: &dyn Store, m: &Managed, attribute: &Attribute) -> Result<(), OpError> {
    match attribute {
        Attribute::Name(n) => {
            if m.attributes.names().contains(&n.name_value) {
                return Err(OpError::NonUniqueName(n.name_value.clone()));
            }
            check_names_unique(store, std::slice::from_ref(&n.name_value), Some(m.uid()))
        }
        _ => Ok(()),
    }
}
