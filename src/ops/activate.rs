//! Activate (KMIP 1.4 §4.19, 2.1 §6.1.1): Pre-Active → Active, Activation Date = now.

use crate::kmip::attributes::Attribute;
use crate::kmip::enums::{Operation, State};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{IdentifierRequest, IdentifierResponse};
use crate::kmip::ResponsePayload;

use super::object;
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &IdentifierRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Activate)?;
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    let ((), undo) = object::modify(cx, svc.store, &uid, Operation::Activate, |m| {
        m.require_online()?;
        object::refresh_state(&mut m.attributes, object::now());
        match m.state() {
            Some(State::PreActive) => {}
            Some(other) => return Err(OpError::WrongState(format!("only a Pre-Active object can be activated; this one is {other:?}"))),
            None => return Err(OpError::InvalidObjectType("this object type has no lifecycle state".into())),
        }
        m.attributes.set(Attribute::State(State::Active));
        m.attributes.set(Attribute::ActivationDate(object::now()));
        Ok(())
    })?;
    let payload = ResponsePayload::Activate(Box::new(IdentifierResponse { unique_identifier: UniqueIdentifier::Text(uid) }));
    Ok(Outcome { payload, undo: Some(undo) })
}
