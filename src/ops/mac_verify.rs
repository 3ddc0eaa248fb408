//! MAC Verify (KMIP 1.4 §4.34, 2.1 §6.1.28) inside the HSM; a MAC that does not match is a
//! successful answer with Validity Indicator Invalid.

use crate::kmip::enums::{Operation, ValidityIndicator};
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{MacVerifyRequest, MacVerifyResponse};
use crate::kmip::ResponsePayload;

use super::crypto::{self, hsm_failure, MAC_VERIFY};
use super::object;
use super::stream::{self, Gathered};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &MacVerifyRequest) -> Result<Outcome, OpError> {
    let svc = object::services(cx, Operation::MACVerify)?;
    let step = stream::step(request.init_indicator, request.final_indicator, request.correlation_value.as_deref())?;
    let uid = stream::gathering_key(cx, (Operation::MACVerify, step), request.unique_identifier.as_ref())?;
    let m = crypto::usable_key(cx, &svc, &uid, &MAC_VERIFY)?;
    let (data, _) = crypto::message(request.data.as_ref(), None, step)?;
    let mut response = MacVerifyResponse {
        unique_identifier: UniqueIdentifier::Text(uid.clone()),
        validity_indicator: None,
        correlation_value: None,
    };
    let params = request.cryptographic_parameters.as_ref();
    match stream::gather(cx, svc.hsm, (Operation::MACVerify, step), Some(uid), params, data)? {
        Gathered::Pending(correlation) => response.correlation_value = Some(correlation),
        Gathered::Ready { data, params } => {
            let mac = request.mac_data.as_deref().ok_or_else(|| OpError::MissingData("MAC Verify needs MAC Data".into()))?;
            let params = crypto::parameters(&m, params.as_ref());
            let scheme = crypto::mac(crypto::algorithm(&m, &params), &params)?;
            let valid = svc.hsm.mac_verify(m.uid().as_bytes(), scheme, &data, mac).map_err(hsm_failure)?;
            response.validity_indicator =
                Some(if valid { ValidityIndicator::Valid } else { ValidityIndicator::Invalid });
        }
    }
    Ok(Outcome::reply(ResponsePayload::MACVerify(Box::new(response))))
}
