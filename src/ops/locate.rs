//! Locate (KMIP 1.4 §4.9, 2.1 §6.1.27): every attribute given must match (AND), served
//! from the store's indexes (DESIGN.md invariant 4), newest object first, bounded by
//! Maximum Items / Offset Items and the response size.
//!
//! Matching per attribute: Name, Object Group, Link by value (any instance); Object Type,
//! State, Cryptographic Algorithm and Length exactly; Cryptographic Usage Mask by bits (all
//! asked bits set); a date attribute given once exactly, twice as the inclusive range
//! between the two; Unique Identifier exactly; any other attribute by its whole value.

use crate::kmip::attributes::Attribute;
use crate::kmip::enums::{ObjectGroupMember, Operation};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{LocateRequest, LocateResponse};
use crate::kmip::{KmipEnum, ResponsePayload};
use crate::store::{DateRange, LinkFilter, LocateQuery, StorageMask, TermFilter};
use crate::ttlv::registry;
use crate::ttlv::Tag;

use super::object::{self, term_key};
use super::version::tag_in_version;
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &LocateRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Locate)?;
    let mut query = LocateQuery {
        storage: storage_mask(request.storage_status_mask)?,
        visible_to: (!cx.request.is_admin).then(|| cx.request.client_identity.clone()),
        // Objects of a type the client's version lacks (a 2.x client and Templates) are not offered.
        excluded_object_types: super::query::OBJECT_TYPES
            .iter()
            .map(|t| t.to_u32())
            .filter(|t| !object::type_in_version(*t, cx.version()))
            .collect(),
        ..LocateQuery::default()
    };
    let mut uid_filter: Option<String> = None;
    let filters = request.attributes_v1.iter().map(|a| &a.attribute).chain(
        request.attributes.iter().flat_map(|a| a.attributes.iter()),
    );
    for attribute in filters {
        add_filter(&mut query, &mut uid_filter, attribute)?;
    }
    if request.object_group_member == Some(ObjectGroupMember::GroupMemberFresh) {
        query.terms.push(TermFilter { attribute: "Fresh".into(), value: Some(term_key(&Attribute::Fresh(true)).value) });
    }
    query.offset = non_negative(request.offset_items, "Offset Items")?.unwrap_or(0);
    query.maximum = non_negative(request.maximum_items, "Maximum Items")?;
    // Located Items (1.3+) is reported when the client asks for a page past the first (Offset Items), as the
    // OASIS reference answers do (TC-OFFSET-*: Maximum Items alone gets no count).
    let report_total = request.offset_items.is_some() && tag_in_version(Tag::LOCATED_ITEMS, cx.version());
    query.count_total = report_total;
    let found = match &uid_filter {
        Some(uid) => svc.store.locate_refined(&query, Some(&|r: &crate::store::ObjectRecord| r.uid == *uid))?,
        None => svc.store.locate(&query)?,
    };
    let located_items = if report_total { found.matched.and_then(|n| i32::try_from(n).ok()) } else { None };
    Ok(Outcome::reply(ResponsePayload::Locate(Box::new(LocateResponse {
        located_items,
        unique_identifiers: found.uids.into_iter().map(UniqueIdentifier::Text).collect(),
    }))))
}

fn add_filter(query: &mut LocateQuery, uid: &mut Option<String>, attribute: &Attribute) -> Result<(), OpError> {
    match attribute {
        Attribute::UniqueIdentifier(UniqueIdentifier::Text(u)) => *uid = Some(u.clone()),
        Attribute::Name(n) => query.names.push(n.name_value.clone()),
        Attribute::ObjectType(t) => query.object_type = Some(t.to_u32()),
        Attribute::State(s) => query.state = Some(s.to_u32()),
        Attribute::CryptographicAlgorithm(a) => query.cryptographic_algorithm = Some(a.to_u32()),
        Attribute::CryptographicLength(l) => query.cryptographic_length = Some(*l),
        Attribute::CryptographicUsageMask(m) => {
            query.cryptographic_usage_mask = Some(query.cryptographic_usage_mask.unwrap_or(0) | *m as u32)
        }
        Attribute::ObjectGroup(g) => query.object_groups.push(g.clone()),
        Attribute::Link(l) => query.links.push(LinkFilter {
            link_type: Some(l.link_type.to_u32()),
            target: match &l.linked_object_identifier {
                UniqueIdentifier::Text(t) => Some(t.clone()),
                _ => None,
            },
        }),
        other => match (other.tag(), object::date_value(other)) {
            (Some(tag), Some(at)) => match query.date_ranges.iter_mut().find(|r| r.attribute == tag.0) {
                // The second instance of a date makes the range (KMIP 1.4 §4.9).
                Some(range) => {
                    range.from = range.from.min(at);
                    range.to = range.to.max(at);
                }
                None => query.date_ranges.push(DateRange { attribute: tag.0, from: at, to: at }),
            },
            _ => {
                let key = term_key(other);
                query.terms.push(TermFilter { attribute: key.attribute, value: Some(key.value) });
            }
        },
    }
    Ok(())
}

/// Storage Status Mask bits (On-line, Archival, Destroyed); absent means on-line only.
fn storage_mask(mask: Option<i32>) -> Result<StorageMask, OpError> {
    let Some(mask) = mask else {
        return Ok(StorageMask::default());
    };
    let bit = |name: &str| {
        registry::mask_for_tag(Tag::STORAGE_STATUS_MASK).and_then(|m| m.value_of(name)).unwrap_or(0) as i32
    };
    let (online, archival, destroyed) = (bit("OnLineStorage"), bit("ArchivalStorage"), bit("DestroyedStorage"));
    if mask & !(online | archival | destroyed) != 0 {
        return Err(OpError::InvalidField(format!("Storage Status Mask 0x{mask:X} has undefined bits")));
    }
    Ok(StorageMask { online: mask & online != 0, archived: mask & archival != 0, destroyed: mask & destroyed != 0 })
}

fn non_negative(value: Option<i32>, what: &str) -> Result<Option<usize>, OpError> {
    value
        .map(|v| usize::try_from(v).map_err(|_| OpError::InvalidField(format!("{what} {v} is negative"))))
        .transpose()
}
