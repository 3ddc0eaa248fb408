//! Revoke (KMIP 1.4 §4.20, 2.1 §6.1.48): compromise (key or CA) moves the object to
//! Compromised (Destroyed Compromised when destroyed) with the Compromise dates; any other
//! reason deactivates it. The Revocation Reason is kept as an attribute.

use crate::kmip::attributes::Attribute;
use crate::kmip::enums::{Operation, RevocationReasonCode, State};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{IdentifierResponse, RevokeRequest};
use crate::kmip::ResponsePayload;

use super::object;
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &RevokeRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Revoke)?;
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    let compromised = matches!(
        request.revocation_reason.revocation_reason_code,
        RevocationReasonCode::KeyCompromise | RevocationReasonCode::CACompromise
    );
    let ((), undo) = object::modify(cx, svc.store, &uid, Operation::Revoke, |m| {
        let now = object::now();
        object::refresh_state(&mut m.attributes, now);
        let state = m.state().ok_or_else(|| OpError::InvalidObjectType("this object type has no lifecycle state".into()))?;
        let next = match (state, compromised) {
            (State::Destroyed | State::DestroyedCompromised, true) => State::DestroyedCompromised,
            (State::Destroyed | State::DestroyedCompromised, false) => {
                return Err(OpError::WrongState("a destroyed object can only be revoked as compromised".into()))
            }
            (State::Compromised, _) => State::Compromised,
            (_, true) => State::Compromised,
            (State::PreActive | State::Active | State::Deactivated, false) => State::Deactivated,
            (State::Extension(_), _) => return Err(OpError::WrongState("unknown state".into())),
        };
        if compromised {
            m.attributes.set(Attribute::CompromiseDate(now));
            let occurred = request.compromise_occurrence_date.unwrap_or(now);
            m.attributes.set(Attribute::CompromiseOccurrenceDate(occurred));
        } else if state != State::Deactivated {
            m.attributes.set(Attribute::DeactivationDate(now));
        }
        m.attributes.set(Attribute::State(next));
        m.attributes.set(Attribute::RevocationReason(request.revocation_reason.clone()));
        Ok(())
    })?;
    let payload = ResponsePayload::Revoke(Box::new(IdentifierResponse { unique_identifier: UniqueIdentifier::Text(uid) }));
    Ok(Outcome { payload, undo: Some(undo) })
}
