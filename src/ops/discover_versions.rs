//! Discover Versions (KMIP 1.4 §4.26, 2.1 §6.1.17): the protocol versions kmipd speaks,
//! preferred first, limited to those the client lists when it lists any.

use crate::kmip::payloads::DiscoverVersionsPayload;
use crate::kmip::ResponsePayload;

use super::version::{to_protocol_version, SUPPORTED_VERSIONS};
use super::{OpContext, OpError, Outcome};

pub(super) fn run(_cx: &OpContext<'_>, request: &DiscoverVersionsPayload) -> Result<Outcome, OpError> {
    let offered = &request.protocol_versions;
    let protocol_versions = SUPPORTED_VERSIONS
        .iter()
        .map(|v| to_protocol_version(*v))
        .filter(|v| offered.is_empty() || offered.contains(v))
        .collect();
    Ok(Outcome::reply(ResponsePayload::DiscoverVersions(Box::new(DiscoverVersionsPayload {
        protocol_versions,
    }))))
}
