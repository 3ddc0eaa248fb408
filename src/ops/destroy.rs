//! Destroy (KMIP 1.4 §4.21, 2.1 §6.1.15): destroys the HSM object and keeps the metadata,
//! by the two-phase protocol of DESIGN.md invariant 3. An Active object must be revoked or
//! deactivated first (Wrong Key Lifecycle State). A Template (1.x), which has neither HSM
//! object nor state, is removed with all its metadata.

use crate::kmip::attributes::Attribute;
use crate::kmip::enums::{ObjectType, Operation, State};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{IdentifierRequest, IdentifierResponse};
use crate::kmip::ResponsePayload;
use crate::store::{DestroyedForm, Lifecycle, StoreError};

use super::object;
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &IdentifierRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Destroy)?;
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    if cx.batch.undo_requested() {
        return Err(OpError::FeatureNotSupported("Destroy can't be undone; it is refused in an Undo batch".into()));
    }
    let mut m = object::load(cx, svc.store, &uid, Operation::Destroy)?;
    if matches!(m.record.lifecycle, Lifecycle::Destroying | Lifecycle::Destroyed) {
        return Err(OpError::ObjectDestroyed(uid));
    }
    if m.object_type() == Some(ObjectType::Template) {
        // "the object itself, including all meta-data, SHALL be destroyed" (KMIP 1.4 §4.21).
        svc.store.delete(&uid)?;
        return Ok(destroyed(uid));
    }
    let now = object::now();
    object::refresh_state(&mut m.attributes, now);
    let next = match m.state() {
        Some(State::Active) => {
            return Err(OpError::WrongState("an Active object can't be destroyed; revoke it first".into()))
        }
        Some(State::Compromised) => Some(State::DestroyedCompromised),
        Some(_) => Some(State::Destroyed),
        None => None,
    };
    let mut after = m.attributes.clone();
    if let Some(state) = next {
        after.set(Attribute::State(state));
    }
    after.set(Attribute::DestroyDate(now));
    after.set(Attribute::LastChangeDate(now));
    let form = DestroyedForm { attributes: after.encode()?, keys: after.index_keys() };
    svc.store.mark_destroying(&uid, m.record.revision, form)?;
    if m.record.hsm.is_some() {
        match svc.hsm.destroy(uid.as_bytes()) {
            Ok(()) => {}
            // Already gone (an earlier attempt died after the HSM call): finish the job.
            Err(e) if e.class() == crate::hsm::ErrorClass::NotFound => {}
            Err(e) => {
                if let Err(undo) = svc.store.cancel_destroying(&uid) {
                    tracing::error!(%uid, error = %undo, "a failed destroy left the record destroying");
                }
                return Err(e.into());
            }
        }
    }
    match svc.store.mark_destroyed(&uid) {
        Ok(_) => {}
        Err(StoreError::WrongLifecycle { .. }) => return Err(OpError::ObjectDestroyed(uid)),
        Err(e) => return Err(e.into()),
    }
    Ok(destroyed(uid))
}

fn destroyed(uid: String) -> Outcome {
    Outcome::reply(ResponsePayload::Destroy(Box::new(IdentifierResponse { unique_identifier: UniqueIdentifier::Text(uid) })))
}
