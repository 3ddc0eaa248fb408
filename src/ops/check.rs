//! Check (KMIP 1.4 §4.10, 2.1 §6.1.4): would the object serve the use described? kmipd
//! checks the Cryptographic Usage Mask and that the object is usable (on line, not
//! destroyed); usage limits and leases are not allocated by kmipd, so those fields are
//! accepted as they are. A refused mask fails the item: Incompatible Cryptographic Usage Mask
//! in 2.x, Permission Denied in 1.x (1.4 §11.11), without a Response Payload (as the OASIS
//! BL-M-2/3-21 answers).

use crate::kmip::enums::{Operation, ResultReason};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::CheckPayload;
use crate::kmip::ResponsePayload;

use super::object;
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &CheckPayload) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::Check)?;
    let uid = cx.batch.resolve(request.unique_identifier.as_ref())?;
    let m = object::load(cx, svc.store, &uid, Operation::Check)?;
    m.require_online()?;
    if let Some(wanted) = request.cryptographic_usage_mask {
        let allowed = m.attributes.usage_mask().unwrap_or(0);
        if wanted & !allowed != 0 {
            return Err(OpError::CheckFailed(ResultReason::IncompatibleCryptographicUsageMask));
        }
    }
    Ok(Outcome::reply(ResponsePayload::Check(Box::new(CheckPayload {
        unique_identifier: Some(UniqueIdentifier::Text(uid)),
        usage_limits_count: None,
        cryptographic_usage_mask: None,
        lease_time: None,
    }))))
}
