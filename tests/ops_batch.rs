//! Batch semantics through the public processor with the operations kmipd implements today
//! (Query, Discover Versions, Interop, Log) and ones it does not (answered Operation Not
//! Supported): continuation options, Unique Batch Item IDs, Batch Count, the batch-size
//! limit, Maximum Response Size, asynchronous and critical-extension requests.

mod ops_support;

use std::time::Instant;

use kmipd::kmip::enums::{
    AsynchronousIndicator, BatchErrorContinuationOption, Operation, QueryFunction, ResultReason, ResultStatus,
};
use kmipd::kmip::KmipEnum;
use kmipd::ops::Limits;
use kmipd::ttlv::binary;
use kmipd::ttlv::{Tag, Ttlv};
use ops_support::*;

const V14: (i32, i32) = (1, 4);
const V21: (i32, i32) = (2, 1);

fn discover(id: &[u8]) -> Ttlv {
    item(Operation::DiscoverVersions, Some(id), vec![])
}

/// An operation kmipd does not implement yet, with a payload the model accepts.
fn activate(id: &[u8]) -> Ttlv {
    item(Operation::Activate, Some(id), vec![])
}

fn statuses(r: &kmipd::kmip::ResponseMessage) -> Vec<ResultStatus> {
    r.batch_items.iter().map(|i| i.result_status).collect()
}

#[test]
fn unique_batch_item_ids_are_echoed_on_success_and_failure() {
    let h = Header { continuation: Some(BatchErrorContinuationOption::Continue), ..Header::default() };
    let r = exchange(
        &processor(),
        &request(V21, &h, vec![discover(b"a"), activate(b"bb"), log_item(b"ccc", "hi")]),
    );
    let ids: Vec<_> = r.batch_items.iter().map(|i| i.unique_batch_item_id.clone().unwrap()).collect();
    assert_eq!(ids, vec![b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()]);
    assert_eq!(r.batch_items[1].operation, Some(Operation::Activate));
    assert_failed(&r.batch_items[1], ResultReason::OperationNotSupported);
}

#[test]
fn items_without_an_id_get_none_back() {
    let r = exchange(
        &processor(),
        &request(V14, &Header::default(), vec![item(Operation::DiscoverVersions, None, vec![])]),
    );
    assert_eq!(r.batch_items[0].unique_batch_item_id, None);
    assert_eq!(r.batch_items[0].result_status, ResultStatus::Success);
}

#[test]
fn stop_is_the_default_and_drops_later_items() {
    for continuation in [None, Some(BatchErrorContinuationOption::Stop)] {
        let h = Header { continuation, ..Header::default() };
        let r =
            exchange(&processor(), &request(V14, &h, vec![discover(b"1"), activate(b"2"), discover(b"3")]));
        assert_eq!(statuses(&r), vec![ResultStatus::Success, ResultStatus::OperationFailed]);
        assert_eq!(r.header.batch_count, 2);
    }
}

#[test]
fn continue_answers_every_item() {
    let h = Header { continuation: Some(BatchErrorContinuationOption::Continue), ..Header::default() };
    let r = exchange(
        &processor(),
        &request(V14, &h, vec![activate(b"1"), discover(b"2"), activate(b"3"), discover(b"4")]),
    );
    use ResultStatus::*;
    assert_eq!(statuses(&r), vec![OperationFailed, Success, OperationFailed, Success]);
    assert_eq!(r.header.batch_count, 4);
}

#[test]
fn undo_marks_earlier_items_undone() {
    let h = Header { continuation: Some(BatchErrorContinuationOption::Undo), ..Header::default() };
    let r = exchange(
        &processor(),
        &request(V21, &h, vec![log_item(b"1", "a"), discover(b"2"), activate(b"3"), discover(b"4")]),
    );
    use ResultStatus::*;
    assert_eq!(statuses(&r), vec![OperationUndone, OperationUndone, OperationFailed]);
    // Undone items keep what they answered (as the OASIS reference answers do), with no reason.
    assert!(r.batch_items[..2].iter().all(|i| i.result_reason.is_none()));
    assert!(r.batch_items[1].payload.is_some());
}

#[test]
fn batch_order_option_either_way_runs_in_order() {
    for order in [true, false] {
        let h = Header { batch_order: Some(order), ..Header::default() };
        let r = exchange(&processor(), &request(V14, &h, vec![discover(b"1"), discover(b"2")]));
        assert_eq!(statuses(&r), vec![ResultStatus::Success; 2]);
        assert_eq!(r.batch_items[1].unique_batch_item_id, Some(b"2".to_vec()));
    }
}

#[test]
fn batch_count_must_match_the_items() {
    for count in [1, 3, 0, -1] {
        let h = Header { batch_count: Some(count), ..Header::default() };
        let r = exchange(&processor(), &request(V14, &h, vec![discover(b"1"), discover(b"2")]));
        assert_eq!(version_of(&r), V14);
        assert_refused(&r, ResultReason::InvalidMessage);
    }
}

#[test]
fn ten_thousand_items_are_refused_cleanly_and_the_limit_itself_is_served() {
    let p = processor();
    let max = p.limits().max_batch_items;
    let items = |n: usize| (0..n).map(|i| discover(&(i as u32).to_be_bytes())).collect::<Vec<_>>();

    let started = Instant::now();
    let r = exchange(&p, &request(V21, &Header::default(), items(10_000)));
    assert_refused(&r, ResultReason::ServerLimitExceeded);
    let r = exchange(&p, &request(V14, &Header::default(), items(10_000)));
    assert_refused(&r, ResultReason::GeneralFailure);
    let refusing = started.elapsed();

    let r = exchange(&p, &request(V21, &Header::default(), items(max)));
    assert_eq!(r.batch_items.len(), max);
    assert!(r.batch_items.iter().all(|i| i.result_status == ResultStatus::Success));
    eprintln!("refusing two 10,000-item batches took {refusing:?}");
}

#[test]
fn a_raised_limit_serves_ten_thousand_items() {
    let p = processor_with(Limits { max_batch_items: 10_000, ..Limits::default() });
    let items = (0..10_000u32).map(|i| log_item(&i.to_be_bytes(), "x")).collect();
    let started = Instant::now();
    let r = exchange(&p, &request(V21, &Header::default(), items));
    eprintln!("10,000 Log items: {:?}", started.elapsed());
    assert_eq!(r.batch_items.len(), 10_000);
    assert_eq!(r.batch_items[9_999].unique_batch_item_id, Some(9_999u32.to_be_bytes().to_vec()));
}

#[test]
fn maximum_response_size_fails_the_item_that_does_not_fit() {
    let p = processor();
    let q = || {
        item(Operation::Query, None, query(&[QueryFunction::QueryOperations, QueryFunction::QueryObjects]))
    };
    let tiny = Header { maximum_response_size: Some(64), ..Header::default() };
    let r = exchange(&p, &request(V14, &tiny, vec![q()]));
    assert_eq!(r.batch_items[0].operation, Some(Operation::Query));
    assert_failed(&r.batch_items[0], ResultReason::ResponseTooLarge);

    assert_eq!(r.batch_items[0].result_message, None, "no room for the optional Result Message");

    // Room for the error answer with its message, not for the Query answer.
    let full = item(
        Operation::Query,
        None,
        query(&[
            QueryFunction::QueryOperations,
            QueryFunction::QueryServerInformation,
            QueryFunction::QueryCapabilities,
        ]),
    );
    let some = Header { maximum_response_size: Some(250), ..Header::default() };
    let r = exchange(&p, &request(V21, &some, vec![full]));
    assert_failed(&r.batch_items[0], ResultReason::ResponseTooLarge);
    assert!(r.batch_items[0].result_message.as_deref().unwrap().contains("over the limit of 250"));
    assert!(binary::encode(&r.to_ttlv()).unwrap().len() <= 250);

    let ample = Header { maximum_response_size: Some(2048), ..Header::default() };
    let r = exchange(&p, &request(V14, &ample, vec![q()]));
    assert_eq!(r.batch_items[0].result_status, ResultStatus::Success);
}

#[test]
fn the_response_never_exceeds_the_limit_when_answers_fit() {
    // Room for exactly two Discover Versions answers: the third fails, Stop drops the fourth.
    let p = processor();
    let one =
        binary::encode(&exchange(&p, &request(V21, &Header::default(), vec![discover(b"1")])).to_ttlv())
            .unwrap()
            .len();
    let two = binary::encode(
        &exchange(&p, &request(V21, &Header::default(), vec![discover(b"1"), discover(b"2")])).to_ttlv(),
    )
    .unwrap()
    .len();
    let h = Header { maximum_response_size: Some(two as i32), ..Header::default() };
    let r =
        exchange(&p, &request(V21, &h, vec![discover(b"1"), discover(b"2"), discover(b"3"), discover(b"4")]));
    assert_eq!(
        statuses(&r),
        vec![ResultStatus::Success, ResultStatus::Success, ResultStatus::OperationFailed]
    );
    assert_failed(&r.batch_items[2], ResultReason::ResponseTooLarge);
    assert!(one < two);
}

#[test]
fn the_servers_own_response_limit_applies_without_a_client_limit() {
    let p = processor_with(Limits { max_response_bytes: 100, ..Limits::default() });
    let r = exchange(&p, &request(V21, &Header::default(), vec![discover(b"1")]));
    assert_failed(&r.batch_items[0], ResultReason::ResponseTooLarge);
}

#[test]
fn a_non_positive_maximum_response_size_is_an_invalid_field() {
    for size in [0, -5] {
        let h = Header { maximum_response_size: Some(size), ..Header::default() };
        let r = exchange(&processor(), &request(V21, &h, vec![discover(b"1")]));
        assert_refused(&r, ResultReason::InvalidField);
    }
}

#[test]
fn asynchronous_capable_clients_are_answered_synchronously() {
    let p = processor();
    let h = Header {
        asynchronous_indicator: Some(Ttlv::boolean(Tag::ASYNCHRONOUS_INDICATOR, true)),
        ..Header::default()
    };
    let r = exchange(&p, &request(V14, &h, vec![discover(b"1")]));
    assert_eq!(statuses(&r), vec![ResultStatus::Success]);
    let optional = Ttlv::enumeration(Tag::ASYNCHRONOUS_INDICATOR, AsynchronousIndicator::Optional.to_u32());
    let h = Header { asynchronous_indicator: Some(optional), ..Header::default() };
    let r = exchange(&p, &request(V21, &h, vec![discover(b"1")]));
    assert_eq!(statuses(&r), vec![ResultStatus::Success]);
}

#[test]
fn mandatory_asynchronous_requests_are_refused() {
    let mandatory = Ttlv::enumeration(Tag::ASYNCHRONOUS_INDICATOR, AsynchronousIndicator::Mandatory.to_u32());
    let h = Header { asynchronous_indicator: Some(mandatory), ..Header::default() };
    let r = exchange(&processor(), &request(V21, &h, vec![discover(b"1")]));
    assert_eq!(version_of(&r), V21);
    assert_refused(&r, ResultReason::FeatureNotSupported);
}

fn with_extension(mut batch_item: Ttlv, critical: bool) -> Ttlv {
    let ext = Ttlv::structure(
        Tag::MESSAGE_EXTENSION,
        vec![
            Ttlv::text(Tag::VENDOR_IDENTIFICATION, "ACME"),
            Ttlv::boolean(Tag::CRITICALITY_INDICATOR, critical),
            Ttlv::structure(Tag::VENDOR_EXTENSION, vec![]),
        ],
    );
    if let kmipd::ttlv::Value::Structure(c) = &mut batch_item.value {
        c.push(ext);
    }
    batch_item
}

#[test]
fn critical_extensions_fail_their_item_and_others_are_ignored() {
    let p = processor();
    let r = exchange(&p, &request(V21, &Header::default(), vec![with_extension(discover(b"1"), true)]));
    assert_failed(&r.batch_items[0], ResultReason::UnknownMessageExtension);
    let r = exchange(&p, &request(V14, &Header::default(), vec![with_extension(discover(b"1"), true)]));
    assert_failed(&r.batch_items[0], ResultReason::FeatureNotSupported);
    let r = exchange(&p, &request(V21, &Header::default(), vec![with_extension(discover(b"1"), false)]));
    assert_eq!(statuses(&r), vec![ResultStatus::Success]);
}

#[test]
fn every_unimplemented_operation_is_operation_not_supported() {
    let p = processor();
    let info = kmipd::ttlv::registry::enumeration_for_tag(Tag::OPERATION).unwrap();
    for value in info.values {
        let op = Operation::from_u32(value.value).unwrap();
        if kmipd::ops::implements(op) {
            continue;
        }
        // An empty payload: the typed ones that need fields fail to decode (Invalid Message),
        // the others reach the dispatch. Either way the answer is a clean failure.
        let r = exchange(&p, &request(V21, &Header::default(), vec![item(op, Some(b"x"), vec![])]));
        let answer = &r.batch_items[0];
        assert_eq!(answer.result_status, ResultStatus::OperationFailed, "{op:?}");
        let reason = answer.result_reason.unwrap();
        assert!(
            matches!(reason, ResultReason::OperationNotSupported | ResultReason::InvalidMessage),
            "{op:?}: {reason:?}"
        );
        assert_eq!(answer.unique_batch_item_id, Some(b"x".to_vec()));
    }
}

#[test]
fn interop_and_log_are_2_x_only() {
    let p = processor();
    let interop = item(
        Operation::Interop,
        Some(b"1"),
        vec![
            Ttlv::enumeration(Tag::INTEROP_FUNCTION, kmipd::kmip::enums::InteropFunction::Begin.to_u32()),
            Ttlv::text(Tag::INTEROP_IDENTIFIER, "BL-M-1-21"),
        ],
    );
    let r = exchange(
        &p,
        &request(V21, &Header::default(), vec![interop.clone(), log_item(b"2", "line\nforged")]),
    );
    assert_eq!(statuses(&r), vec![ResultStatus::Success; 2]);
    let r = exchange(&p, &request(V14, &Header::default(), vec![interop]));
    assert_failed(&r.batch_items[0], ResultReason::OperationNotSupported);
    // 1.4 does not define the Interop operation value: it is not echoed back.
    assert_eq!(r.batch_items[0].operation, None);
}
