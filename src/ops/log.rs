//! Log (KMIP 2.x test control): writes the client's message to the server log.

use crate::kmip::payloads::{EmptyPayload, LogRequest};
use crate::kmip::ResponsePayload;

use super::{OpContext, OpError, Outcome};

pub(super) fn run(cx: &OpContext<'_>, request: &LogRequest) -> Result<Outcome, OpError> {
    // Debug formatting escapes control characters, so a client can't forge log lines.
    tracing::info!(
        target: "kmipd::client_log",
        connection = cx.request.connection_id,
        client = ?cx.request.client_identity,
        message = ?request.log_message,
        "client log message"
    );
    Ok(Outcome::reply(ResponsePayload::Log(Box::new(EmptyPayload {}))))
}
