//! The operations layer: turns one encoded KMIP request into one encoded response.
//!
//! [`Processor::process`] decodes the TTLV bytes (limits from [`Limits`]), reads the typed
//! request parts ([`crate::kmip::message`]), negotiates the protocol version ([`version`]),
//! runs the batch items and encodes the Response Message in the negotiated version. It is
//! synchronous: the network layer calls it from a blocking thread, one request at a time
//! per connection.
//!
//! # Batch semantics
//!
//! - **Batch Count** must equal the number of Batch Items, and at most
//!   [`Limits::max_batch_items`] are accepted; otherwise the request fails as a whole.
//! - **Batch Order Option**: items always run in the order they appear, which satisfies both
//!   values.
//! - **ID Placeholder** and 2.x identifier references: see [`batch`].
//! - **Batch Error Continuation Option**: *Stop* (the default) answers the items processed up
//!   to and including the failed one and drops the rest (KMIP 1.4 §11.43); *Continue* runs
//!   every item; *Undo* runs the compensating action of every earlier successful item in
//!   reverse order and reports those items as Operation Undone. An operation whose effect
//!   can't be reversed checks [`BatchState::undo_requested`] and refuses up front with
//!   Feature Not Supported, which fails the batch before anything irreversible happens.
//! - **Unique Batch Item ID** is echoed on every answer to an item that carried one (also on
//!   failures, when it can be read).
//! - **Maximum Response Size**: the limit is the smaller of the request's value and
//!   [`Limits::max_response_bytes`]. An item whose answer would push the encoded response
//!   over it fails with Response Too Large (a failure, so the continuation option applies);
//!   that answer drops its optional Result Message when the message itself would not fit.
//! - **Asynchronous Indicator**: kmipd never answers asynchronously. A 1.x `true` or a 2.x
//!   `Optional` only says the client *could* accept a pending answer, so the request is
//!   processed synchronously, as the specification allows; a 2.x `Mandatory` fails the
//!   request with Feature Not Supported.
//! - A Message Extension marked critical fails its item (Unknown Message Extension in 2.x,
//!   Feature Not Supported in 1.x); non-critical ones are ignored.
//!
//! # Failures
//!
//! Every failure is an [`OpError`], answered with Result Status Operation Failed, the Result
//! Reason of [`OpError::reason`] as the response's version can express it
//! ([`reason_in_version`]) and the error text as Result Message. A request that can't be
//! read as a whole is answered with one Batch Item without Operation (KMIP 1.4 §11.1). When
//! the bytes are not TTLV and no Request Header can be salvaged from them, there is nothing
//! to answer: [`Reply::Close`] tells the connection to close.
//!
//! # Adding an operation
//!
//! Write `src/ops/<operation>.rs` with `pub(super) fn run(cx: &OpContext<'_>, request:
//! &XxxRequest) -> Result<Outcome, OpError>` and route it in `handler` (this file). The
//! operation resolves the object it acts on with `cx.batch.resolve(..)`, reaches the HSM and
//! the store through `cx.backend` (add what it needs to [`Backend`]), and returns its typed
//! response payload, with an undo action if it changed something reversible. The batch
//! processor sets the ID Placeholder from that payload; Query lists the operation
//! automatically; object types go into `query::OBJECT_TYPES`.

mod activate;
mod add_attribute;
mod archive;
pub mod batch;
mod certificate;
mod check;
mod cipher;
mod create;
mod create_key_pair;
mod crypto;
mod decrypt;
mod delete_attribute;
mod derive_key;
mod destroy;
mod discover_versions;
mod encrypt;
mod envelope;
pub mod error;
mod interop;
mod get;
mod get_attributes;
mod grants;
mod hash;
mod locate;
mod log;
mod mac;
mod mac_verify;
pub mod material;
mod modify_attribute;
mod object;
mod query;
mod register;
mod rekey;
mod rekey_key_pair;
mod revoke;
mod rng_retrieve;
mod rng_seed;
mod set_attribute;
mod sign;
mod signature_verify;
pub mod stream;
pub mod version;
mod wrapping;

pub use query::claimed_profiles;

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::hsm::Hsm;
use crate::kmip::attributes::check_in_version;
use crate::store::Store;
use crate::kmip::codec::{DateTime, FromTtlv, Path, ToTtlv};
use crate::kmip::enums::{self, BatchErrorContinuationOption, Operation, ResultReason, ResultStatus};
use crate::kmip::message::{AsynchronousIndicator, RequestHeader, ResponseHeader};
use crate::kmip::{
    KmipEnum, RequestBatchItem, RequestPayload, ResponseBatchItem, ResponseMessage, ResponsePayload,
};
use crate::ttlv::binary::{self, DecodeError, DecodeLimits, HEADER_LEN};
use crate::ttlv::registry::Version;
use crate::ttlv::{ItemType, Tag, Ttlv, Value};
use zeroize::Zeroizing;

pub use batch::BatchState;
pub use envelope::ensure_key as ensure_envelope_key;
pub use error::{reason_in_version, OpError};
use version::Negotiated;

/// The handles object operations act through: the HSM, the metadata store and the server's
/// policy. Object operations answer Operation Not Supported when either handle is absent,
/// so a protocol-only processor (tests, [`NoBackend`]) still answers the rest.
pub trait Backend: Send + Sync {
    /// The HSM holding key material.
    fn hsm(&self) -> Option<&dyn Hsm> {
        None
    }

    /// The store holding every object's KMIP metadata.
    fn store(&self) -> Option<&dyn Store> {
        None
    }

    /// Server-wide rules for new objects.
    fn policy(&self) -> Policy {
        Policy::default()
    }
}

/// A backend with nothing behind it, for a server that offers only the protocol-level
/// operations (and for tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBackend;

impl Backend for NoBackend {}

/// Server-wide rules applied to new objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Whether a symmetric key, private key or secret created or registered without
    /// Sensitive / Extractable attributes may be returned by Get. `false` (the production
    /// default, DESIGN.md invariant 1) keeps it sensitive and unextractable inside the HSM
    /// unless the client asks otherwise; `true` follows the KMIP defaults (Sensitive false,
    /// Extractable true), as `kmipd dev` and conformance runs need.
    pub extractable_by_default: bool,
}

/// Bounds applied to every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// TTLV decoding limits (message size, nesting depth).
    pub decode: DecodeLimits,
    /// Most Batch Items accepted in one request.
    pub max_batch_items: usize,
    /// Largest encoded response the server produces, whatever the client allows.
    pub max_response_bytes: usize,
}

impl Default for Limits {
    /// 16 MiB messages 64 levels deep, 1,000 batch items, 16 MiB responses.
    fn default() -> Self {
        Limits {
            decode: DecodeLimits::default(),
            max_batch_items: 1_000,
            max_response_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Who sent a request, and over which connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[derive(Default)]
pub struct RequestContext {
    /// The authenticated client identity (from the client certificate).
    pub client_identity: String,
    /// SHA-256 fingerprint of the client certificate, hex (empty when there is none), for audit.
    pub client_fingerprint: String,
    /// The client's network address, for audit.
    pub peer: Option<std::net::SocketAddr>,
    /// The server's identifier of the connection, for logs and audit.
    pub connection_id: u64,
    /// Whether the identity is one of the configured admin identities: admins may act on
    /// every object.
    pub is_admin: bool,
}

/// What the connection does with a request's answer.
#[derive(Clone, PartialEq, Eq)]
pub enum Reply {
    /// Send these bytes (an encoded Response Message; zeroized when dropped, since a Get
    /// answer holds key material).
    Send(Zeroizing<Vec<u8>>),
    /// Close the connection without answering: nothing in the request could be read.
    Close(CloseReason),
}

impl std::fmt::Debug for Reply {
    // The bytes may hold key material: show their length only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Send(bytes) => write!(f, "Send({} bytes)", bytes.len()),
            Reply::Close(reason) => f.debug_tuple("Close").field(reason).finish(),
        }
    }
}

/// Why a request can't be answered at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The bytes are not a TTLV item and hold no readable Request Header.
    Undecodable(DecodeError),
    /// The TTLV item is not a Request Message and holds no readable Request Header.
    NotARequest,
    /// The response could not be encoded (an item over 4 GiB: a server bug).
    Unencodable,
}

/// Reverses the effect of a successful item when a later item of an Undo batch fails.
pub type UndoAction = Box<dyn FnOnce(&dyn Backend) -> Result<(), OpError> + Send>;

/// One undo action running `steps` in order, stopping at the first that fails (an operation
/// that changed several things reverses the latest first).
fn undo_in_order(steps: Vec<UndoAction>) -> UndoAction {
    Box::new(move |backend| steps.into_iter().try_for_each(|step| step(backend)))
}

/// What a successful operation hands back to the batch processor.
pub struct Outcome {
    /// The typed response payload.
    pub payload: ResponsePayload,
    /// How to reverse what the operation changed; `None` when it changed nothing.
    pub undo: Option<UndoAction>,
}

impl Outcome {
    /// The outcome of an operation that changed nothing.
    pub fn reply(payload: ResponsePayload) -> Outcome {
        Outcome { payload, undo: None }
    }

    /// The same outcome, reversible by `undo`.
    pub fn with_undo(self, undo: UndoAction) -> Outcome {
        Outcome { undo: Some(undo), ..self }
    }
}

/// Everything an operation may use while it runs.
pub struct OpContext<'a> {
    /// Who asked.
    pub request: &'a RequestContext,
    /// The request header (credentials, attestation, correlation values).
    pub header: &'a RequestHeader,
    /// The ID Placeholder and earlier results of this batch.
    pub batch: &'a BatchState,
    /// The HSM and the store.
    pub backend: &'a dyn Backend,
    /// What the audit event of this item says about the object acted on.
    pub audit: &'a AuditNote,
    /// The server's open multi-part cryptographic operations.
    pub streams: &'a stream::Streams,
}

impl OpContext<'_> {
    /// The negotiated protocol version: the response is written in it.
    pub fn version(&self) -> Version {
        self.batch.version()
    }

    /// Records the type and algorithm of the object the operation acts on, for its audit event.
    pub(crate) fn note_object(&self, keys: &crate::store::IndexKeys) {
        self.audit.object_type.set(Some(keys.object_type));
        self.audit.algorithm.set(keys.cryptographic_algorithm);
    }
}

/// Per batch item: when it started and what it acted on, for its audit event
/// (DESIGN.md invariant 8). Filled by the operation through [`OpContext::note_object`].
#[derive(Debug)]
pub struct AuditNote {
    started: Instant,
    object_type: std::cell::Cell<Option<u32>>,
    algorithm: std::cell::Cell<Option<u32>>,
}

impl AuditNote {
    fn start() -> AuditNote {
        AuditNote { started: Instant::now(), object_type: Default::default(), algorithm: Default::default() }
    }
}

/// Runs a batch item's operation.
type Handler = fn(&OpContext<'_>, &RequestPayload) -> Result<Outcome, OpError>;

/// A [`Handler`] for an operation whose typed request is `RequestPayload::$variant`.
macro_rules! typed {
    ($variant:ident, $run:path) => {
        (|cx: &OpContext<'_>, payload: &RequestPayload| match payload {
            RequestPayload::$variant(request) => $run(cx, request),
            other => Err(OpError::Internal(format!(
                "{:?} payload routed to {}",
                other.operation(),
                stringify!($variant)
            ))),
        }) as Handler
    };
}

/// The one dispatch table: the handler of every operation kmipd implements, `None` for the
/// others (answered Operation Not Supported). Exhaustive, so a new operation value must be
/// decided on here; Query reports exactly the operations that have a handler.
fn handler(operation: Operation) -> Option<Handler> {
    match operation {
        Operation::DiscoverVersions => Some(typed!(DiscoverVersions, discover_versions::run)),
        Operation::Query => Some(typed!(Query, query::run)),
        Operation::Interop => Some(typed!(Interop, interop::run)),
        Operation::Log => Some(typed!(Log, log::run)),
        Operation::Create => Some(typed!(Create, create::run)),
        Operation::Locate => Some(typed!(Locate, locate::run)),
        Operation::Check => Some(typed!(Check, check::run)),
        Operation::GetAttributes => Some(typed!(GetAttributes, get_attributes::get_attributes)),
        Operation::GetAttributeList => Some(typed!(GetAttributeList, get_attributes::get_attribute_list)),
        Operation::AddAttribute => Some(typed!(AddAttribute, add_attribute::run)),
        Operation::ModifyAttribute => Some(typed!(ModifyAttribute, modify_attribute::run)),
        Operation::DeleteAttribute => Some(typed!(DeleteAttribute, delete_attribute::run)),
        Operation::SetAttribute => Some(typed!(SetAttribute, set_attribute::run)),
        Operation::Activate => Some(typed!(Activate, activate::run)),
        Operation::Revoke => Some(typed!(Revoke, revoke::run)),
        Operation::Destroy => Some(typed!(Destroy, destroy::run)),
        Operation::Archive => Some(typed!(Archive, archive::archive)),
        Operation::Recover => Some(typed!(Recover, archive::recover)),
        Operation::CreateKeyPair => Some(typed!(CreateKeyPair, create_key_pair::run)),
        Operation::Register => Some(typed!(Register, register::run)),
        Operation::Get => Some(typed!(Get, get::run)),
        Operation::Encrypt => Some(typed!(Encrypt, encrypt::run)),
        Operation::Decrypt => Some(typed!(Decrypt, decrypt::run)),
        Operation::Sign => Some(typed!(Sign, sign::run)),
        Operation::SignatureVerify => Some(typed!(SignatureVerify, signature_verify::run)),
        Operation::MAC => Some(typed!(MAC, mac::run)),
        Operation::MACVerify => Some(typed!(MACVerify, mac_verify::run)),
        Operation::Hash => Some(typed!(Hash, hash::run)),
        Operation::RNGRetrieve => Some(typed!(RNGRetrieve, rng_retrieve::run)),
        Operation::RNGSeed => Some(typed!(RNGSeed, rng_seed::run)),
        Operation::ReKey => Some(typed!(ReKey, rekey::run)),
        Operation::ReKeyKeyPair => Some(typed!(ReKeyKeyPair, rekey_key_pair::run)),
        Operation::DeriveKey => Some(typed!(DeriveKey, derive_key::run)),
        // Not yet: Adjust Attribute (2.1).
        Operation::AdjustAttribute => None,
        // Not planned: certificates, leases, splitting, import/export, sessions,
        // server-to-client and asynchronous operations, PKCS#11, 3.0 drafts, extensions.
        Operation::Certify
        | Operation::ReCertify
        | Operation::ObtainLease
        | Operation::GetUsageAllocation
        | Operation::Validate
        | Operation::Cancel
        | Operation::Poll
        | Operation::Notify
        | Operation::Put
        | Operation::CreateSplitKey
        | Operation::JoinSplitKey
        | Operation::Import
        | Operation::Export
        | Operation::Login
        | Operation::Logout
        | Operation::DelegatedLogin
        | Operation::SetEndpointRole
        | Operation::PKCS_11
        | Operation::ReProvision
        | Operation::SetDefaults
        | Operation::SetConstraints
        | Operation::GetConstraints
        | Operation::QueryAsynchronousRequests
        | Operation::Process
        | Operation::Ping
        | Operation::CreateGroup
        | Operation::Obliterate
        | Operation::CreateUser
        | Operation::CreateCredential
        | Operation::Deactivate
        | Operation::Extension(_) => None,
    }
}

/// Whether kmipd implements `operation` (in any version).
pub fn implements(operation: Operation) -> bool {
    handler(operation).is_some()
}

/// The request processor: one per server, shared by every connection.
pub struct Processor {
    limits: Limits,
    backend: Arc<dyn Backend>,
    streams: stream::Streams,
}

/// How one request's batch runs.
struct Plan {
    version: Version,
    continuation: BatchErrorContinuationOption,
    /// Largest response allowed, in bytes.
    limit: usize,
    /// Encoded size of the message and response header around the items.
    header_size: usize,
}

/// A request read into its TTLV tree, not yet run ([`Processor::decode`], [`Processor::run`]).
pub struct DecodedRequest {
    tree: Ttlv,
}

/// Batch items up to which a store-only request runs where it was read (see [`DecodedRequest::reads_store_only`]).
const INLINE_ITEMS: usize = 8;

impl DecodedRequest {
    /// Whether this request only reads a few records: at most [`INLINE_ITEMS`] batch items, each DiscoverVersions,
    /// Get Attributes or Get Attribute List. These make no PKCS#11 call, no flushed write and read one record each,
    /// so the server may run them on the async worker that read them, saving the hand-off to a blocking thread and
    /// back (two thread wake-ups, the largest fixed cost of a short request on a small machine). Locate is not
    /// among them: without filters it walks the whole store. Anything else, or anything unreadable, says no.
    pub fn reads_store_only(&self) -> bool {
        let Some((_, Ok(items))) = split_message(&self.tree) else { return false };
        items.len() <= INLINE_ITEMS
            && items.iter().all(|raw| {
                matches!(
                    item_ids(raw).0,
                    Some(
                        Operation::DiscoverVersions | Operation::GetAttributes
                            | Operation::GetAttributeList
                    )
                )
            })
    }
}

/// A request that fails as a whole, answered with one Batch Item without Operation.
struct Refusal {
    version: Version,
    error: OpError,
}

impl Processor {
    /// A processor with these limits, acting through `backend`.
    pub fn new(limits: Limits, backend: Arc<dyn Backend>) -> Processor {
        Processor { limits, backend, streams: stream::Streams::default() }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Answers one encoded request.
    pub fn process(&self, ctx: &RequestContext, request: &[u8]) -> Reply {
        match self.decode(request) {
            Ok(request) => self.run(ctx, &request),
            Err(reply) => reply,
        }
    }

    /// Reads one encoded request; what cannot be read is answered (or the connection closed) right away.
    pub fn decode(&self, request: &[u8]) -> Result<DecodedRequest, Reply> {
        match binary::decode(request, &self.limits.decode) {
            Ok(tree) => Ok(DecodedRequest { tree }),
            Err(e) => Err(match salvage_from_bytes(request, &self.limits.decode) {
                Some(version) => self.refuse(Refusal {
                    version,
                    error: OpError::InvalidMessage(format!("undecodable TTLV: {e}")),
                }),
                None => Reply::Close(CloseReason::Undecodable(e)),
            }),
        }
    }

    /// Answers a decoded request.
    pub fn run(&self, ctx: &RequestContext, request: &DecodedRequest) -> Reply {
        self.run_with(ctx, request, &mut |cx, item| match handler(item.operation) {
            Some(run) => run(cx, &item.payload),
            None => Err(OpError::OperationNotSupported { operation: item.operation, detail: "" }),
        })
    }

    /// [`Processor::process`] with the operations supplied by `execute` (tests drive the batch
    /// semantics with operations that the server does not implement yet).
    #[cfg(test)]
    fn process_with(
        &self,
        ctx: &RequestContext,
        request: &[u8],
        execute: &mut dyn FnMut(&OpContext<'_>, &RequestBatchItem) -> Result<Outcome, OpError>,
    ) -> Reply {
        match self.decode(request) {
            Ok(request) => self.run_with(ctx, &request, execute),
            Err(reply) => reply,
        }
    }

    fn run_with(
        &self,
        ctx: &RequestContext,
        request: &DecodedRequest,
        execute: &mut dyn FnMut(&OpContext<'_>, &RequestBatchItem) -> Result<Outcome, OpError>,
    ) -> Reply {
        match self.respond(ctx, &request.tree, execute) {
            Ok(message) => encode(&message),
            Err(None) => Reply::Close(CloseReason::NotARequest),
            Err(Some(refusal)) => self.refuse(refusal),
        }
    }

    fn respond(
        &self,
        ctx: &RequestContext,
        tree: &Ttlv,
        execute: &mut dyn FnMut(&OpContext<'_>, &RequestBatchItem) -> Result<Outcome, OpError>,
    ) -> Result<Ttlv, Option<Refusal>> {
        let (header_item, raw_items) = split_message(tree).ok_or(None)?;
        let salvaged = salvage_from_header(header_item);
        let header = RequestHeader::from_ttlv_item(header_item, &Path::root(Tag::REQUEST_HEADER))
            .map_err(|e| Some(Refusal { version: salvaged.unwrap_or(version::OLDEST), error: e.into() }))?;
        let version = match version::negotiate(header.protocol_version.major, header.protocol_version.minor) {
            Negotiated::Speak(v) => v,
            Negotiated::Refuse(v) => {
                return Err(Some(Refusal {
                    version: v,
                    error: OpError::UnsupportedProtocolVersion {
                        requested: version::describe(&header.protocol_version),
                        supported: version::describe_supported(),
                    },
                }))
            }
        };
        let refuse = |error: OpError| Some(Refusal { version, error });
        let raw_items = raw_items.map_err(refuse)?;
        check_in_version(header_item, version).map_err(|e| refuse(e.into()))?;
        self.check_header(&header, raw_items.len()).map_err(refuse)?;
        let continuation = match header.batch_error_continuation_option {
            None => BatchErrorContinuationOption::Stop,
            Some(BatchErrorContinuationOption::Extension(v)) => {
                return Err(refuse(OpError::InvalidField(format!(
                    "Batch Error Continuation Option 0x{v:08X} is not defined"
                ))))
            }
            Some(option) => option,
        };
        let limit = match header.maximum_response_size {
            Some(size) => usize::try_from(size).unwrap_or(0).min(self.limits.max_response_bytes),
            None => self.limits.max_response_bytes,
        };
        let response_header = response_header(version, 0);
        let header_size =
            HEADER_LEN + binary::encoded_len(&response_header.to_ttlv_item(Tag::RESPONSE_HEADER));
        let plan = Plan { version, continuation, limit, header_size };
        let answers = self.run_batch(ctx, &header, &plan, raw_items, execute);
        let count = i32::try_from(answers.len()).unwrap_or(i32::MAX);
        let mut children = Vec::with_capacity(answers.len() + 1);
        children.push(response_header_with_count(response_header, count).to_ttlv_item(Tag::RESPONSE_HEADER));
        children.extend(answers.into_iter().map(|a| a.encoded));
        Ok(Ttlv::structure(Tag::RESPONSE_MESSAGE, children))
    }

    /// Runs the batch items in order under the continuation option; the answers to send.
    fn run_batch(
        &self,
        ctx: &RequestContext,
        header: &RequestHeader,
        plan: &Plan,
        raw_items: &[Ttlv],
        execute: &mut dyn FnMut(&OpContext<'_>, &RequestBatchItem) -> Result<Outcome, OpError>,
    ) -> Vec<Answer> {
        let version = plan.version;
        let mut batch = BatchState::new(version, plan.continuation);
        let mut size = plan.header_size;
        let mut answers: Vec<Answer> = Vec::with_capacity(raw_items.len());
        let mut undo: Vec<(usize, UndoAction)> = Vec::new();
        for raw in raw_items {
            let note = AuditNote::start();
            let answer = match self.run_item(ctx, header, &batch, &note, raw, execute) {
                Ok((item, outcome)) => {
                    if let Some(action) = outcome.undo {
                        undo.push((answers.len(), action));
                    }
                    self.answer_success(ctx, &mut batch, &note, item, outcome.payload, Room { used: size, limit: plan.limit })
                }
                Err(e) => {
                    let (operation, unique_batch_item_id) = item_ids(raw);
                    batch.record_failure(operation);
                    self.failed(ctx, &note, operation, unique_batch_item_id, &e, version)
                }
            };
            size += binary::encoded_len(&answer.encoded);
            let succeeded = answer.succeeded;
            answers.push(answer);
            if !succeeded {
                match plan.continuation {
                    BatchErrorContinuationOption::Continue => continue,
                    BatchErrorContinuationOption::Undo => self.undo(ctx, &mut answers, undo, version),
                    _ => {}
                }
                break;
            }
        }
        answers
    }

    /// The answer to an item whose operation succeeded: sent as it is if the version can
    /// express it and it fits in the response, else a failure.
    fn answer_success(
        &self,
        ctx: &RequestContext,
        batch: &mut BatchState,
        note: &AuditNote,
        item: RequestBatchItem,
        payload: ResponsePayload,
        room: Room,
    ) -> Answer {
        let version = batch.version();
        // Encoded once: checked, measured, mined for identifiers and sent as is.
        let encoded = success(&item, payload).to_ttlv_item(Tag::BATCH_ITEM);
        let checked = version::check_in_version(&encoded, version)
            .map_err(|e| OpError::Internal(format!("response not expressible in KMIP {version}: {e}")))
            .and_then(|()| room.fits(binary::encoded_len(&encoded)));
        if let Err(e) = checked {
            let mut answer = self.failed(ctx, note, Some(item.operation), item.unique_batch_item_id, &e, version);
            if matches!(e, OpError::ResponseTooLarge { .. })
                && room.fits(binary::encoded_len(&answer.encoded)).is_err()
            {
                // The Result Message is optional: drop it rather than overflow the client's limit.
                if let Value::Structure(children) = &mut answer.encoded.value {
                    children.retain(|c| c.tag != Tag::RESULT_MESSAGE);
                }
            }
            return answer;
        }
        let returned = batch.record(item.operation, encoded.child(Tag::RESPONSE_PAYLOAD));
        audit(ctx, note, version, &item.operation, &encoded, &returned);
        Answer {
            operation: Some(item.operation),
            unique_batch_item_id: item.unique_batch_item_id,
            succeeded: true,
            encoded,
        }
    }

    /// The answer to a failed item (audited).
    fn failed(
        &self,
        ctx: &RequestContext,
        note: &AuditNote,
        operation: Option<Operation>,
        unique_batch_item_id: Option<Vec<u8>>,
        error: &OpError,
        version: Version,
    ) -> Answer {
        let encoded =
            failure(operation, unique_batch_item_id.clone(), error, version).to_ttlv_item(Tag::BATCH_ITEM);
        if let Some(op) = &operation {
            audit(ctx, note, version, op, &encoded, &[]);
        }
        Answer { operation, unique_batch_item_id, succeeded: false, encoded }
    }

    /// Message-level checks of a readable header.
    fn check_header(&self, header: &RequestHeader, items: usize) -> Result<(), OpError> {
        if items > self.limits.max_batch_items {
            return Err(OpError::ServerLimitExceeded(format!(
                "{items} batch items, at most {} accepted",
                self.limits.max_batch_items
            )));
        }
        if usize::try_from(header.batch_count).ok() != Some(items) {
            return Err(OpError::InvalidMessage(format!(
                "Batch Count is {} but the message holds {items} batch items",
                header.batch_count
            )));
        }
        if let Some(size) = header.maximum_response_size {
            if size <= 0 {
                return Err(OpError::InvalidField(format!("Maximum Response Size {size} is not positive")));
            }
        }
        if header.asynchronous_indicator
            == Some(AsynchronousIndicator::Enumeration(enums::AsynchronousIndicator::Mandatory))
        {
            return Err(OpError::FeatureNotSupported(
                "asynchronous processing: kmipd answers every request synchronously".into(),
            ));
        }
        Ok(())
    }

    fn run_item(
        &self,
        ctx: &RequestContext,
        header: &RequestHeader,
        batch: &BatchState,
        note: &AuditNote,
        raw: &Ttlv,
        execute: &mut dyn FnMut(&OpContext<'_>, &RequestBatchItem) -> Result<Outcome, OpError>,
    ) -> Result<(RequestBatchItem, Outcome), OpError> {
        let version = batch.version();
        if let (Some(operation), _) = item_ids(raw) {
            if !version::enum_value_in_version(Tag::OPERATION, operation.to_u32(), version) {
                return Err(OpError::OperationNotSupported {
                    operation,
                    detail: " in this protocol version",
                });
            }
        }
        // A field the request's version does not define is an unknown field (1.4 §11.1).
        check_in_version(raw, version)?;
        let item = RequestBatchItem::from_ttlv_item(raw, &Path::root(Tag::BATCH_ITEM))?;
        if let Some(critical) = item.message_extensions.iter().find(|e| e.criticality_indicator) {
            return Err(OpError::UnknownMessageExtension { vendor: critical.vendor_identification.clone() });
        }
        let cx = OpContext {
            request: ctx,
            header,
            batch,
            backend: self.backend.as_ref(),
            audit: note,
            streams: &self.streams,
        };
        let outcome = execute(&cx, &item)?;
        Ok((item, outcome))
    }

    /// Reverses every undoable item in reverse order and marks the earlier successes undone.
    fn undo(
        &self,
        ctx: &RequestContext,
        answers: &mut [Answer],
        actions: Vec<(usize, UndoAction)>,
        version: Version,
    ) {
        // Items with effects whose answer failed (e.g. Response Too Large) are reversed too.
        for (index, action) in actions.into_iter().rev() {
            if let Err(e) = action(self.backend.as_ref()) {
                if let Some(answer) = answers.get_mut(index) {
                    let reversal = OpError::Internal(format!("could not be undone: {e}"));
                    *answer = self.failed(
                        ctx,
                        &AuditNote::start(),
                        answer.operation,
                        answer.unique_batch_item_id.take(),
                        &reversal,
                        version,
                    );
                }
            }
        }
        // An undone item keeps its payload (what was done and then reversed), as the OASIS
        // reference answers show.
        for answer in answers.iter_mut().filter(|a| a.succeeded) {
            answer.succeeded = false;
            if let Value::Structure(children) = &mut answer.encoded.value {
                for child in children.iter_mut().filter(|c| c.tag == Tag::RESULT_STATUS) {
                    *child = Ttlv::enumeration(Tag::RESULT_STATUS, ResultStatus::OperationUndone.to_u32());
                }
            }
        }
    }

    fn refuse(&self, refusal: Refusal) -> Reply {
        let answer = failure(None, None, &refusal.error, refusal.version);
        encode(
            &ResponseMessage { header: response_header(refusal.version, 1), batch_items: vec![answer] }
                .to_ttlv(),
        )
    }
}

/// The header and the batch items of a Request Message tree; `None` when it is not a
/// request at all, an inner `Err` when its item list is malformed.
fn split_message(tree: &Ttlv) -> Option<(&Ttlv, Result<&[Ttlv], OpError>)> {
    if tree.tag != Tag::REQUEST_MESSAGE || tree.item_type() != ItemType::Structure {
        return None;
    }
    let (header, items) = tree.children().split_first()?;
    if header.tag != Tag::REQUEST_HEADER {
        return None;
    }
    let items = if items.is_empty() {
        Err(OpError::InvalidMessage("the message holds no batch item".into()))
    } else if let Some(stray) = items.iter().find(|i| i.tag != Tag::BATCH_ITEM) {
        Err(OpError::InvalidMessage(format!("{} where a Batch Item is expected", stray.tag)))
    } else {
        Ok(items)
    };
    Some((header, items))
}

/// The version of a request whose bytes don't decode, when its Request Header (the first
/// child, a complete item of its own) does.
fn salvage_from_bytes(bytes: &[u8], limits: &DecodeLimits) -> Option<Version> {
    let outer: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
    let [t0, t1, t2, item_type, ..] = *outer;
    if Tag(u32::from_be_bytes([0, t0, t1, t2])) != Tag::REQUEST_MESSAGE
        || item_type != ItemType::Structure.code()
    {
        return None;
    }
    let inner: &[u8; HEADER_LEN] = bytes.get(HEADER_LEN..2 * HEADER_LEN)?.try_into().ok()?;
    let len = binary::frame_len(inner, limits.max_bytes).ok()?;
    let header = binary::decode(bytes.get(HEADER_LEN..HEADER_LEN.checked_add(len)?)?, limits).ok()?;
    if header.tag != Tag::REQUEST_HEADER {
        return None;
    }
    salvage_from_header(&header)
}

/// The version to answer a request whose header reads this far in: the negotiated version of
/// its Protocol Version, if that much is readable.
fn salvage_from_header(header: &Ttlv) -> Option<Version> {
    let pv = header.child(Tag::PROTOCOL_VERSION)?;
    let int = |tag| match pv.child(tag).map(|i| &i.value) {
        Some(Value::Integer(v)) => Some(*v),
        _ => None,
    };
    Some(match version::negotiate(int(Tag::PROTOCOL_VERSION_MAJOR)?, int(Tag::PROTOCOL_VERSION_MINOR)?) {
        Negotiated::Speak(v) | Negotiated::Refuse(v) => v,
    })
}

/// The Operation and Unique Batch Item ID of a raw item, as far as they can be read, to echo
/// them on an item that failed to decode.
fn item_ids(raw: &Ttlv) -> (Option<Operation>, Option<Vec<u8>>) {
    let operation = match raw.child(Tag::OPERATION).map(|o| &o.value) {
        Some(Value::Enumeration(v)) => Operation::from_u32(*v),
        _ => None,
    };
    let id = match raw.child(Tag::UNIQUE_BATCH_ITEM_ID).map(|i| &i.value) {
        Some(Value::ByteString(b)) => Some(b.clone()),
        _ => None,
    };
    (operation, id)
}

/// How much of the response is used so far, and how large it may grow.
#[derive(Debug, Clone, Copy)]
struct Room {
    used: usize,
    limit: usize,
}

impl Room {
    /// Whether an item of `item` encoded bytes still fits.
    fn fits(self, item: usize) -> Result<(), OpError> {
        let total = self.used.saturating_add(item);
        if total > self.limit {
            Err(OpError::ResponseTooLarge { size: total, limit: self.limit })
        } else {
            Ok(())
        }
    }
}

fn success(item: &RequestBatchItem, payload: ResponsePayload) -> ResponseBatchItem {
    ResponseBatchItem {
        operation: Some(item.operation),
        unique_batch_item_id: item.unique_batch_item_id.clone(),
        result_status: ResultStatus::Success,
        result_reason: None,
        result_message: None,
        asynchronous_correlation_value: None,
        payload: Some(payload),
        message_extension: None,
    }
}

fn failure(
    operation: Option<Operation>,
    unique_batch_item_id: Option<Vec<u8>>,
    error: &OpError,
    version: Version,
) -> ResponseBatchItem {
    // An operation the response's version does not define can't be echoed to it.
    let operation =
        operation.filter(|op| version::enum_value_in_version(Tag::OPERATION, op.to_u32(), version));
    let reason: ResultReason = error.reason_in(version);
    ResponseBatchItem {
        operation,
        unique_batch_item_id,
        result_status: ResultStatus::OperationFailed,
        result_reason: Some(reason),
        result_message: Some(error.to_string()),
        asynchronous_correlation_value: None,
        payload: None,
        message_extension: None,
    }
}

fn response_header(version: Version, batch_count: i32) -> ResponseHeader {
    ResponseHeader {
        protocol_version: version::to_protocol_version(version),
        time_stamp: DateTime(unix_now()),
        nonce: None,
        server_hashed_password: None,
        attestation_types: Vec::new(),
        client_correlation_value: None,
        server_correlation_value: None,
        batch_count,
    }
}

fn response_header_with_count(mut header: ResponseHeader, batch_count: i32) -> ResponseHeader {
    header.batch_count = batch_count;
    header
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn encode(message: &Ttlv) -> Reply {
    match binary::encode(message) {
        Ok(bytes) => Reply::Send(Zeroizing::new(bytes)),
        Err(_) => Reply::Close(CloseReason::Unencodable),
    }
}

/// One answered batch item: what Undo needs to know, and the encoded answer.
struct Answer {
    operation: Option<Operation>,
    unique_batch_item_id: Option<Vec<u8>>,
    succeeded: bool,
    encoded: Ttlv,
}

/// One audit event per answered batch item (DESIGN.md invariant 8), on its own target.
/// Carries identifiers and results only, never payload contents.
fn audit(
    ctx: &RequestContext,
    note: &AuditNote,
    version: Version,
    operation: &Operation,
    answer: &Ttlv,
    returned: &[String],
) {
    let enumeration = |tag| match answer.child(tag).map(|i| &i.value) {
        Some(Value::Enumeration(v)) => Some(*v),
        _ => None,
    };
    let mut event = crate::audit::AuditEvent::new(ctx, format!("{operation:?}"));
    event.protocol_version =
        Some(crate::audit::ProtocolVersion { major: i32::from(version.major), minor: i32::from(version.minor) });
    event.unique_identifiers = returned.to_vec();
    event.object_type = note.object_type.get().map(enum_name::<enums::ObjectType>);
    event.algorithm = note.algorithm.get().map(enum_name::<enums::CryptographicAlgorithm>);
    event.result_status = enumeration(Tag::RESULT_STATUS).map(enum_name::<ResultStatus>).unwrap_or_default();
    event.result_reason = enumeration(Tag::RESULT_REASON).map(enum_name::<ResultReason>);
    event.duration = note.started.elapsed();
    event.emit();
}

/// The spec's name of an enumeration value (`SymmetricKey`, `AES`), or its hex for an extension.
fn enum_name<E: KmipEnum + std::fmt::Debug>(value: u32) -> String {
    match E::from_u32(value) {
        Some(known) => format!("{known:?}"),
        None => format!("0x{value:08X}"),
    }
}

#[cfg(test)]
mod tests;
