//! Archive and Recover (KMIP 1.4 §4.22–4.23, 2.1 §6.1.2 and §6.1.47): kmipd keeps every
//! object on line, so archiving only marks it (Storage Status Mask, Archive Date) and makes
//! operations other than attribute reads answer Object Archived until it is recovered.

use crate::kmip::attributes::Attribute;
use crate::kmip::enums::Operation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{IdentifierRequest, IdentifierResponse};
use crate::kmip::ResponsePayload;
use crate::store::Lifecycle;

use super::object;
use super::{OpContext, OpError, Outcome};

pub(super) fn archive(cx: &OpContext<'_>, request: &IdentifierRequest) -> Result<Outcome, OpError> {
    let uid = set_archived(cx, request, Operation::Archive, true)?;
    Ok(Outcome::reply(ResponsePayload::Archive(Box::new(IdentifierResponse { unique_identifier: uid }))))
}

pub(super) fn recover(cx: &OpContext<'_>, request: &IdentifierRequest) -> Result<Outcome, OpError> {
    let uid = set_archived(cx, request, Operation::Recover, false)?;
    Ok(Outcome::reply(ResponsePayload::Recover(Box::new(IdentifierResponse { unique_identifier: uid }))))
}

fn set_archived(
    cx: &OpContext<'_>,
    request: &IdentifierRequest,
    operation: Operation,
    archived: bool,
) -> Result<UniqueIdentifier, OpError> {
    let svc = object::services(cx, operation)?;
    if cx.batch.undo_requested() {
        return Err(OpError::FeatureNotSupported(format!("{operation:?} can't be undone; it is refused in an Undo batch")));
    }
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    let ((), _) = object::modify(cx, svc.store, &uid, operation, |m| {
        if matches!(m.record.lifecycle, Lifecycle::Destroying | Lifecycle::Destroyed) {
            return Err(OpError::ObjectDestroyed(m.uid().to_owned()));
        }
        if archived {
            m.attributes.set(Attribute::ArchiveDate(object::now()));
        }
        Ok(())
    })?;
    svc.store.set_archived(&uid, archived)?;
    Ok(UniqueIdentifier::Text(uid))
}
