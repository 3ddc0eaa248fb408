//! Request builders and response readers shared by the `ops_*` integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use kmipd::kmip::enums::{BatchErrorContinuationOption, Operation, ResultReason, ResultStatus};
use kmipd::kmip::{KmipEnum, ResponseBatchItem, ResponseMessage};
use kmipd::ops::{Limits, NoBackend, Processor, Reply, RequestContext};
use kmipd::ttlv::binary::{self, DecodeLimits};
use kmipd::ttlv::registry::Version;
use kmipd::ttlv::{Tag, Ttlv};

/// A processor with default limits and no backend.
pub fn processor() -> Processor {
    Processor::new(Limits::default(), Arc::new(NoBackend))
}

/// A processor with the given limits.
pub fn processor_with(limits: Limits) -> Processor {
    Processor::new(limits, Arc::new(NoBackend))
}

pub fn ctx() -> RequestContext {
    RequestContext { client_identity: "CN=test".into(), connection_id: 7, ..RequestContext::default() }
}

/// Optional Request Header fields.
#[derive(Default, Clone)]
pub struct Header {
    pub maximum_response_size: Option<i32>,
    /// Raw Asynchronous Indicator item (Boolean in 1.x, Enumeration in 2.x).
    pub asynchronous_indicator: Option<Ttlv>,
    pub continuation: Option<BatchErrorContinuationOption>,
    pub batch_order: Option<bool>,
    /// Overrides the Batch Count (default: the number of items).
    pub batch_count: Option<i32>,
}

pub fn protocol_version(major: i32, minor: i32) -> Ttlv {
    Ttlv::structure(
        Tag::PROTOCOL_VERSION,
        vec![
            Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, major),
            Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, minor),
        ],
    )
}

/// A Request Message tree.
pub fn request_tree(version: (i32, i32), header: &Header, items: Vec<Ttlv>) -> Ttlv {
    let mut h = vec![protocol_version(version.0, version.1)];
    if let Some(s) = header.maximum_response_size {
        h.push(Ttlv::integer(Tag::MAXIMUM_RESPONSE_SIZE, s));
    }
    if let Some(a) = &header.asynchronous_indicator {
        h.push(a.clone());
    }
    if let Some(c) = header.continuation {
        h.push(Ttlv::enumeration(Tag::BATCH_ERROR_CONTINUATION_OPTION, c.to_u32()));
    }
    if let Some(o) = header.batch_order {
        h.push(Ttlv::boolean(Tag::BATCH_ORDER_OPTION, o));
    }
    let count = header.batch_count.unwrap_or(items.len() as i32);
    h.push(Ttlv::integer(Tag::BATCH_COUNT, count));
    let mut children = vec![Ttlv::structure(Tag::REQUEST_HEADER, h)];
    children.extend(items);
    Ttlv::structure(Tag::REQUEST_MESSAGE, children)
}

/// An encoded Request Message.
pub fn request(version: (i32, i32), header: &Header, items: Vec<Ttlv>) -> Vec<u8> {
    binary::encode(&request_tree(version, header, items)).unwrap()
}

/// A request Batch Item.
pub fn item(operation: Operation, unique_batch_item_id: Option<&[u8]>, payload: Vec<Ttlv>) -> Ttlv {
    let mut c = vec![Ttlv::enumeration(Tag::OPERATION, operation.to_u32())];
    if let Some(id) = unique_batch_item_id {
        c.push(Ttlv::bytes(Tag::UNIQUE_BATCH_ITEM_ID, id.to_vec()));
    }
    c.push(Ttlv::structure(Tag::REQUEST_PAYLOAD, payload));
    Ttlv::structure(Tag::BATCH_ITEM, c)
}

pub fn query(functions: &[kmipd::kmip::enums::QueryFunction]) -> Vec<Ttlv> {
    functions.iter().map(|f| Ttlv::enumeration(Tag::QUERY_FUNCTION, f.to_u32())).collect()
}

/// A Log batch item (2.x).
pub fn log_item(id: &[u8], text: &str) -> Ttlv {
    item(Operation::Log, Some(id), vec![Ttlv::text(Tag::LOG_MESSAGE, text)])
}

/// Sends `bytes` and returns the decoded response tree (panics on Close).
pub fn exchange_tree(p: &Processor, bytes: &[u8]) -> Ttlv {
    match p.process(&ctx(), bytes) {
        Reply::Send(out) => binary::decode(&out, &DecodeLimits::default()).expect("response decodes"),
        Reply::Close(reason) => panic!("connection closed: {reason:?}"),
    }
}

/// Sends `bytes` and returns the typed response.
pub fn exchange(p: &Processor, bytes: &[u8]) -> ResponseMessage {
    ResponseMessage::from_ttlv(&exchange_tree(p, bytes)).expect("response is a valid Response Message")
}

pub fn version_of(r: &ResponseMessage) -> (i32, i32) {
    (r.header.protocol_version.major, r.header.protocol_version.minor)
}

pub fn v(major: u8, minor: u8) -> Version {
    Version::new(major, minor)
}

/// Asserts an item failed with `reason` (and says why, unless the response had no room).
pub fn assert_failed(item: &ResponseBatchItem, reason: ResultReason) {
    assert_eq!(item.result_status, ResultStatus::OperationFailed, "{item:?}");
    assert_eq!(item.result_reason, Some(reason), "{item:?}");
    if reason != ResultReason::ResponseTooLarge {
        assert!(item.result_message.as_deref().is_some_and(|m| !m.is_empty()), "{item:?}");
    }
    assert!(item.payload.is_none());
}

/// Asserts a whole-request refusal: one item without Operation.
pub fn assert_refused(r: &ResponseMessage, reason: ResultReason) {
    assert_eq!(r.header.batch_count, 1);
    assert_eq!(r.batch_items.len(), 1);
    assert_eq!(r.batch_items[0].operation, None);
    assert_failed(&r.batch_items[0], reason);
}
