//! Audit events (DESIGN.md invariant 8): one per operation, on their own `tracing` target so
//! they can go to their own, never-lossy file (see [`crate::server::logging`]).
//!
//! An event names who did what to which object and how it ended. It never carries key bytes,
//! plaintext, PINs or other credentials: its fields are identifiers and names only.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::ops::RequestContext;

/// The `tracing` target of audit events.
pub const AUDIT_TARGET: &str = "kmipd::audit";

/// Sequence numbers start at 1 in each process; a gap in one run's sequence means lost events.
static NEXT_SEQUENCE: AtomicU64 = AtomicU64::new(1);

/// A KMIP protocol version as `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolVersion {
    /// Protocol Version Major.
    pub major: i32,
    /// Protocol Version Minor.
    pub minor: i32,
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One audited operation (one batch item).
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// When the operation finished.
    pub time: OffsetDateTime,
    /// The connection it arrived on ([`RequestContext::connection_id`]).
    pub connection_id: u64,
    /// The client's network address, when the request came over the network.
    pub peer: Option<SocketAddr>,
    /// The client's certificate subject DN.
    pub client: String,
    /// SHA-256 fingerprint of the client certificate, hex.
    pub client_fingerprint: String,
    /// The request's protocol version, when the header could be read.
    pub protocol_version: Option<ProtocolVersion>,
    /// The operation name as the spec writes it (`Create`, `Get`, ...).
    pub operation: String,
    /// Unique Identifiers of the objects involved.
    pub unique_identifiers: Vec<String>,
    /// Object Type name (`SymmetricKey`, ...), when known.
    pub object_type: Option<String>,
    /// Cryptographic Algorithm name (`AES`, ...), when known.
    pub algorithm: Option<String>,
    /// Result Status name (`Success`, `OperationFailed`, ...).
    pub result_status: String,
    /// Result Reason name (`PermissionDenied`, ...) on failure.
    pub result_reason: Option<String>,
    /// Time spent on the operation.
    pub duration: Duration,
}

impl AuditEvent {
    /// An event for `operation` in the request of `request`, stamped now, with the outcome still
    /// to be filled in (status empty, no objects).
    pub fn new(request: &RequestContext, operation: impl Into<String>) -> AuditEvent {
        AuditEvent {
            time: OffsetDateTime::now_utc(),
            connection_id: request.connection_id,
            peer: request.peer,
            client: request.client_identity.clone(),
            client_fingerprint: request.client_fingerprint.clone(),
            protocol_version: None,
            operation: operation.into(),
            unique_identifiers: Vec::new(),
            object_type: None,
            algorithm: None,
            result_status: String::new(),
            result_reason: None,
            duration: Duration::ZERO,
        }
    }

    /// Emits the event on [`AUDIT_TARGET`] at INFO level and returns its sequence number.
    pub fn emit(&self) -> u64 {
        let sequence = NEXT_SEQUENCE.fetch_add(1, Ordering::Relaxed);
        // RFC 3339 formatting of a UTC time can't fail; an empty field would still be logged.
        let time = self.time.format(&Rfc3339).unwrap_or_default();
        tracing::info!(
            target: AUDIT_TARGET,
            time = %time,
            seq = sequence,
            connection = self.connection_id,
            peer = self.peer.map(|p| p.to_string()),
            client = %self.client,
            client_fingerprint = %self.client_fingerprint,
            protocol_version = self.protocol_version.map(|v| v.to_string()),
            operation = %self.operation,
            unique_identifiers = %self.unique_identifiers.join(","),
            object_type = self.object_type.as_deref(),
            algorithm = self.algorithm.as_deref(),
            result_status = %self.result_status,
            result_reason = self.result_reason.as_deref(),
            duration_us = u64::try_from(self.duration.as_micros()).unwrap_or(u64::MAX),
            "audit"
        );
        sequence
    }
}
