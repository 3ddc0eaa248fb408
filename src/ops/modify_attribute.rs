//! Modify Attribute (KMIP 1.4 §4.14, 2.1 §6.1.29): changes one existing instance — in 1.x
//! the one named by Attribute Index (default the first), in 2.x the one equal to Current
//! Attribute (default the first).

use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{AttributeChangeResponse, ModifyAttributeRequest};
use crate::kmip::ResponsePayload;

use super::object::{self, AttrId};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &ModifyAttributeRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::ModifyAttribute)?;
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    let (new, index, current) = match (&request.attribute, &request.new_attribute) {
        (Some(a), _) => (a.attribute.clone(), a.attribute_index, None),
        (None, Some(holder)) => {
            (holder.attribute.clone(), None, request.current_attribute.as_ref().map(|c| c.attribute.clone()))
        }
        (None, None) => return Err(OpError::MissingData("no attribute to modify".into())),
    };
    let id = AttrId::of(&new);
    if let Some(c) = &current {
        if AttrId::of(c) != id {
            return Err(OpError::InvalidField("Current Attribute and New Attribute are different attributes".into()));
        }
    }
    if !object::rule(&id).client_modifies {
        return Err(OpError::AttributeReadOnly(id.name()));
    }
    let index = usize::try_from(index.unwrap_or(0))
        .map_err(|_| OpError::IndexOutOfBounds("Attribute Index is negative".into()))?;
    let (position, undo) = object::modify(cx, svc.store, &uid, Operation::ModifyAttribute, |m| {
        let position = match &current {
            Some(c) => m.attributes.all(&id).position(|a| a == c),
            None => (index < m.attributes.all(&id).count()).then_some(index),
        };
        let Some(position) = position else {
            return Err(if m.attributes.all(&id).next().is_none() {
                OpError::AttributeNotFound(id.name())
            } else {
                OpError::IndexOutOfBounds(format!("{} has no such instance", id.name()))
            });
        };
        object::check_change_allowed(m, &new)?;
        object::check_new_name(svc.store, m, &new)?;
        m.attributes.replace_instance(&id, position, new.clone());
        object::refresh_state(&mut m.attributes, object::now());
        Ok(position)
    })?;
    let echoed = object::echoed(cx, &new, position);
    Ok(Outcome {
        undo: Some(undo),
        payload: ResponsePayload::ModifyAttribute(Box::new(AttributeChangeResponse {
        unique_identifier: UniqueIdentifier::Text(uid),
        attribute: echoed,
        })),
    })
}
