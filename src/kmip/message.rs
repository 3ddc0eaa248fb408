//! Request and response messages: headers, batch items, authentication (KMIP 1.4 §6–7,
//! 2.1 §8–9). A batch item's payload is typed by its Operation (see [`super::payloads`]).

use super::attributes::check_in_version;
use super::codec::{
    kmip_field_put, kmip_field_take, kmip_field_type, kmip_struct, wrong_type, DateTime, DateTimeExtended,
    FromTtlv, ModelError, Path, RawStructure, Reader, SecretBytes, SecretText, ToTtlv, Writer,
};
use super::enums::{
    self, AttestationType, BatchErrorContinuationOption, CredentialType, HashingAlgorithm, Operation,
    ResultReason, ResultStatus, TicketType,
};
use super::objects::ProtocolVersion;
use super::payloads::{RequestPayload, ResponsePayload};
use crate::ttlv::registry::Version;
use crate::ttlv::{Tag, Ttlv, Value};

kmip_struct! {
    /// Nonce (attestation).
    pub struct Nonce {
        /// Nonce ID.
        nonce_id: req Vec<u8> = NONCE_ID,
        /// Nonce Value.
        nonce_value: req Vec<u8> = NONCE_VALUE,
    }
}

kmip_struct! {
    /// Ticket (2.x Login / Ticket credential).
    pub struct Ticket {
        /// Ticket Type.
        ticket_type: req TicketType = TICKET_TYPE,
        /// Ticket Value.
        ticket_value: req SecretBytes = TICKET_VALUE,
    }
}

kmip_struct! {
    /// Credential Value of a Username and Password credential.
    pub struct UsernamePasswordCredential {
        /// Username.
        username: req String = USERNAME,
        /// Password.
        password: opt SecretText = PASSWORD,
    }
}

kmip_struct! {
    /// Credential Value of a Device credential.
    pub struct DeviceCredential {
        /// Device Serial Number.
        device_serial_number: opt String = DEVICE_SERIAL_NUMBER,
        /// Password.
        password: opt SecretText = PASSWORD,
        /// Device Identifier.
        device_identifier: opt String = DEVICE_IDENTIFIER,
        /// Network Identifier.
        network_identifier: opt String = NETWORK_IDENTIFIER,
        /// Machine Identifier.
        machine_identifier: opt String = MACHINE_IDENTIFIER,
        /// Media Identifier.
        media_identifier: opt String = MEDIA_IDENTIFIER,
    }
}

kmip_struct! {
    /// Credential Value of an Attestation credential.
    pub struct AttestationCredential {
        /// Nonce.
        nonce: req Nonce = NONCE,
        /// Attestation Type.
        attestation_type: req AttestationType = ATTESTATION_TYPE,
        /// Attestation Measurement.
        attestation_measurement: opt Vec<u8> = ATTESTATION_MEASUREMENT,
        /// Attestation Assertion.
        attestation_assertion: opt Vec<u8> = ATTESTATION_ASSERTION,
    }
}

kmip_struct! {
    /// Credential Value of a One Time Password credential (2.x).
    pub struct OneTimePasswordCredential {
        /// Username.
        username: req String = USERNAME,
        /// Password.
        password: opt SecretText = PASSWORD,
        /// One Time Password.
        one_time_password: req SecretText = ONE_TIME_PASSWORD,
    }
}

kmip_struct! {
    /// Credential Value of a Hashed Password credential (2.x).
    pub struct HashedPasswordCredential {
        /// Username.
        username: req String = USERNAME,
        /// Timestamp.
        timestamp: req DateTimeExtended = TIME_STAMP,
        /// Hashing Algorithm.
        hashing_algorithm: opt HashingAlgorithm = HASHING_ALGORITHM,
        /// Hashed Password.
        hashed_password: req SecretBytes = HASHED_PASSWORD,
    }
}

kmip_struct! {
    /// Credential Value of a Ticket credential (2.x).
    pub struct TicketCredential {
        /// Ticket.
        ticket: req Ticket = TICKET,
    }
}

/// Credential Value, whose shape the Credential Type decides.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialValue {
    /// Username and Password.
    UsernameAndPassword(UsernamePasswordCredential),
    /// Device.
    Device(DeviceCredential),
    /// Attestation.
    Attestation(AttestationCredential),
    /// One Time Password (2.x).
    OneTimePassword(OneTimePasswordCredential),
    /// Hashed Password (2.x).
    HashedPassword(HashedPasswordCredential),
    /// Ticket (2.x).
    Ticket(TicketCredential),
    /// A credential type whose value this model does not type (3.0 drafts, extensions):
    /// kept as sent, never logged.
    Other(Ttlv),
}

kmip_struct! {
    /// Authentication: the client's credentials.
    pub struct Authentication {
        /// Credentials (1.x: one; 1.4/2.x: may be repeated).
        credentials: vec1 Credential = CREDENTIAL,
    }
}

/// Credential {Credential Type, Credential Value}.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    /// Credential Type.
    pub credential_type: CredentialType,
    /// Credential Value.
    pub credential_value: CredentialValue,
}

impl FromTtlv for Credential {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        let mut r = Reader::structure(item, path)?;
        let credential_type: CredentialType = r.required(Tag::CREDENTIAL_TYPE)?;
        let raw: Ttlv = r.required(Tag::CREDENTIAL_VALUE)?;
        r.finish()?;
        let p = path.child(Tag::CREDENTIAL_VALUE, None);
        let credential_value = match credential_type {
            CredentialType::UsernameAndPassword => {
                CredentialValue::UsernameAndPassword(FromTtlv::from_ttlv_item(&raw, &p)?)
            }
            CredentialType::Device => CredentialValue::Device(FromTtlv::from_ttlv_item(&raw, &p)?),
            CredentialType::Attestation => CredentialValue::Attestation(FromTtlv::from_ttlv_item(&raw, &p)?),
            CredentialType::OneTimePassword => {
                CredentialValue::OneTimePassword(FromTtlv::from_ttlv_item(&raw, &p)?)
            }
            CredentialType::HashedPassword => {
                CredentialValue::HashedPassword(FromTtlv::from_ttlv_item(&raw, &p)?)
            }
            CredentialType::Ticket => CredentialValue::Ticket(FromTtlv::from_ttlv_item(&raw, &p)?),
            _ => CredentialValue::Other(raw),
        };
        Ok(Credential { credential_type, credential_value })
    }
}

impl ToTtlv for Credential {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        let mut w = Writer::new();
        w.required(Tag::CREDENTIAL_TYPE, &self.credential_type);
        let t = Tag::CREDENTIAL_VALUE;
        w.push(match &self.credential_value {
            CredentialValue::UsernameAndPassword(v) => v.to_ttlv_item(t),
            CredentialValue::Device(v) => v.to_ttlv_item(t),
            CredentialValue::Attestation(v) => v.to_ttlv_item(t),
            CredentialValue::OneTimePassword(v) => v.to_ttlv_item(t),
            CredentialValue::HashedPassword(v) => v.to_ttlv_item(t),
            CredentialValue::Ticket(v) => v.to_ttlv_item(t),
            CredentialValue::Other(v) => v.to_ttlv_item(t),
        });
        w.finish(tag)
    }
}

kmip_struct! {
    /// Message Extension: vendor data in a batch item.
    pub struct MessageExtension {
        /// Vendor Identification.
        vendor_identification: req String = VENDOR_IDENTIFICATION,
        /// Criticality Indicator: a server that does not understand a critical extension
        /// must fail the item.
        criticality_indicator: req bool = CRITICALITY_INDICATOR,
        /// Vendor Extension (vendor-defined structure, kept as sent).
        vendor_extension: req RawStructure = VENDOR_EXTENSION,
    }
}

/// Asynchronous Indicator: a Boolean in 1.x, an enumeration (Mandatory/Optional/Prohibited)
/// in 2.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsynchronousIndicator {
    /// 1.x form.
    Boolean(bool),
    /// 2.x form.
    Enumeration(enums::AsynchronousIndicator),
}

impl FromTtlv for AsynchronousIndicator {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        match item.value {
            Value::Boolean(b) => Ok(AsynchronousIndicator::Boolean(b)),
            Value::Enumeration(_) => {
                FromTtlv::from_ttlv_item(item, path).map(AsynchronousIndicator::Enumeration)
            }
            _ => Err(wrong_type(item, path, "Boolean or Enumeration")),
        }
    }
}

impl ToTtlv for AsynchronousIndicator {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        match self {
            AsynchronousIndicator::Boolean(b) => Ttlv::boolean(tag, *b),
            AsynchronousIndicator::Enumeration(e) => e.to_ttlv_item(tag),
        }
    }
}

kmip_struct! {
    /// Request Header (every field of 1.0–2.1).
    pub struct RequestHeader {
        /// Protocol Version.
        protocol_version: req ProtocolVersion = PROTOCOL_VERSION,
        /// Maximum Response Size (bytes).
        maximum_response_size: opt i32 = MAXIMUM_RESPONSE_SIZE,
        /// Client Correlation Value.
        client_correlation_value: opt String = CLIENT_CORRELATION_VALUE,
        /// Server Correlation Value.
        server_correlation_value: opt String = SERVER_CORRELATION_VALUE,
        /// Asynchronous Indicator.
        asynchronous_indicator: opt AsynchronousIndicator = ASYNCHRONOUS_INDICATOR,
        /// Attestation Capable Indicator.
        attestation_capable_indicator: opt bool = ATTESTATION_CAPABLE_INDICATOR,
        /// Attestation Types the client supports.
        attestation_types: vec AttestationType = ATTESTATION_TYPE,
        /// Authentication.
        authentication: opt Authentication = AUTHENTICATION,
        /// Batch Error Continuation Option.
        batch_error_continuation_option: opt BatchErrorContinuationOption = BATCH_ERROR_CONTINUATION_OPTION,
        /// Batch Order Option.
        batch_order_option: opt bool = BATCH_ORDER_OPTION,
        /// Time Stamp.
        time_stamp: opt DateTime = TIME_STAMP,
        /// Batch Count.
        batch_count: req i32 = BATCH_COUNT,
    }
}

kmip_struct! {
    /// Response Header (every field of 1.0–2.1).
    pub struct ResponseHeader {
        /// Protocol Version.
        protocol_version: req ProtocolVersion = PROTOCOL_VERSION,
        /// Time Stamp.
        time_stamp: req DateTime = TIME_STAMP,
        /// Nonce (attestation).
        nonce: opt Nonce = NONCE,
        /// Server Hashed Password (2.x, when a Hashed Password credential was used).
        server_hashed_password: opt Vec<u8> = SERVER_HASHED_PASSWORD,
        /// Attestation Types the server requires.
        attestation_types: vec AttestationType = ATTESTATION_TYPE,
        /// Client Correlation Value.
        client_correlation_value: opt String = CLIENT_CORRELATION_VALUE,
        /// Server Correlation Value.
        server_correlation_value: opt String = SERVER_CORRELATION_VALUE,
        /// Batch Count.
        batch_count: req i32 = BATCH_COUNT,
    }
}

/// A request Batch Item.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestBatchItem {
    /// Operation.
    pub operation: Operation,
    /// Ephemeral (2.x): do not keep the operation's output object.
    pub ephemeral: Option<bool>,
    /// Unique Batch Item ID.
    pub unique_batch_item_id: Option<Vec<u8>>,
    /// Request Payload, typed by `operation`.
    pub payload: RequestPayload,
    /// Message Extensions.
    pub message_extensions: Vec<MessageExtension>,
}

impl FromTtlv for RequestBatchItem {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        let mut r = Reader::structure(item, path)?;
        let operation: Operation = r.required(Tag::OPERATION)?;
        let ephemeral = r.optional(Tag::EPHEMERAL)?;
        let unique_batch_item_id = r.optional(Tag::UNIQUE_BATCH_ITEM_ID)?;
        let raw: Ttlv = r.required(Tag::REQUEST_PAYLOAD)?;
        let message_extensions = r.repeated(Tag::MESSAGE_EXTENSION)?;
        r.finish()?;
        let payload = RequestPayload::decode(operation, &raw, &path.child(Tag::REQUEST_PAYLOAD, None))?;
        Ok(RequestBatchItem { operation, ephemeral, unique_batch_item_id, payload, message_extensions })
    }
}

impl ToTtlv for RequestBatchItem {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        let mut w = Writer::new();
        w.required(Tag::OPERATION, &self.operation);
        w.optional(Tag::EPHEMERAL, &self.ephemeral);
        w.optional(Tag::UNIQUE_BATCH_ITEM_ID, &self.unique_batch_item_id);
        w.push(self.payload.to_ttlv());
        w.repeated(Tag::MESSAGE_EXTENSION, &self.message_extensions);
        w.finish(tag)
    }
}

/// A response Batch Item.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseBatchItem {
    /// Operation (absent only when the request item could not be read).
    pub operation: Option<Operation>,
    /// Unique Batch Item ID, echoed from the request.
    pub unique_batch_item_id: Option<Vec<u8>>,
    /// Result Status.
    pub result_status: ResultStatus,
    /// Result Reason (required on failure).
    pub result_reason: Option<ResultReason>,
    /// Result Message (free text).
    pub result_message: Option<String>,
    /// Asynchronous Correlation Value (pending operations).
    pub asynchronous_correlation_value: Option<Vec<u8>>,
    /// Response Payload, typed by `operation`; usually absent on failure.
    pub payload: Option<ResponsePayload>,
    /// Message Extension.
    pub message_extension: Option<MessageExtension>,
}

impl FromTtlv for ResponseBatchItem {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        let mut r = Reader::structure(item, path)?;
        let operation: Option<Operation> = r.optional(Tag::OPERATION)?;
        let unique_batch_item_id = r.optional(Tag::UNIQUE_BATCH_ITEM_ID)?;
        let result_status = r.required(Tag::RESULT_STATUS)?;
        let result_reason = r.optional(Tag::RESULT_REASON)?;
        let result_message = r.optional(Tag::RESULT_MESSAGE)?;
        let asynchronous_correlation_value = r.optional(Tag::ASYNCHRONOUS_CORRELATION_VALUE)?;
        let raw: Option<Ttlv> = r.optional(Tag::RESPONSE_PAYLOAD)?;
        let message_extension = r.optional(Tag::MESSAGE_EXTENSION)?;
        r.finish()?;
        let payload_path = path.child(Tag::RESPONSE_PAYLOAD, None);
        let payload = match (operation, raw) {
            (_, None) => None,
            (Some(op), Some(raw)) => Some(ResponsePayload::decode(op, &raw, &payload_path)?),
            (None, Some(_)) => {
                return Err(ModelError::InvalidValue {
                    path: payload_path.to_string(),
                    reason: "a Response Payload needs the batch item's Operation",
                })
            }
        };
        Ok(ResponseBatchItem {
            operation,
            unique_batch_item_id,
            result_status,
            result_reason,
            result_message,
            asynchronous_correlation_value,
            payload,
            message_extension,
        })
    }
}

impl ToTtlv for ResponseBatchItem {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        let mut w = Writer::new();
        w.optional(Tag::OPERATION, &self.operation);
        w.optional(Tag::UNIQUE_BATCH_ITEM_ID, &self.unique_batch_item_id);
        w.required(Tag::RESULT_STATUS, &self.result_status);
        w.optional(Tag::RESULT_REASON, &self.result_reason);
        w.optional(Tag::RESULT_MESSAGE, &self.result_message);
        w.optional(Tag::ASYNCHRONOUS_CORRELATION_VALUE, &self.asynchronous_correlation_value);
        if let Some(p) = &self.payload {
            w.push(p.to_ttlv());
        }
        w.optional(Tag::MESSAGE_EXTENSION, &self.message_extension);
        w.finish(tag)
    }
}

kmip_struct! {
    /// A KMIP Request Message.
    pub struct RequestMessage {
        /// Request Header.
        header: req RequestHeader = REQUEST_HEADER,
        /// Batch Items.
        batch_items: vec1 RequestBatchItem = BATCH_ITEM,
    }
}

kmip_struct! {
    /// A KMIP Response Message.
    pub struct ResponseMessage {
        /// Response Header.
        header: req ResponseHeader = RESPONSE_HEADER,
        /// Batch Items.
        batch_items: vec1 ResponseBatchItem = BATCH_ITEM,
    }
}

fn check_batch_count(root: &Path<'_>, header: Tag, count: i32, items: usize) -> Result<(), ModelError> {
    if usize::try_from(count).ok() == Some(items) {
        Ok(())
    } else {
        Err(ModelError::InvalidValue {
            path: root.child(header, None).child(Tag::BATCH_COUNT, None).to_string(),
            reason: "Batch Count does not match the number of Batch Items",
        })
    }
}

fn decode_root<T: FromTtlv>(item: &Ttlv, tag: Tag) -> Result<T, ModelError> {
    let path = Path::root(tag);
    if item.tag != tag {
        return Err(ModelError::WrongTag { path: path.to_string(), expected: tag, found: item.tag });
    }
    T::from_ttlv_item(item, &path)
}

/// What can still be read from a request that does not decode: enough to answer it with a
/// KMIP error (protocol version, correlation values, each item's Operation and ID).
#[derive(Debug, Clone, PartialEq)]
pub struct SalvagedRequest {
    /// The Request Header, if it decodes on its own.
    pub header: Option<RequestHeader>,
    /// Per Batch Item: its Operation and Unique Batch Item ID, where readable.
    pub batch_items: Vec<(Option<Operation>, Option<Vec<u8>>)>,
}

impl RequestMessage {
    /// Decodes a Request Message tree.
    pub fn from_ttlv(item: &Ttlv) -> Result<RequestMessage, ModelError> {
        decode_root(item, Tag::REQUEST_MESSAGE)
    }

    /// Reads what it can of a Request Message that [`RequestMessage::from_ttlv`] rejected, so
    /// that the server can still send an error response in the client's protocol version.
    pub fn salvage(item: &Ttlv) -> SalvagedRequest {
        let root = Path::root(Tag::REQUEST_MESSAGE);
        let header = item
            .child(Tag::REQUEST_HEADER)
            .and_then(|h| RequestHeader::from_ttlv_item(h, &root.child(Tag::REQUEST_HEADER, None)).ok());
        let batch_items = item
            .children_with(Tag::BATCH_ITEM)
            .map(|b| {
                let path = root.child(Tag::BATCH_ITEM, None);
                let operation =
                    b.child(Tag::OPERATION).and_then(|o| Operation::from_ttlv_item(o, &path).ok());
                let id =
                    b.child(Tag::UNIQUE_BATCH_ITEM_ID).and_then(|i| Vec::<u8>::from_ttlv_item(i, &path).ok());
                (operation, id)
            })
            .collect();
        SalvagedRequest { header, batch_items }
    }

    /// Encodes the message as a TTLV tree.
    pub fn to_ttlv(&self) -> Ttlv {
        self.to_ttlv_item(Tag::REQUEST_MESSAGE)
    }

    /// The protocol version of the header, when it is one the registry can name.
    pub fn protocol_version(&self) -> Option<Version> {
        self.header.protocol_version.to_version()
    }

    /// The rules decoding leaves out because it accepts both versions' forms: every tag and
    /// attribute exists in the header's protocol version, each payload carries the fields its
    /// version's form requires (e.g. `Attributes` in a 2.x Create), and Batch Count matches
    /// the Batch Items.
    pub fn check_rules(&self) -> Result<(), ModelError> {
        let root = Path::root(Tag::REQUEST_MESSAGE);
        check_batch_count(&root, Tag::REQUEST_HEADER, self.header.batch_count, self.batch_items.len())?;
        let version = self.protocol_version().ok_or_else(|| ModelError::InvalidValue {
            path: root.child(Tag::REQUEST_HEADER, None).child(Tag::PROTOCOL_VERSION, None).to_string(),
            reason: "protocol version out of range",
        })?;
        check_in_version(&self.to_ttlv(), version)?;
        for (i, item) in self.batch_items.iter().enumerate() {
            let batch = root.child(Tag::BATCH_ITEM, Some(i));
            item.payload.check_required_for_version(version, &batch.child(Tag::REQUEST_PAYLOAD, None))?;
        }
        Ok(())
    }
}

impl ResponseMessage {
    /// Decodes a Response Message tree.
    pub fn from_ttlv(item: &Ttlv) -> Result<ResponseMessage, ModelError> {
        decode_root(item, Tag::RESPONSE_MESSAGE)
    }

    /// Encodes the message as a TTLV tree.
    pub fn to_ttlv(&self) -> Ttlv {
        self.to_ttlv_item(Tag::RESPONSE_MESSAGE)
    }

    /// The protocol version of the header, when it is one the registry can name.
    pub fn protocol_version(&self) -> Option<Version> {
        self.header.protocol_version.to_version()
    }

    /// The rules for a response about to be sent: every tag and attribute exists in the
    /// header's protocol version, each payload carries the fields its version's form requires,
    /// Batch Count matches the Batch Items, every failed item has a Result Reason and every
    /// successful one a Response Payload.
    pub fn check_rules(&self) -> Result<(), ModelError> {
        let root = Path::root(Tag::RESPONSE_MESSAGE);
        check_batch_count(&root, Tag::RESPONSE_HEADER, self.header.batch_count, self.batch_items.len())?;
        let version = self.protocol_version().ok_or_else(|| ModelError::InvalidValue {
            path: root.child(Tag::RESPONSE_HEADER, None).child(Tag::PROTOCOL_VERSION, None).to_string(),
            reason: "protocol version out of range",
        })?;
        check_in_version(&self.to_ttlv(), version)?;
        for (i, item) in self.batch_items.iter().enumerate() {
            let batch = root.child(Tag::BATCH_ITEM, Some(i));
            // A failure must say why (1.4 §6.10, 2.1 §8.6).
            if item.result_status == ResultStatus::OperationFailed && item.result_reason.is_none() {
                return Err(ModelError::MissingField { path: batch.to_string(), field: Tag::RESULT_REASON });
            }
            match &item.payload {
                Some(p) => {
                    p.check_required_for_version(version, &batch.child(Tag::RESPONSE_PAYLOAD, None))?
                }
                // A success carries a payload, if only an empty one.
                None if item.result_status == ResultStatus::Success => {
                    return Err(ModelError::MissingField {
                        path: batch.to_string(),
                        field: Tag::RESPONSE_PAYLOAD,
                    })
                }
                None => {}
            }
        }
        Ok(())
    }
}
