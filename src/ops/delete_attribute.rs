//! Delete Attribute (KMIP 1.4 §4.15, 2.1 §6.1.13): removes one instance — in 1.x by
//! Attribute Name and Index (default the first), in 2.x the one equal to Current Attribute
//! or, by Attribute Reference, the first.

use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{AttributeChangeResponse, DeleteAttributeRequest};
use crate::kmip::ResponsePayload;

use super::get_attributes::reference_id;
use super::object::{self, AttrId};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &DeleteAttributeRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::DeleteAttribute)?;
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    let current = request.current_attribute.as_ref().map(|c| c.attribute.clone());
    let id = match (&request.attribute_name, &current, &request.attribute_reference) {
        (Some(name), _, _) => AttrId::from_name(name)
            .ok_or_else(|| OpError::InvalidField(format!("{name:?} is not an attribute kmipd knows")))?,
        (None, Some(c), _) => AttrId::of(c),
        (None, None, Some(reference)) => reference_id(reference),
        (None, None, None) => return Err(OpError::MissingData("no attribute to delete".into())),
    };
    if !object::rule(&id).client_deletes {
        return Err(OpError::AttributeReadOnly(id.name()));
    }
    let index = usize::try_from(request.attribute_index.unwrap_or(0))
        .map_err(|_| OpError::IndexOutOfBounds("Attribute Index is negative".into()))?;
    let ((removed, position), undo) = object::modify(cx, svc.store, &uid, Operation::DeleteAttribute, |m| {
        let position = match &current {
            Some(c) => m.attributes.all(&id).position(|a| a == c),
            None => Some(index),
        };
        match position.and_then(|p| m.attributes.remove_instance(&id, p)) {
            Some(removed) => Ok((removed, position.unwrap_or(0))),
            None if m.attributes.all(&id).next().is_none() => Err(OpError::AttributeNotFound(id.name())),
            None => Err(OpError::IndexOutOfBounds(format!("{} has no such instance", id.name()))),
        }
    })?;
    let echoed = object::echoed(cx, &removed, position);
    Ok(Outcome {
        undo: Some(undo),
        payload: ResponsePayload::DeleteAttribute(Box::new(AttributeChangeResponse {
        unique_identifier: UniqueIdentifier::Text(uid),
        attribute: echoed,
        })),
    })
}
