//! Interop (KMIP 2.x test control): marks the beginning, end or reset of an interoperability
//! test. kmipd keeps no per-test state, so it acknowledges and logs the marker.

use crate::kmip::enums::InteropFunction;
use crate::kmip::payloads::{EmptyPayload, InteropRequest};
use crate::kmip::ResponsePayload;

use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &InteropRequest) -> Result<Outcome, OpError> {
    if let InteropFunction::Extension(v) = request.interop_function {
        return Err(OpError::InvalidField(format!("Interop Function 0x{v:08X} is not defined")));
    }
    tracing::info!(
        target: "kmipd::interop",
        connection = cx.request.connection_id,
        client = ?cx.request.client_identity,
        function = ?request.interop_function,
        test = ?request.interop_identifier,
        "interop marker"
    );
    Ok(Outcome::reply(ResponsePayload::Interop(Box::new(EmptyPayload {}))))
}
