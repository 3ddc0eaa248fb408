//! Add Attribute (KMIP 1.4 §4.13, 2.1 §6.1.3): a new instance of a client-settable
//! attribute; a single-valued attribute that is already present answers Attribute Single
//! Valued.

use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{AddAttributeRequest, AttributeChangeResponse};
use crate::kmip::ResponsePayload;

use super::object::{self, AttrId};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &AddAttributeRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::AddAttribute)?;
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    let attribute = match (&request.attribute, &request.new_attribute) {
        (Some(a), _) => a.attribute.clone(),
        (None, Some(holder)) => holder.attribute.clone(),
        (None, None) => return Err(OpError::MissingData("no attribute to add".into())),
    };
    let id = AttrId::of(&attribute);
    let rule = object::rule(&id);
    if !rule.client_sets {
        return Err(OpError::AttributeReadOnly(id.name()));
    }
    let (index, undo) = object::modify(cx, svc.store, &uid, Operation::AddAttribute, |m| {
        object::check_change_allowed(m, &attribute)?;
        let present = m.attributes.all(&id).count();
        if present > 0 && !rule.multi {
            return Err(OpError::AttributeSingleValued(id.name()));
        }
        object::check_new_name(svc.store, m, &attribute)?;
        m.attributes.push(attribute.clone());
        Ok(present)
    })?;
    let echoed = object::echoed(cx, &attribute, index);
    Ok(Outcome {
        undo: Some(undo),
        payload: ResponsePayload::AddAttribute(Box::new(AttributeChangeResponse {
        unique_identifier: UniqueIdentifier::Text(uid),
        attribute: echoed,
        })),
    })
}
