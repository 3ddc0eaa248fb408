//! The typed KMIP model on hand-built and byte-level messages: exact round trips of the
//! `ttlv-examples.md` Part B messages, strictness (every kind of `ModelError` with its tag
//! path), and the 1.x ⇄ 2.x attribute conversions and version rules.

use kmipd::kmip::attributes::{
    attribute_exists_in, check_in_version, AttributeHolder, Attributes, CustomAttribute, IndexedAttribute,
    TemplateAttribute,
};
use kmipd::kmip::enums::{CryptographicAlgorithm, NameType, Operation, QueryFunction, ResultReason};
use kmipd::kmip::objects::{Name, UniqueIdentifier};
use kmipd::kmip::payloads::{RequestPayload, ResponsePayload};
use kmipd::kmip::{Attribute, FromTtlv, ModelError, RequestMessage, ResponseMessage, ToTtlv};
use kmipd::ttlv::registry::Version;
use kmipd::ttlv::{decode, encode, DecodeLimits, Tag, Ttlv, Value};

/// `ttlv-examples.md` Part B M1 (MSGENC-JSON-M-1-10).
const M1: &[&str] = &[
    "42007801000000904200770100000048420069010000002042006a02000000040000000100000000",
    "42006b020000000400000000000000004200500200000004000001000000000042000d0200000004",
    "000000010000000042000f010000003842005c050000000400000018000000004200790100000020",
    "4200740500000004000000010000000042007405000000040000000200000000",
];

/// `ttlv-examples.md` Part B M2 (MSGENC-JSON-M-1-10).
const M2: &[&str] = &[
    "42007b01000000a042007a0100000048420069010000002042006a02000000040000000100000000",
    "42006b0200000004000000000000000042009209000000080000000051caafbd42000d0200000004",
    "000000010000000042000f010000004842005c0500000004000000180000000042007f0500000004",
    "000000010000000042007e0500000004000000020000000042007d0700000009544f4f5f4c415247",
    "4500000000000000",
];

/// `ttlv-examples.md` Part B M3 (MSGENC-JSON-M-1-10).
const M3: &[&str] = &[
    "42007801000000904200770100000048420069010000002042006a02000000040000000100000000",
    "42006b020000000400000000000000004200500200000004000008000000000042000d0200000004",
    "000000010000000042000f010000003842005c050000000400000018000000004200790100000020",
    "4200740500000004000000010000000042007405000000040000000200000000",
];

/// `ttlv-examples.md` Part B M4 (MSGENC-JSON-M-1-10).
const M4: &[&str] = &[
    "42007b01000002a042007a0100000048420069010000002042006a02000000040000000100000000",
    "42006b0200000004000000000000000042009209000000080000000051caafbd42000d0200000004",
    "000000010000000042000f010000024842005c0500000004000000180000000042007f0500000004",
    "000000000000000042007c010000022042005c0500000004000000180000000042005c0500000004",
    "000000080000000042005c0500000004000000140000000042005c05000000040000000a00000000",
    "42005c0500000004000000010000000042005c0500000004000000030000000042005c0500000004",
    "0000000b0000000042005c05000000040000000c0000000042005c05000000040000000d00000000",
    "42005c05000000040000000e0000000042005c05000000040000000f0000000042005c0500000004",
    "000000120000000042005c0500000004000000130000000042005c05000000040000001a00000000",
    "42005c0500000004000000190000000042005c0500000004000000090000000042005c0500000004",
    "000000110000000042005c0500000004000000020000000042005c05000000040000000400000000",
    "42005c0500000004000000150000000042005c0500000004000000160000000042005c0500000004",
    "000000100000000042005c0500000004000000060000000042005c05000000040000000700000000",
    "42005c05000000040000001b0000000042005c05000000040000001c000000004200570500000004",
    "00000001000000004200570500000004000000020000000042005705000000040000000700000000",
    "42005705000000040000000300000000420057050000000400000004000000004200570500000004",
    "00000006000000004200570500000004000000080000000042005705000000040000000500000000",
];

fn bytes(parts: &[&str]) -> Vec<u8> {
    hex::decode(parts.concat()).unwrap()
}

fn tree(parts: &[&str]) -> Ttlv {
    decode(&bytes(parts), &DecodeLimits::default()).unwrap()
}

#[test]
fn part_b_requests_round_trip_byte_for_byte() {
    for parts in [M1, M3] {
        let item = tree(parts);
        let msg = RequestMessage::from_ttlv(&item).unwrap();
        assert_eq!(msg.header.protocol_version.major, 1);
        assert_eq!(msg.header.protocol_version.minor, 0);
        assert_eq!(msg.batch_items.len(), 1);
        let RequestPayload::Query(q) = &msg.batch_items[0].payload else { panic!("not a Query") };
        assert_eq!(q.query_functions, vec![QueryFunction::QueryOperations, QueryFunction::QueryObjects]);
        assert_eq!(msg.to_ttlv(), item);
        assert_eq!(encode(&msg.to_ttlv()).unwrap(), bytes(parts));
    }
    let m1 = RequestMessage::from_ttlv(&tree(M1)).unwrap();
    assert_eq!(m1.header.maximum_response_size, Some(256));
    let m3 = RequestMessage::from_ttlv(&tree(M3)).unwrap();
    assert_eq!(m3.header.maximum_response_size, Some(2048));
}

#[test]
fn part_b_responses_round_trip_byte_for_byte() {
    let m2 = ResponseMessage::from_ttlv(&tree(M2)).unwrap();
    let item = &m2.batch_items[0];
    assert_eq!(item.result_reason, Some(ResultReason::ResponseTooLarge));
    assert_eq!(item.result_message.as_deref(), Some("TOO_LARGE"));
    assert!(item.payload.is_none());
    assert_eq!(encode(&m2.to_ttlv()).unwrap(), bytes(M2));

    let m4 = ResponseMessage::from_ttlv(&tree(M4)).unwrap();
    let Some(ResponsePayload::Query(q)) = &m4.batch_items[0].payload else { panic!("not a Query") };
    assert_eq!(q.operations.len(), 26);
    assert!(q.operations.contains(&Operation::Locate));
    assert_eq!(q.object_types.len(), 8);
    assert_eq!(encode(&m4.to_ttlv()).unwrap(), bytes(M4));
}

fn header(major: i32, minor: i32, batch_count: usize) -> Ttlv {
    Ttlv::structure(
        Tag::REQUEST_HEADER,
        vec![
            Ttlv::structure(
                Tag::PROTOCOL_VERSION,
                vec![
                    Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, major),
                    Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, minor),
                ],
            ),
            Ttlv::integer(Tag::BATCH_COUNT, batch_count as i32),
        ],
    )
}

fn request(major: i32, minor: i32, items: Vec<(Operation, Vec<Ttlv>)>) -> Ttlv {
    let mut children = vec![header(major, minor, items.len())];
    for (op, payload) in items {
        children.push(Ttlv::structure(
            Tag::BATCH_ITEM,
            vec![
                Ttlv::enumeration(Tag::OPERATION, kmipd::kmip::KmipEnum::to_u32(op)),
                Ttlv::structure(Tag::REQUEST_PAYLOAD, payload),
            ],
        ));
    }
    Ttlv::structure(Tag::REQUEST_MESSAGE, children)
}

fn attribute_v1(name: &str, value: Ttlv) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE,
        vec![Ttlv::text(Tag::ATTRIBUTE_NAME, name), Ttlv::new(Tag::ATTRIBUTE_VALUE, value.value)],
    )
}

fn create_v1() -> Vec<Ttlv> {
    vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, 2),
        Ttlv::structure(
            Tag::TEMPLATE_ATTRIBUTE,
            vec![
                attribute_v1("Cryptographic Algorithm", Ttlv::enumeration(Tag::ATTRIBUTE_VALUE, 3)),
                attribute_v1("Cryptographic Length", Ttlv::integer(Tag::ATTRIBUTE_VALUE, 256)),
                attribute_v1(
                    "Name",
                    Ttlv::structure(
                        Tag::ATTRIBUTE_VALUE,
                        vec![Ttlv::text(Tag::NAME_VALUE, "key-1"), Ttlv::enumeration(Tag::NAME_TYPE, 1)],
                    ),
                ),
                attribute_v1("x-Product", Ttlv::text(Tag::ATTRIBUTE_VALUE, "vSphere")),
            ],
        ),
    ]
}

#[test]
fn create_1x_decodes_to_typed_attributes_and_round_trips() {
    let item = request(1, 4, vec![(Operation::Create, create_v1()), (Operation::Activate, vec![])]);
    let msg = RequestMessage::from_ttlv(&item).unwrap();
    let RequestPayload::Create(c) = &msg.batch_items[0].payload else { panic!("not Create") };
    let attrs = c.template_attribute.as_ref().unwrap().to_attribute_list();
    assert_eq!(attrs[0], Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES));
    assert_eq!(attrs[1], Attribute::CryptographicLength(256));
    assert_eq!(
        attrs[2],
        Attribute::Name(Name { name_value: "key-1".into(), name_type: NameType::UninterpretedTextString })
    );
    assert!(matches!(&attrs[3], Attribute::Custom(c) if c.attribute_name == "x-Product"));
    assert!(
        matches!(&msg.batch_items[1].payload, RequestPayload::Activate(a) if a.unique_identifier.is_none())
    );
    assert_eq!(msg.to_ttlv(), item);
}

#[test]
fn template_attribute_converts_to_2x_attributes_and_back() {
    let item = Ttlv::structure(Tag::TEMPLATE_ATTRIBUTE, create_v1().remove(1).children().to_vec());
    let path = kmipd::kmip::codec::Path::root(Tag::TEMPLATE_ATTRIBUTE);
    let template = TemplateAttribute::from_ttlv_item(&item, &path).unwrap();
    let v2 = template.to_attributes();
    let encoded = v2.to_ttlv_item(Tag::ATTRIBUTES);
    let tags: Vec<Tag> = encoded.children().iter().map(|c| c.tag).collect();
    assert_eq!(
        tags,
        vec![Tag::CRYPTOGRAPHIC_ALGORITHM, Tag::CRYPTOGRAPHIC_LENGTH, Tag::NAME, Tag::ATTRIBUTE]
    );
    // The custom attribute became a Vendor Attribute: vendor "x", name "Product".
    let vendor = &encoded.children()[3];
    assert_eq!(vendor.children()[0], Ttlv::text(Tag::VENDOR_IDENTIFICATION, "x"));
    assert_eq!(vendor.children()[1], Ttlv::text(Tag::ATTRIBUTE_NAME, "Product"));
    let back = Attributes::from_ttlv_item(&encoded, &path).unwrap();
    assert_eq!(back, v2);
    assert_eq!(back.to_template_attribute(), template);
}

#[test]
fn version_rules_follow_the_registry() {
    let v10 = Version::new(1, 0);
    let v14 = Version::new(1, 4);
    let v21 = Version::new(2, 1);
    assert!(!attribute_exists_in(Tag::FRESH, v10), "Fresh is a 1.1 attribute");
    assert!(attribute_exists_in(Tag::FRESH, v14));
    assert!(attribute_exists_in(Tag::OPERATION_POLICY_NAME, v14));
    assert!(!attribute_exists_in(Tag::OPERATION_POLICY_NAME, v21), "removed in 2.0");
    assert!(!attribute_exists_in(Tag::SHORT_UNIQUE_IDENTIFIER, v14));
    assert!(attribute_exists_in(Tag::SHORT_UNIQUE_IDENTIFIER, v21));
    // Key Block and Opaque Object fields since 1.0, attributes only since 2.0 (PyKMIP 0.11
    // can't decode a 1.x Get Attributes answer naming Key Format Type).
    for tag in [Tag::KEY_FORMAT_TYPE, Tag::OPAQUE_DATA_TYPE] {
        assert!(!attribute_exists_in(tag, v14), "{tag:?} is no 1.x attribute");
        assert!(attribute_exists_in(tag, Version::new(2, 0)));
    }
    let custom = Attribute::Custom(CustomAttribute {
        vendor_identification: None,
        attribute_name: "x-Product".into(),
        attribute_value: Value::TextString("p".into()),
    });
    assert!(custom.exists_in(v14));
    assert!(!custom.exists_in(v21));
    let Attribute::Custom(c) = &custom else { unreachable!() };
    assert!(Attribute::Custom(c.to_vendor_form()).exists_in(v21));
    let attrs = Attributes { attributes: vec![Attribute::Fresh(true), Attribute::CryptographicLength(128)] };
    assert_eq!(attrs.for_version(v10).attributes, vec![Attribute::CryptographicLength(128)]);
}

fn decode_error(item: &Ttlv) -> ModelError {
    RequestMessage::from_ttlv(item).unwrap_err()
}

#[test]
fn out_of_place_field_names_its_path() {
    // Key Format Type belongs to Get, not to Activate.
    let item = request(
        2,
        1,
        vec![
            (Operation::Activate, vec![]),
            (Operation::Activate, vec![Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 1)]),
        ],
    );
    let err = decode_error(&item);
    assert_eq!(
        err,
        ModelError::UnexpectedField {
            path: "RequestMessage/BatchItem[1]/RequestPayload/KeyFormatType".into()
        }
    );
    // Order matters too: Unique Identifier after Key Format Type is out of place in Get.
    let item = request(
        2,
        1,
        vec![(
            Operation::Get,
            vec![Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 1), Ttlv::text(Tag::UNIQUE_IDENTIFIER, "1")],
        )],
    );
    assert_eq!(
        decode_error(&item),
        ModelError::UnexpectedField {
            path: "RequestMessage/BatchItem[0]/RequestPayload/UniqueIdentifier".into()
        }
    );
}

#[test]
fn wrong_type_missing_field_unknown_enum_and_unknown_attribute_are_errors() {
    let item = request(2, 1, vec![(Operation::Get, vec![Ttlv::integer(Tag::KEY_FORMAT_TYPE, 1)])]);
    assert!(matches!(
        decode_error(&item),
        ModelError::WrongType { path, .. } if path == "RequestMessage/BatchItem[0]/RequestPayload/KeyFormatType"
    ));

    let item = request(1, 4, vec![(Operation::Create, vec![])]);
    assert_eq!(
        decode_error(&item),
        ModelError::MissingField {
            path: "RequestMessage/BatchItem[0]/RequestPayload".into(),
            field: Tag::OBJECT_TYPE
        }
    );

    let item = request(1, 4, vec![(Operation::Create, vec![Ttlv::enumeration(Tag::OBJECT_TYPE, 0x77)])]);
    assert!(matches!(
        decode_error(&item),
        ModelError::UnknownEnumValue { value: 0x77, enumeration: "Object Type", .. }
    ));
    // Extension values (high bit set) are legal and kept.
    let item =
        request(1, 4, vec![(Operation::Create, vec![Ttlv::enumeration(Tag::OBJECT_TYPE, 0x8000_0001)])]);
    let msg = RequestMessage::from_ttlv(&item).unwrap();
    assert_eq!(msg.to_ttlv(), item);

    let item = request(
        1,
        4,
        vec![(Operation::Locate, vec![attribute_v1("Colour", Ttlv::text(Tag::ATTRIBUTE_VALUE, "red"))])],
    );
    assert!(matches!(
        decode_error(&item),
        ModelError::UnknownAttribute { name, .. } if name == "Colour"
    ));

    // A 1.x attribute whose value has the wrong type.
    let item = request(
        1,
        4,
        vec![(
            Operation::Locate,
            vec![attribute_v1("Cryptographic Length", Ttlv::text(Tag::ATTRIBUTE_VALUE, "256"))],
        )],
    );
    assert!(matches!(
        decode_error(&item),
        ModelError::WrongType { path, .. } if path == "RequestMessage/BatchItem[0]/RequestPayload/Attribute[0]/AttributeValue"
    ));
}

#[test]
fn unmodelled_operations_keep_their_payload() {
    let payload = vec![Ttlv::bytes(Tag::ASYNCHRONOUS_CORRELATION_VALUE, vec![1, 2, 3])];
    let item = request(1, 2, vec![(Operation::Poll, payload.clone())]);
    let msg = RequestMessage::from_ttlv(&item).unwrap();
    match &msg.batch_items[0].payload {
        RequestPayload::Other { operation, payload: p } => {
            assert_eq!(*operation, Operation::Poll);
            assert_eq!(p.children(), payload.as_slice());
        }
        other => panic!("expected Other, got {other:?}"),
    }
    assert!(!msg.batch_items[0].payload.is_typed());
    assert_eq!(msg.to_ttlv(), item);
}

#[test]
fn unique_identifier_2x_forms_round_trip() {
    let forms = [
        Ttlv::text(Tag::UNIQUE_IDENTIFIER, "abc"),
        Ttlv::enumeration(Tag::UNIQUE_IDENTIFIER, 1), // ID Placeholder
        Ttlv::integer(Tag::UNIQUE_IDENTIFIER, -1),
    ];
    let path = kmipd::kmip::codec::Path::root(Tag::UNIQUE_IDENTIFIER);
    for f in forms {
        let uid = UniqueIdentifier::from_ttlv_item(&f, &path).unwrap();
        assert_eq!(uid.to_ttlv_item(Tag::UNIQUE_IDENTIFIER), f);
    }
}

#[test]
fn new_attribute_holds_exactly_one_attribute() {
    let path = kmipd::kmip::codec::Path::root(Tag::NEW_ATTRIBUTE);
    let one = Ttlv::structure(Tag::NEW_ATTRIBUTE, vec![Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, 128)]);
    let holder = AttributeHolder::from_ttlv_item(&one, &path).unwrap();
    assert_eq!(holder.attribute, Attribute::CryptographicLength(128));
    let two = Ttlv::structure(
        Tag::NEW_ATTRIBUTE,
        vec![Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, 128), Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, 256)],
    );
    assert!(matches!(AttributeHolder::from_ttlv_item(&two, &path), Err(ModelError::UnexpectedField { .. })));
    // A 1.x structure is not a 2.x attribute.
    let v1 = Ttlv::structure(
        Tag::NEW_ATTRIBUTE,
        vec![attribute_v1("Cryptographic Length", Ttlv::integer(Tag::ATTRIBUTE_VALUE, 1))],
    );
    assert!(matches!(AttributeHolder::from_ttlv_item(&v1, &path), Err(ModelError::InvalidValue { .. })));
    let indexed = IndexedAttribute { attribute: Attribute::CryptographicLength(1), attribute_index: Some(2) };
    let encoded = indexed.to_ttlv_item(Tag::ATTRIBUTE);
    assert_eq!(encoded.children()[1], Ttlv::integer(Tag::ATTRIBUTE_INDEX, 2));
}

#[test]
fn secrets_are_not_in_debug_output() {
    let item = Ttlv::structure(
        Tag::REQUEST_PAYLOAD,
        vec![
            Ttlv::text(Tag::UNIQUE_IDENTIFIER, "k"),
            Ttlv::bytes(Tag::DATA, b"very secret plaintext".to_vec()),
        ],
    );
    let path = kmipd::kmip::codec::Path::root(Tag::REQUEST_PAYLOAD);
    let p = kmipd::kmip::payloads::EncryptRequest::from_ttlv_item(&item, &path).unwrap();
    let shown = format!("{p:?}");
    assert!(!shown.contains("secret plaintext"));
    assert!(!shown.contains("76657279"));
    assert!(shown.contains("21 bytes"));
}

#[test]
fn tags_are_checked_against_the_protocol_version() {
    let v14 = request(1, 4, vec![(Operation::Create, create_v1())]);
    assert_eq!(check_in_version(&v14, Version::new(1, 4)), Ok(()));
    // Template-Attribute was removed in 2.0.
    assert_eq!(
        check_in_version(&v14, Version::new(2, 1)),
        Err(ModelError::NotInVersion {
            path: "RequestMessage/BatchItem/RequestPayload/TemplateAttribute".into(),
            version: Version::new(2, 1)
        })
    );
    // Attributes is new in 2.0.
    let v2_in_1 = request(
        1,
        4,
        vec![(
            Operation::Create,
            vec![Ttlv::enumeration(Tag::OBJECT_TYPE, 2), Ttlv::structure(Tag::ATTRIBUTES, vec![])],
        )],
    );
    assert!(matches!(
        check_in_version(&v2_in_1, Version::new(1, 4)),
        Err(ModelError::NotInVersion { path, .. }) if path.ends_with("RequestPayload/Attributes")
    ));
    // A 1.x attribute named by a later version: Fresh is 1.1.
    let fresh = request(
        1,
        0,
        vec![(Operation::Locate, vec![attribute_v1("Fresh", Ttlv::boolean(Tag::ATTRIBUTE_VALUE, true))])],
    );
    assert_eq!(
        check_in_version(&fresh, Version::new(1, 0)),
        Err(ModelError::NotInVersion {
            path: "RequestMessage/BatchItem/RequestPayload/Attribute/AttributeName".into(),
            version: Version::new(1, 0)
        })
    );
    assert_eq!(check_in_version(&fresh, Version::new(1, 1)), Ok(()));
}

#[test]
fn a_rejected_request_still_yields_its_header_and_items() {
    let item = request(
        2,
        1,
        vec![
            (Operation::Get, vec![Ttlv::integer(Tag::KEY_FORMAT_TYPE, 1)]),
            (Operation::Destroy, vec![Ttlv::text(Tag::UNIQUE_IDENTIFIER, "k")]),
        ],
    );
    let err = RequestMessage::from_ttlv(&item).unwrap_err();
    assert_eq!(err.result_reason(), ResultReason::InvalidMessage);
    let salvaged = RequestMessage::salvage(&item);
    assert_eq!(salvaged.header.unwrap().protocol_version.minor, 1);
    assert_eq!(salvaged.batch_items, vec![(Some(Operation::Get), None), (Some(Operation::Destroy), None)]);
}

#[test]
fn version_rules_require_each_versions_form() {
    let bare_create = vec![Ttlv::enumeration(Tag::OBJECT_TYPE, 2)];
    let v14 =
        RequestMessage::from_ttlv(&request(1, 4, vec![(Operation::Create, bare_create.clone())])).unwrap();
    assert_eq!(
        v14.check_rules(),
        Err(ModelError::MissingField {
            path: "RequestMessage/BatchItem[0]/RequestPayload".into(),
            field: Tag::TEMPLATE_ATTRIBUTE
        })
    );
    let v21 = RequestMessage::from_ttlv(&request(2, 1, vec![(Operation::Create, bare_create)])).unwrap();
    assert!(matches!(v21.check_rules(), Err(ModelError::MissingField { field: Tag::ATTRIBUTES, .. })));
    // The 1.x form in a 2.1 message decodes (the model carries both) but breaks the rules.
    let mixed = RequestMessage::from_ttlv(&request(2, 1, vec![(Operation::Create, create_v1())])).unwrap();
    assert!(matches!(mixed.check_rules(), Err(ModelError::NotInVersion { .. })));
    let ok = RequestMessage::from_ttlv(&request(1, 4, vec![(Operation::Create, create_v1())])).unwrap();
    assert_eq!(ok.check_rules(), Ok(()));
}

#[test]
fn vendor_attributes_of_other_vendors_get_a_valid_1x_name() {
    let vendor = CustomAttribute {
        vendor_identification: Some("ACME".into()),
        attribute_name: "Colour".into(),
        attribute_value: Value::TextString("red".into()),
    };
    let custom = vendor.to_custom_form();
    assert_eq!(custom.attribute_name, "x-ACME-Colour");
    assert_eq!(custom.vendor_identification, None);
    let again = custom.to_vendor_form();
    assert_eq!(again.vendor_identification.as_deref(), Some("x"));
    assert_eq!(again.attribute_name, "ACME-Colour");
}

#[test]
fn batch_count_must_match_the_items() {
    let mut item = request(1, 4, vec![(Operation::Create, create_v1())]);
    let msg = RequestMessage::from_ttlv(&item).unwrap();
    assert_eq!(msg.check_rules(), Ok(()));
    if let Value::Structure(children) = &mut item.value {
        children.push(children[1].clone());
    }
    let two = RequestMessage::from_ttlv(&item).unwrap();
    assert_eq!(
        two.check_rules(),
        Err(ModelError::InvalidValue {
            path: "RequestMessage/RequestHeader/BatchCount".into(),
            reason: "Batch Count does not match the number of Batch Items"
        })
    );
}

#[test]
fn names_in_a_template_attribute_name_templates_not_the_object() {
    // KMIP 1.x §2.1.8: a Template-Attribute's Name fields reference Template objects; the
    // object's own name is an Attribute named "Name".
    let name = Name { name_value: "vm-template".into(), name_type: NameType::UninterpretedTextString };
    let template = TemplateAttribute {
        names: vec![name],
        attributes: vec![IndexedAttribute::new(Attribute::CryptographicLength(256))],
    };
    assert_eq!(template.to_attribute_list(), vec![Attribute::CryptographicLength(256)]);
    assert_eq!(template.to_attributes().attributes, vec![Attribute::CryptographicLength(256)]);
}

#[test]
fn later_2x_operations_are_typed_too() {
    let item = request(
        2,
        1,
        vec![
            (
                Operation::AdjustAttribute,
                vec![
                    Ttlv::text(Tag::UNIQUE_IDENTIFIER, "k"),
                    Ttlv::enumeration(Tag::ATTRIBUTE_REFERENCE, Tag::CRYPTOGRAPHIC_LENGTH.0),
                    Ttlv::enumeration(Tag::ADJUSTMENT_TYPE, 1),
                    Ttlv::integer(Tag::ADJUSTMENT_VALUE, 8),
                ],
            ),
            (Operation::SetEndpointRole, vec![Ttlv::enumeration(Tag::ENDPOINT_ROLE, 1)]),
        ],
    );
    let msg = RequestMessage::from_ttlv(&item).unwrap();
    assert!(msg.batch_items.iter().all(|b| b.payload.is_typed()));
    assert_eq!(msg.to_ttlv(), item);
}

#[test]
fn response_rules_want_a_reason_for_failures_and_a_payload_for_successes() {
    let mut m2 = ResponseMessage::from_ttlv(&tree(M2)).unwrap();
    assert_eq!(m2.check_rules(), Ok(()));
    m2.batch_items[0].result_reason = None;
    assert_eq!(
        m2.check_rules(),
        Err(ModelError::MissingField {
            path: "ResponseMessage/BatchItem[0]".into(),
            field: Tag::RESULT_REASON
        })
    );
    let mut m4 = ResponseMessage::from_ttlv(&tree(M4)).unwrap();
    assert_eq!(m4.check_rules(), Ok(()));
    m4.batch_items[0].payload = None;
    assert!(matches!(m4.check_rules(), Err(ModelError::MissingField { field: Tag::RESPONSE_PAYLOAD, .. })));
}

/// 2.0 §5.5 references an attribute "by name or by tag": the structure form with no vendor
/// and a standard attribute's name is that standard attribute (PyKMIP 0.11's only form); with
/// a vendor it stays a vendor attribute.
#[test]
fn attribute_reference_by_name_without_vendor_is_the_standard_attribute() {
    use kmipd::kmip::AttributeReference;
    let by_name = |vendor: &str, name: &str| {
        let item = Ttlv::structure(
            Tag::ATTRIBUTE_REFERENCE,
            vec![Ttlv::text(Tag::VENDOR_IDENTIFICATION, vendor), Ttlv::text(Tag::ATTRIBUTE_NAME, name)],
        );
        AttributeReference::from_ttlv_item(&item, &kmipd::kmip::codec::Path::root(Tag::ATTRIBUTE_REFERENCE)).unwrap()
    };
    assert_eq!(by_name("", "Contact Information"), AttributeReference::Standard(Tag::CONTACT_INFORMATION));
    assert_eq!(
        by_name("x", "Contact Information"),
        AttributeReference::Vendor { vendor_identification: "x".into(), attribute_name: "Contact Information".into() }
    );
    assert_eq!(
        by_name("", "Barcode"),
        AttributeReference::Vendor { vendor_identification: String::new(), attribute_name: "Barcode".into() }
    );
}
