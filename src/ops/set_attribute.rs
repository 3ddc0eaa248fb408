//! Set Attribute (KMIP 2.x, 2.1 §6.1.51): sets a single-valued attribute, adding it or
//! replacing its value. Multi-valued attributes go through Add/Modify Attribute.

use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{IdentifierResponse, SetAttributeRequest};
use crate::kmip::ResponsePayload;

use super::object::{self, AttrId};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &SetAttributeRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::SetAttribute)?;
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    let attribute = request.new_attribute.attribute.clone();
    let id = AttrId::of(&attribute);
    let rule = object::rule(&id);
    if rule.multi {
        return Err(OpError::InvalidField(format!(
            "{} is multi-valued: use Add Attribute or Modify Attribute",
            id.name()
        )));
    }
    let ((), undo) = object::modify(cx, svc.store, &uid, Operation::SetAttribute, |m| {
        let present = m.attributes.all(&id).next().is_some();
        if !(if present { rule.client_modifies } else { rule.client_sets }) {
            return Err(OpError::AttributeReadOnly(id.name()));
        }
        object::check_change_allowed(m, &attribute)?;
        m.attributes.set(attribute.clone());
        object::refresh_state(&mut m.attributes, object::now());
        Ok(())
    })?;
    let payload = ResponsePayload::SetAttribute(Box::new(IdentifierResponse { unique_identifier: UniqueIdentifier::Text(uid) }));
    Ok(Outcome { payload, undo: Some(undo) })
}
