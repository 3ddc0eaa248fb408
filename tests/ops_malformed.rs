//! Input that is not a valid request: answered Invalid Message (or the field's reason) in the
//! request's version when a header can be salvaged, otherwise the connection is closed.

mod ops_support;

use kmipd::kmip::enums::{
    BatchErrorContinuationOption, Operation, QueryFunction, ResultReason, ResultStatus,
};
use kmipd::kmip::KmipEnum;
use kmipd::ops::{CloseReason, Reply};
use kmipd::ttlv::binary;
use kmipd::ttlv::{Tag, Ttlv, Value};
use ops_support::*;

fn closes(bytes: &[u8]) -> CloseReason {
    match processor().process(&ctx(), bytes) {
        Reply::Close(reason) => reason,
        Reply::Send(out) => panic!("answered {} bytes", out.len()),
    }
}

#[test]
fn bytes_that_are_not_ttlv_close_the_connection() {
    assert!(matches!(closes(&[]), CloseReason::Undecodable(_)));
    assert!(matches!(closes(b"GET / HTTP/1.1\r\n\r\n"), CloseReason::Undecodable(_)));
    // A deterministic pseudo-random stream.
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect();
    assert!(matches!(closes(&noise), CloseReason::Undecodable(_)));
}

#[test]
fn a_well_formed_item_that_is_not_a_request_closes_the_connection() {
    let response = Ttlv::structure(Tag::RESPONSE_MESSAGE, vec![]);
    assert_eq!(closes(&binary::encode(&response).unwrap()), CloseReason::NotARequest);
    let no_header = Ttlv::structure(Tag::REQUEST_MESSAGE, vec![item(Operation::Query, None, vec![])]);
    assert_eq!(closes(&binary::encode(&no_header).unwrap()), CloseReason::NotARequest);
}

/// A request whose bytes break the TTLV rules after a valid Request Header.
fn corrupt_after_header(version: (i32, i32)) -> Vec<u8> {
    let mut bytes = request(
        version,
        &Header::default(),
        vec![item(Operation::Query, None, query(&[QueryFunction::QueryOperations]))],
    );
    // The last 8 bytes are the Query Function's padding: make it non-zero.
    let last = bytes.len() - 1;
    bytes[last] = 0xFF;
    bytes
}

#[test]
fn undecodable_bytes_with_a_readable_header_get_invalid_message_in_that_version() {
    for version in [(1, 0), (1, 2), (1, 4), (2, 0), (2, 1)] {
        let r = exchange(&processor(), &corrupt_after_header(version));
        assert_eq!(version_of(&r), version);
        assert_refused(&r, ResultReason::InvalidMessage);
    }
    // A salvaged 3.0 header is answered in 2.1.
    let r = exchange(&processor(), &corrupt_after_header((3, 0)));
    assert_eq!(version_of(&r), (2, 1));
    assert_refused(&r, ResultReason::InvalidMessage);
}

#[test]
fn a_truncated_message_with_a_complete_header_is_answered() {
    let bytes = request((1, 4), &Header::default(), vec![item(Operation::Query, None, vec![])]);
    let header_len = 8 + u32::from_be_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let cut = &bytes[..8 + header_len + 4];
    let r = exchange(&processor(), cut);
    assert_eq!(version_of(&r), (1, 4));
    assert_refused(&r, ResultReason::InvalidMessage);
    // Cut inside the header: nothing to salvage.
    assert!(matches!(closes(&bytes[..20]), CloseReason::Undecodable(_)));
}

#[test]
fn an_unreadable_header_with_a_readable_version_is_answered_in_it() {
    // Batch Count missing.
    let header = Ttlv::structure(Tag::REQUEST_HEADER, vec![protocol_version(2, 0)]);
    let tree = Ttlv::structure(Tag::REQUEST_MESSAGE, vec![header, item(Operation::Query, None, vec![])]);
    let r = exchange(&processor(), &binary::encode(&tree).unwrap());
    assert_eq!(version_of(&r), (2, 0));
    assert_refused(&r, ResultReason::InvalidMessage);
}

#[test]
fn a_message_without_batch_items_is_invalid() {
    let tree = request_tree((1, 4), &Header { batch_count: Some(0), ..Header::default() }, vec![]);
    let r = exchange(&processor(), &binary::encode(&tree).unwrap());
    assert_refused(&r, ResultReason::InvalidMessage);
}

#[test]
fn a_stray_item_between_batch_items_is_invalid() {
    let mut tree = request_tree(
        (1, 4),
        &Header { batch_count: Some(2), ..Header::default() },
        vec![item(Operation::Query, None, vec![])],
    );
    if let Value::Structure(c) = &mut tree.value {
        c.push(Ttlv::integer(Tag::BATCH_COUNT, 1));
    }
    let r = exchange(&processor(), &binary::encode(&tree).unwrap());
    assert_refused(&r, ResultReason::InvalidMessage);
}

#[test]
fn a_bad_payload_fails_only_its_item() {
    // An Object Type where a Query Function belongs, between two good items.
    let bad = item(Operation::Query, Some(b"bad"), vec![Ttlv::enumeration(Tag::OBJECT_TYPE, 2)]);
    let good = |id: &[u8]| item(Operation::Query, Some(id), query(&[QueryFunction::QueryOperations]));
    let h = Header { continuation: Some(BatchErrorContinuationOption::Continue), ..Header::default() };
    let r = exchange(&processor(), &request((1, 4), &h, vec![good(b"1"), bad, good(b"3")]));
    assert_eq!(r.batch_items.len(), 3);
    assert_eq!(r.batch_items[1].operation, Some(Operation::Query));
    assert_eq!(r.batch_items[1].unique_batch_item_id, Some(b"bad".to_vec()));
    assert_failed(&r.batch_items[1], ResultReason::InvalidMessage);
    assert!(r.batch_items[1].result_message.as_deref().unwrap().contains("ObjectType"));
    assert_eq!(r.batch_items[2].result_status, ResultStatus::Success);
}

#[test]
fn an_unknown_enumeration_value_is_reported_per_version() {
    let unknown = item(Operation::Query, None, vec![Ttlv::enumeration(Tag::QUERY_FUNCTION, 0x0000_7777)]);
    let r = exchange(&processor(), &request((2, 1), &Header::default(), vec![unknown.clone()]));
    assert_failed(&r.batch_items[0], ResultReason::UnknownEnumeration);
    let r = exchange(&processor(), &request((1, 4), &Header::default(), vec![unknown]));
    assert_failed(&r.batch_items[0], ResultReason::InvalidField);
}

#[test]
fn an_unknown_operation_is_answered_without_an_operation() {
    let unknown = Ttlv::structure(
        Tag::BATCH_ITEM,
        vec![
            Ttlv::enumeration(Tag::OPERATION, 0x0000_7777),
            Ttlv::bytes(Tag::UNIQUE_BATCH_ITEM_ID, b"u".to_vec()),
            Ttlv::structure(Tag::REQUEST_PAYLOAD, vec![]),
        ],
    );
    let r = exchange(&processor(), &request((1, 2), &Header::default(), vec![unknown]));
    assert_eq!(r.batch_items[0].operation, None);
    assert_eq!(r.batch_items[0].unique_batch_item_id, Some(b"u".to_vec()));
    assert_failed(&r.batch_items[0], ResultReason::InvalidField);
}

#[test]
fn an_extension_operation_is_not_supported() {
    let ext = item(Operation::from_u32(0x8000_0042).unwrap(), None, vec![]);
    let r = exchange(&processor(), &request((2, 1), &Header::default(), vec![ext]));
    assert_failed(&r.batch_items[0], ResultReason::OperationNotSupported);
}

#[test]
fn nesting_beyond_the_depth_limit_is_closed_or_answered_but_never_panics() {
    let mut deep = Ttlv::structure(Tag::REQUEST_PAYLOAD, vec![]);
    for _ in 0..200 {
        deep = Ttlv::structure(Tag::REQUEST_PAYLOAD, vec![deep]);
    }
    let tree = request_tree(
        (2, 1),
        &Header::default(),
        vec![Ttlv::structure(
            Tag::BATCH_ITEM,
            vec![Ttlv::enumeration(Tag::OPERATION, Operation::Query.to_u32()), deep],
        )],
    );
    let r = exchange(&processor(), &binary::encode(&tree).unwrap());
    assert_refused(&r, ResultReason::InvalidMessage);
}

#[test]
fn a_message_over_the_size_limit_is_refused_from_its_header() {
    let limits = kmipd::ops::Limits {
        decode: binary::DecodeLimits { max_bytes: 256, max_depth: 64 },
        ..kmipd::ops::Limits::default()
    };
    let big = item(Operation::Log, None, vec![Ttlv::text(Tag::LOG_MESSAGE, "x".repeat(1000))]);
    let r = exchange(&processor_with(limits), &request((2, 1), &Header::default(), vec![big]));
    assert_refused(&r, ResultReason::InvalidMessage);
}

#[test]
fn a_field_newer_than_the_request_version_is_an_invalid_field() {
    let groups = Ttlv::structure(Tag::OBJECT_GROUPS, vec![Ttlv::text(Tag::OBJECT_GROUP, "g")]);
    let q = |id: &[u8]| {
        item(
            Operation::Query,
            Some(id),
            vec![
                Ttlv::enumeration(Tag::QUERY_FUNCTION, QueryFunction::QueryOperations.to_u32()),
                groups.clone(),
            ],
        )
    };
    let r = exchange(&processor(), &request((2, 1), &Header::default(), vec![q(b"1")]));
    assert_eq!(r.batch_items[0].result_status, ResultStatus::Success);
    let r = exchange(&processor(), &request((1, 4), &Header::default(), vec![q(b"1")]));
    assert_eq!(r.batch_items[0].operation, Some(Operation::Query));
    assert_failed(&r.batch_items[0], ResultReason::InvalidField);
}

/// Byte flips, truncations and insertions anywhere in valid requests: the processor never
/// panics, and whatever it answers is a valid Response Message.
#[test]
fn mutated_requests_are_answered_or_closed_never_panic() {
    let h = Header { continuation: Some(BatchErrorContinuationOption::Continue), ..Header::default() };
    let seeds = [
        request(
            (1, 4),
            &h,
            vec![
                item(Operation::Query, Some(b"q"), query(&[QueryFunction::QueryOperations])),
                item(Operation::DiscoverVersions, Some(b"d"), vec![protocol_version(1, 4)]),
            ],
        ),
        request(
            (2, 1),
            &h,
            vec![
                log_item(b"l", "hello"),
                item(Operation::Activate, Some(b"a"), vec![Ttlv::text(Tag::UNIQUE_IDENTIFIER, "k")]),
            ],
        ),
    ];
    let p = processor();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut answered, mut closed) = (0, 0);
    for round in 0..20_000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..=(next() % 3) {
            let at = (next() as usize) % bytes.len();
            match next() % 4 {
                0 => bytes[at] ^= 1 << (next() % 8),
                1 => bytes[at] = next() as u8,
                2 => bytes.truncate(at.max(1)),
                _ => bytes.insert(at, next() as u8),
            }
        }
        match p.process(&ctx(), &bytes) {
            Reply::Send(out) => {
                let tree = binary::decode(&out, &binary::DecodeLimits::default()).unwrap();
                kmipd::kmip::ResponseMessage::from_ttlv(&tree).unwrap();
                answered += 1;
            }
            Reply::Close(_) => closed += 1,
        }
    }
    eprintln!("{answered} answered, {closed} closed");
    assert!(answered > 1_000 && closed > 1_000);
}

#[test]
fn a_header_field_newer_than_the_request_version_is_an_invalid_field() {
    // Attestation Capable Indicator exists from 1.2 on.
    let header = |minor| {
        Ttlv::structure(
            Tag::REQUEST_HEADER,
            vec![
                protocol_version(1, minor),
                Ttlv::boolean(Tag::ATTESTATION_CAPABLE_INDICATOR, false),
                Ttlv::integer(Tag::BATCH_COUNT, 1),
            ],
        )
    };
    let message = |minor| {
        let tree =
            Ttlv::structure(Tag::REQUEST_MESSAGE, vec![header(minor), item(Operation::Query, None, vec![])]);
        binary::encode(&tree).unwrap()
    };
    let r = exchange(&processor(), &message(1));
    assert_eq!(version_of(&r), (1, 1));
    assert_refused(&r, ResultReason::InvalidField);
    let r = exchange(&processor(), &message(2));
    assert_eq!(r.batch_items[0].result_status, ResultStatus::Success);
}
