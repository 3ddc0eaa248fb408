//! Get Attributes and Get Attribute List (KMIP 1.4 §4.11–4.12, 2.1 §6.1.22–6.1.23), served
//! from the store (DESIGN.md invariant 4), with only what the request's version knows.

use crate::kmip::attributes::{Attribute, AttributeReference, Attributes, IndexedAttribute};
use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{
    GetAttributeListResponse, GetAttributesRequest, GetAttributesResponse, IdentifierRequest,
};
use crate::kmip::ResponsePayload;

use super::object::{self, AttrId};
use super::{OpContext, OpError, Outcome};

pub(super) fn get_attributes(cx: &OpContext<'_>, request: &GetAttributesRequest) -> Result<Outcome, OpError> {
    let version = cx.version();
    let (uid, all) = current_attributes(cx, request.unique_identifier.as_ref(), Operation::GetAttributes)?;
    let wanted: Option<Vec<AttrId>> = if version.major < 2 {
        (!request.attribute_names.is_empty())
            .then(|| request.attribute_names.iter().filter_map(|n| AttrId::from_name(n)).collect())
    } else {
        (!request.attribute_references.is_empty())
            .then(|| request.attribute_references.iter().map(reference_id).collect())
    };
    let selected: Vec<Attribute> = match wanted {
        None => all,
        Some(ids) => ids.iter().flat_map(|id| all.iter().filter(|a| AttrId::of(a) == *id).cloned()).collect(),
    };
    let response = if version.major < 2 {
        GetAttributesResponse {
            unique_identifier: UniqueIdentifier::Text(uid),
            attributes_v1: indexed(selected),
            attributes: None,
        }
    } else {
        GetAttributesResponse {
            unique_identifier: UniqueIdentifier::Text(uid),
            attributes_v1: Vec::new(),
            attributes: Some(Attributes { attributes: selected }),
        }
    };
    Ok(Outcome::reply(ResponsePayload::GetAttributes(Box::new(response))))
}

pub(super) fn get_attribute_list(cx: &OpContext<'_>, request: &IdentifierRequest) -> Result<Outcome, OpError> {
    let version = cx.version();
    let (uid, all) = current_attributes(cx, request.unique_identifier.as_ref(), Operation::GetAttributeList)?;
    let ids = object::attribute_ids(&all);
    let mut response = GetAttributeListResponse {
        unique_identifier: UniqueIdentifier::Text(uid),
        attribute_names: Vec::new(),
        attribute_references: Vec::new(),
    };
    if version.major < 2 {
        response.attribute_names = ids.iter().map(AttrId::name).collect();
    } else {
        response.attribute_references = ids.into_iter().map(reference_of).collect();
    }
    Ok(Outcome::reply(ResponsePayload::GetAttributeList(Box::new(response))))
}

/// The object's attributes as a peer of this version may see them, time-driven state
/// changes applied.
fn current_attributes(
    cx: &OpContext<'_>,
    requested: Option<&UniqueIdentifier>,
    operation: Operation,
) -> Result<(String, Vec<Attribute>), OpError> {
    let svc = object::services(cx, operation)?;
    let uid = cx.batch.resolve(requested)?;
    let mut m = object::load(cx, svc.store, &uid, operation)?;
    object::refresh_state(&mut m.attributes, object::now());
    Ok((uid, m.attributes.for_version(cx.version())))
}


/// 1.x form: Attribute Index on every instance after the first.
pub(super) fn indexed(attributes: Vec<Attribute>) -> Vec<IndexedAttribute> {
    let mut seen: Vec<(AttrId, i32)> = Vec::new();
    attributes
        .into_iter()
        .map(|a| {
            let id = AttrId::of(&a);
            let index = match seen.iter_mut().find(|(s, _)| *s == id) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((id, 0));
                    0
                }
            };
            IndexedAttribute { attribute: a, attribute_index: (index > 0).then_some(index) }
        })
        .collect()
}

pub(super) fn reference_id(reference: &AttributeReference) -> AttrId {
    match reference {
        AttributeReference::Standard(tag) => AttrId::Standard(*tag),
        AttributeReference::Vendor { vendor_identification, attribute_name } => {
            AttrId::Vendor(vendor_identification.clone(), attribute_name.clone())
        }
    }
}

fn reference_of(id: AttrId) -> AttributeReference {
    match id {
        AttrId::Standard(tag) => AttributeReference::Standard(tag),
        AttrId::Vendor(vendor_identification, attribute_name) => {
            AttributeReference::Vendor { vendor_identification, attribute_name }
        }
    }
}
