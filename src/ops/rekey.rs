//! Re-key (KMIP 1.4 §4.4, 2.1 §6.1.46): a replacement for a symmetric key, generated in the
//! HSM with the existing key's attributes (Table 173/304: new identity and dates, no
//! revocation facts, names moved over, Offset applied), linked both ways (Replacement /
//! Replaced Object). The existing key keeps its material and state: retiring it is the
//! client's business (Revoke), as the specification leaves it.
//!
//! What both Re-key operations share lives here: [`replacement`] and [`retire`].

use crate::kmip::attributes::Attribute;
use crate::kmip::enums::{LinkType, ObjectType, Operation};
use crate::kmip::objects::{UniqueIdentifier, UsageLimits};
use crate::kmip::payloads::{IdentifierWithTemplateResponse, ReKeyRequest};
use crate::kmip::ResponsePayload;
use crate::ttlv::Tag;

use super::object::{self, AttributeSet, Managed};
use super::{OpContext, OpError, Outcome, UndoAction};

pub(super) fn run(cx: &OpContext<'_>, request: &ReKeyRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::ReKey)?;
    let existing_uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    let existing = existing_key(cx, &svc, &existing_uid, Operation::ReKey, ObjectType::SymmetricKey)?;
    let requested = (request.template_attribute.as_ref(), request.attributes.as_ref());
    let requested = object::requested_attributes(cx, svc.store, Operation::ReKey, requested)?;
    let mut attributes = replacement(&svc, &existing, &requested, request.offset)?;
    let spec = super::create::symmetric_spec(&attributes)?;
    let protection = object::key_protection(&mut attributes, cx.backend.policy());
    let uid = super::create::generate(cx, &svc, ObjectType::SymmetricKey, attributes, protection, |new| {
        svc.hsm.generate_secret_key(spec, new)
    })?;
    let undo_new = object::uncreate(uid.clone());
    let undo_existing = retire(cx, &svc, &existing_uid, &uid, Operation::ReKey)?;
    let undo = super::undo_in_order(vec![undo_existing, undo_new]);
    Ok(Outcome::reply(ResponsePayload::ReKey(Box::new(IdentifierWithTemplateResponse {
        unique_identifier: UniqueIdentifier::Text(uid),
        template_attribute: None,
    })))
    .with_undo(undo))
}

/// The existing key of a Re-key: the caller's, on line, of the expected type.
pub(super) fn existing_key(
    cx: &OpContext<'_>,
    svc: &object::Services<'_>,
    uid: &str,
    operation: Operation,
    object_type: ObjectType,
) -> Result<Managed, OpError> {
    let existing = object::load(cx, svc.store, uid, operation)?;
    existing.require_online()?;
    match existing.object_type() {
        Some(t) if t == object_type => Ok(existing),
        other => Err(OpError::InvalidObjectType(format!("{operation:?} replaces a {object_type:?}, not a {other:?}"))),
    }
}

/// Attributes the replacement does not copy: its identity, facts about the existing key's
/// material or history, and what is recomputed (state, dates, protection history, digest).
const NOT_COPIED: &[Tag] = &[
    Tag::UNIQUE_IDENTIFIER,
    Tag::STATE,
    Tag::INITIAL_DATE,
    Tag::LAST_CHANGE_DATE,
    Tag::ORIGINAL_CREATION_DATE,
    Tag::FRESH,
    Tag::DESTROY_DATE,
    Tag::COMPROMISE_OCCURRENCE_DATE,
    Tag::COMPROMISE_DATE,
    Tag::REVOCATION_REASON,
    Tag::ARCHIVE_DATE,
    Tag::DIGEST,
    Tag::LINK,
    Tag::RANDOM_NUMBER_GENERATOR,
    Tag::ALWAYS_SENSITIVE,
    Tag::NEVER_EXTRACTABLE,
    Tag::KEY_VALUE_PRESENT,
    Tag::KEY_VALUE_LOCATION,
    Tag::LEASE_TIME,
];

/// The attributes of the replacement of `existing`: copied from it but for [`NOT_COPIED`],
/// with the client's `requested` ones on top (added for multi-valued attributes such as Name,
/// replacing otherwise), dates moved by `offset`, a fresh Usage Limits count, the state the
/// dates give, and the Replaced Object link.
pub(super) fn replacement(
    svc: &object::Services<'_>,
    existing: &Managed,
    requested: &AttributeSet,
    offset: Option<u32>,
) -> Result<AttributeSet, OpError> {
    object::check_client_attributes(requested)?;
    object::check_names_unique(svc.store, &requested.names(), None)?;
    let now = object::now();
    let mut attributes = AttributeSet::new(
        existing.attributes.iter().filter(|a| a.tag().is_none_or(|t| !NOT_COPIED.contains(&t))).cloned(),
    );
    if let Some(offset) = offset {
        shift_dates(&mut attributes, &existing.attributes, now.0, i64::from(offset));
    }
    if let Some(Attribute::UsageLimits(limits)) = attributes.get(Tag::USAGE_LIMITS).cloned() {
        attributes.set(Attribute::UsageLimits(UsageLimits { usage_limits_count: limits.usage_limits_total, ..limits }));
    }
    attributes.overlay(requested);
    object::initial_state(&mut attributes, now);
    object::refresh_state(&mut attributes, now);
    object::generated(&mut attributes, now);
    attributes.push(object::link(LinkType::ReplacedObjectLink, existing.uid()));
    Ok(attributes)
}

/// Offset given: Activation Date = now + offset, and Process Start, Protect Stop and
/// Deactivation Date move by as much as the Activation Date did (KMIP 1.4 Table 172; from the
/// existing key's Initial Date when it had no Activation Date).
fn shift_dates(attributes: &mut AttributeSet, existing: &AttributeSet, now: i64, offset: i64) {
    use crate::kmip::codec::DateTime;
    let activation = now.saturating_add(offset);
    let before = existing.date(Tag::ACTIVATION_DATE).or(existing.date(Tag::INITIAL_DATE)).unwrap_or(now);
    let delta = activation.saturating_sub(before);
    attributes.set(Attribute::ActivationDate(DateTime(activation)));
    let moved = [
        (Tag::PROCESS_START_DATE, Attribute::ProcessStartDate as fn(DateTime) -> Attribute),
        (Tag::PROTECT_STOP_DATE, Attribute::ProtectStopDate),
        (Tag::DEACTIVATION_DATE, Attribute::DeactivationDate),
    ];
    for (tag, make) in moved {
        if let Some(at) = existing.date(tag) {
            attributes.set(make(DateTime(at.saturating_add(delta))));
        }
    }
}

/// The existing key's side: its names go to the replacement (Table 173), and it links to it
/// (Replacement Object). Returns the action that puts its attributes back.
pub(super) fn retire(
    cx: &OpContext<'_>,
    svc: &object::Services<'_>,
    existing: &str,
    replacement: &str,
    operation: Operation,
) -> Result<UndoAction, OpError> {
    let name = object::AttrId::Standard(Tag::NAME);
    let ((), undo) = object::modify(cx, svc.store, existing, operation, |m| {
        while m.attributes.remove_instance(&name, 0).is_some() {}
        m.attributes.push(object::link(LinkType::ReplacementObjectLink, replacement));
        Ok(())
    })?;
    Ok(undo)
}
