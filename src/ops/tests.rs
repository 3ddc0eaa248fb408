//! Batch semantics driven with stand-in object operations (Create, Activate, Destroy), since
//! the real ones land later: ID Placeholder, continuation options with undo, Response Too
//! Large in the middle of a batch.

use std::sync::{Arc, Mutex};

use super::*;
use crate::kmip::enums::ObjectType;
use crate::kmip::objects::CapabilityInformation;
use crate::kmip::objects::UniqueIdentifier;
use crate::kmip::payloads::{CreateResponse, IdentifierResponse, QueryResponse};

const V1_4: (i32, i32) = (1, 4);
const V2_1: (i32, i32) = (2, 1);

/// A stand-in for the object operations: Create makes `uid-N` (undo: logged), Activate
/// acts on a known identifier, Destroy can't be undone.
#[derive(Default)]
struct Fake {
    objects: Vec<String>,
    undone: Arc<Mutex<Vec<String>>>,
    fail_undo: bool,
}

impl Fake {
    fn run(&mut self, cx: &OpContext<'_>, item: &RequestBatchItem) -> Result<Outcome, OpError> {
        match &item.payload {
            RequestPayload::Create(_) => {
                let uid = format!("uid-{}", self.objects.len());
                self.objects.push(uid.clone());
                let undone = Arc::clone(&self.undone);
                let logged = uid.clone();
                let fail = self.fail_undo;
                let undo: UndoAction = Box::new(move |_backend| {
                    if fail {
                        return Err(OpError::Internal("HSM unavailable".into()));
                    }
                    undone.lock().map_err(|_| OpError::Internal("poisoned".into()))?.push(logged);
                    Ok(())
                });
                Ok(Outcome {
                    payload: ResponsePayload::Create(Box::new(CreateResponse {
                        object_type: ObjectType::SymmetricKey,
                        unique_identifier: UniqueIdentifier::Text(uid),
                        template_attribute: None,
                    })),
                    undo: Some(undo),
                })
            }
            RequestPayload::Activate(req) => {
                let uid = cx.batch.resolve(req.unique_identifier.as_ref())?;
                if !self.objects.contains(&uid) {
                    return Err(OpError::InvalidField(format!("no object {uid}")));
                }
                Ok(Outcome::reply(ResponsePayload::Activate(Box::new(IdentifierResponse {
                    unique_identifier: UniqueIdentifier::Text(uid),
                }))))
            }
            // A buggy operation: answers with a 1.3 structure whatever the version.
            RequestPayload::Query(_) => Ok(Outcome::reply(ResponsePayload::Query(Box::new(QueryResponse {
                capability_information: vec![CapabilityInformation {
                    streaming_capability: Some(false),
                    asynchronous_capability: None,
                    attestation_capability: None,
                    batch_undo_capability: None,
                    batch_continue_capability: None,
                    unwrap_mode: None,
                    destroy_action: None,
                    shredding_algorithm: None,
                    rng_mode: None,
                    quantum_safe_capability: None,
                }],
                ..QueryResponse::default()
            })))),
            RequestPayload::Check(_) => Err(OpError::InvalidField("policy says no".into())),
            RequestPayload::Destroy(_) if cx.batch.undo_requested() => {
                Err(OpError::FeatureNotSupported("Destroy can't be undone".into()))
            }
            _ => Err(OpError::OperationNotSupported { operation: item.operation, detail: "" }),
        }
    }
}

fn header(
    version: (i32, i32),
    max: Option<i32>,
    continuation: Option<BatchErrorContinuationOption>,
    count: usize,
) -> Ttlv {
    let mut h = vec![Ttlv::structure(
        Tag::PROTOCOL_VERSION,
        vec![
            Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, version.0),
            Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, version.1),
        ],
    )];
    if let Some(m) = max {
        h.push(Ttlv::integer(Tag::MAXIMUM_RESPONSE_SIZE, m));
    }
    if let Some(c) = continuation {
        h.push(Ttlv::enumeration(Tag::BATCH_ERROR_CONTINUATION_OPTION, c.to_u32()));
    }
    h.push(Ttlv::integer(Tag::BATCH_COUNT, i32::try_from(count).unwrap()));
    Ttlv::structure(Tag::REQUEST_HEADER, h)
}

fn item(op: Operation, id: u8, payload: Vec<Ttlv>) -> Ttlv {
    Ttlv::structure(
        Tag::BATCH_ITEM,
        vec![
            Ttlv::enumeration(Tag::OPERATION, op.to_u32()),
            Ttlv::bytes(Tag::UNIQUE_BATCH_ITEM_ID, vec![id]),
            Ttlv::structure(Tag::REQUEST_PAYLOAD, payload),
        ],
    )
}

fn create(id: u8) -> Ttlv {
    item(Operation::Create, id, vec![Ttlv::enumeration(Tag::OBJECT_TYPE, ObjectType::SymmetricKey.to_u32())])
}

fn activate(id: u8, uid: Option<Ttlv>) -> Ttlv {
    item(Operation::Activate, id, uid.into_iter().collect())
}

fn run_batch(
    fake: &mut Fake,
    version: (i32, i32),
    max: Option<i32>,
    continuation: Option<BatchErrorContinuationOption>,
    items: Vec<Ttlv>,
) -> ResponseMessage {
    let mut children = vec![header(version, max, continuation, items.len())];
    children.extend(items);
    let bytes = binary::encode(&Ttlv::structure(Tag::REQUEST_MESSAGE, children)).unwrap();
    let p = Processor::new(Limits::default(), Arc::new(NoBackend));
    let ctx = RequestContext { client_identity: "test".into(), connection_id: 1, ..RequestContext::default() };
    let reply = p.process_with(&ctx, &bytes, &mut |cx, item| fake.run(cx, item));
    let Reply::Send(out) = reply else { panic!("closed: {reply:?}") };
    ResponseMessage::from_ttlv(&binary::decode(&out, &DecodeLimits::default()).unwrap()).unwrap()
}

fn uid_of(item: &ResponseBatchItem) -> String {
    let tree = item.payload.as_ref().unwrap().to_ttlv();
    match &tree.child(Tag::UNIQUE_IDENTIFIER).unwrap().value {
        Value::TextString(s) => s.clone(),
        other => panic!("{other:?}"),
    }
}

fn statuses(r: &ResponseMessage) -> Vec<(ResultStatus, Option<ResultReason>)> {
    r.batch_items.iter().map(|i| (i.result_status, i.result_reason)).collect()
}

const OK: (ResultStatus, Option<ResultReason>) = (ResultStatus::Success, None);
const UNDONE: (ResultStatus, Option<ResultReason>) = (ResultStatus::OperationUndone, None);

fn failed(reason: ResultReason) -> (ResultStatus, Option<ResultReason>) {
    (ResultStatus::OperationFailed, Some(reason))
}

#[test]
fn later_items_use_the_id_placeholder() {
    let mut fake = Fake::default();
    let r = run_batch(
        &mut fake,
        V1_4,
        None,
        None,
        vec![create(1), activate(2, None), create(3), activate(4, None)],
    );
    assert_eq!(statuses(&r), vec![OK, OK, OK, OK]);
    assert_eq!(uid_of(&r.batch_items[1]), uid_of(&r.batch_items[0]));
    assert_eq!(uid_of(&r.batch_items[3]), uid_of(&r.batch_items[2]));
    assert_ne!(uid_of(&r.batch_items[1]), uid_of(&r.batch_items[3]));
    let ids: Vec<_> = r.batch_items.iter().map(|i| i.unique_batch_item_id.clone().unwrap()).collect();
    assert_eq!(ids, vec![vec![1], vec![2], vec![3], vec![4]]);
}

#[test]
fn the_placeholder_does_not_outlive_its_request() {
    let mut fake = Fake::default();
    run_batch(&mut fake, V1_4, None, None, vec![create(1)]);
    let r = run_batch(&mut fake, V1_4, None, None, vec![activate(1, None)]);
    assert_eq!(statuses(&r), vec![failed(ResultReason::MissingData)]);
}

#[test]
fn kmip_2_references_name_earlier_results() {
    let mut fake = Fake::default();
    let placeholder = Ttlv::enumeration(
        Tag::UNIQUE_IDENTIFIER,
        crate::kmip::enums::UniqueIdentifier::IDPlaceholder.to_u32(),
    );
    let by_create =
        Ttlv::enumeration(Tag::UNIQUE_IDENTIFIER, crate::kmip::enums::UniqueIdentifier::Create.to_u32());
    let first = Ttlv::integer(Tag::UNIQUE_IDENTIFIER, 0);
    let r = run_batch(
        &mut fake,
        V2_1,
        None,
        None,
        vec![
            create(1),
            create(2),
            activate(3, Some(placeholder)),
            activate(4, Some(by_create)),
            activate(5, Some(first)),
        ],
    );
    assert_eq!(statuses(&r), vec![OK; 5]);
    let second = uid_of(&r.batch_items[1]);
    assert_eq!(uid_of(&r.batch_items[2]), second);
    assert_eq!(uid_of(&r.batch_items[3]), second);
    assert_eq!(uid_of(&r.batch_items[4]), uid_of(&r.batch_items[0]));
}

#[test]
fn stop_drops_the_items_after_a_failure() {
    for continuation in [None, Some(BatchErrorContinuationOption::Stop)] {
        let mut fake = Fake::default();
        let missing = Some(Ttlv::text(Tag::UNIQUE_IDENTIFIER, "nope"));
        let r =
            run_batch(&mut fake, V1_4, None, continuation, vec![create(1), activate(2, missing), create(3)]);
        assert_eq!(statuses(&r), vec![OK, failed(ResultReason::InvalidField)]);
        assert_eq!(r.header.batch_count, 2);
        assert_eq!(r.batch_items[1].unique_batch_item_id, Some(vec![2]));
        assert_eq!(fake.objects.len(), 1, "the third item must not run");
    }
}

#[test]
fn continue_runs_every_item() {
    let mut fake = Fake::default();
    let missing = Some(Ttlv::text(Tag::UNIQUE_IDENTIFIER, "nope"));
    let r = run_batch(
        &mut fake,
        V1_4,
        None,
        Some(BatchErrorContinuationOption::Continue),
        vec![create(1), activate(2, missing), create(3), activate(4, None)],
    );
    assert_eq!(statuses(&r), vec![OK, failed(ResultReason::InvalidField), OK, OK]);
    assert_eq!(uid_of(&r.batch_items[3]), "uid-1");
}

#[test]
fn undo_reverses_earlier_items_in_reverse_order() {
    let mut fake = Fake::default();
    let missing = Some(Ttlv::text(Tag::UNIQUE_IDENTIFIER, "nope"));
    let r = run_batch(
        &mut fake,
        V2_1,
        None,
        Some(BatchErrorContinuationOption::Undo),
        vec![create(1), activate(2, None), create(3), activate(4, missing), create(5)],
    );
    assert_eq!(statuses(&r), vec![UNDONE, UNDONE, UNDONE, failed(ResultReason::InvalidField)]);
    // Undone items keep their payload, as the OASIS reference answers show.
    assert!(r.batch_items[..3].iter().all(|i| i.payload.is_some()));
    assert_eq!(*fake.undone.lock().unwrap(), vec!["uid-1".to_owned(), "uid-0".to_owned()]);
}

#[test]
fn undo_refuses_irreversible_operations_before_they_act() {
    let mut fake = Fake::default();
    let destroy = item(Operation::Destroy, 2, vec![]);
    let r =
        run_batch(&mut fake, V2_1, None, Some(BatchErrorContinuationOption::Undo), vec![create(1), destroy]);
    assert_eq!(statuses(&r), vec![UNDONE, failed(ResultReason::FeatureNotSupported)]);
    assert_eq!(*fake.undone.lock().unwrap(), vec!["uid-0".to_owned()]);
}

#[test]
fn a_failed_undo_is_reported_on_its_item() {
    let mut fake = Fake { fail_undo: true, ..Fake::default() };
    let missing = Some(Ttlv::text(Tag::UNIQUE_IDENTIFIER, "nope"));
    let r = run_batch(
        &mut fake,
        V2_1,
        None,
        Some(BatchErrorContinuationOption::Undo),
        vec![create(1), activate(2, missing)],
    );
    assert_eq!(statuses(&r), vec![failed(ResultReason::GeneralFailure), failed(ResultReason::InvalidField)]);
    assert_eq!(r.batch_items[0].operation, Some(Operation::Create));
    assert_eq!(r.batch_items[0].unique_batch_item_id, Some(vec![1]));
    assert!(r.batch_items[0].result_message.as_deref().unwrap().contains("could not be undone"));
}

#[test]
fn response_too_large_mid_batch_is_a_failure_of_that_item() {
    // Measure one Create answer, then allow a response that holds exactly one.
    let mut fake = Fake::default();
    let one = run_batch(&mut fake, V1_4, None, None, vec![create(1)]);
    let size_one = binary::encode(&one.to_ttlv()).unwrap().len();
    let limit = i32::try_from(size_one).unwrap();

    let mut fake = Fake::default();
    let r = run_batch(&mut fake, V1_4, Some(limit), None, vec![create(1), create(2), create(3)]);
    assert_eq!(statuses(&r), vec![OK, failed(ResultReason::ResponseTooLarge)]);
    assert_eq!(fake.objects.len(), 2, "Stop: the third item never runs");

    let mut fake = Fake::default();
    let r = run_batch(
        &mut fake,
        V1_4,
        Some(limit),
        Some(BatchErrorContinuationOption::Undo),
        vec![create(1), create(2)],
    );
    assert_eq!(statuses(&r), vec![UNDONE, failed(ResultReason::ResponseTooLarge)]);
    // The item that did not fit had acted: it is reversed too.
    assert_eq!(*fake.undone.lock().unwrap(), vec!["uid-1".to_owned(), "uid-0".to_owned()]);
}

#[test]
fn the_processor_is_shared_across_connection_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Processor>();
}

#[test]
fn a_failed_check_empties_the_placeholder() {
    let mut fake = Fake::default();
    let check = item(Operation::Check, 2, vec![]);
    let r = run_batch(
        &mut fake,
        V1_4,
        None,
        Some(BatchErrorContinuationOption::Continue),
        vec![create(1), check, activate(3, None)],
    );
    assert_eq!(statuses(&r), vec![OK, failed(ResultReason::InvalidField), failed(ResultReason::MissingData)]);
}

#[test]
fn an_answer_the_version_cannot_express_becomes_a_general_failure() {
    let query = || item(Operation::Query, 1, vec![]);
    let r = run_batch(&mut Fake::default(), (1, 2), None, None, vec![query()]);
    assert_eq!(statuses(&r), vec![failed(ResultReason::GeneralFailure)]);
    assert!(r.batch_items[0].result_message.as_deref().unwrap().contains("CapabilityInformation"));
    let r = run_batch(&mut Fake::default(), (1, 3), None, None, vec![query()]);
    assert_eq!(statuses(&r), vec![OK]);
}
