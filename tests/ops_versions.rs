//! Protocol-version handling: every supported version is answered in kind with only what it
//! defines; newer minors fall back within their major; other majors are refused with the
//! reason the answering version defines.

mod ops_support;

use kmipd::kmip::attributes::check_in_version as check_tags_in_version;
use kmipd::kmip::enums::{Operation, QueryFunction, ResultReason, ResultStatus};
use kmipd::kmip::objects::ProtocolVersion;
use kmipd::kmip::ResponsePayload;
use kmipd::ops::version::{check_in_version, SUPPORTED_VERSIONS};
use kmipd::ttlv::Tag;
use ops_support::*;

const ALL_QUERIES: [QueryFunction; 14] = [
    QueryFunction::QueryOperations,
    QueryFunction::QueryObjects,
    QueryFunction::QueryServerInformation,
    QueryFunction::QueryApplicationNamespaces,
    QueryFunction::QueryExtensionList,
    QueryFunction::QueryExtensionMap,
    QueryFunction::QueryAttestationTypes,
    QueryFunction::QueryRNGs,
    QueryFunction::QueryValidations,
    QueryFunction::QueryProfiles,
    QueryFunction::QueryCapabilities,
    QueryFunction::QueryClientRegistrationMethods,
    QueryFunction::QueryDefaultsInformation,
    QueryFunction::QueryStorageProtectionMasks,
];

fn query_payload(r: &kmipd::kmip::ResponseMessage) -> &kmipd::kmip::payloads::QueryResponse {
    match r.batch_items[0].payload.as_ref() {
        Some(ResponsePayload::Query(q)) => q,
        other => panic!("{other:?}"),
    }
}

/// Query and Discover Versions at one version: answered in it, with nothing it doesn't define.
fn speak(major: u8, minor: u8) {
    let p = processor();
    let version = v(major, minor);
    // Query functions that the version itself defines.
    let functions: Vec<_> = ALL_QUERIES
        .into_iter()
        .filter(|f| {
            kmipd::ops::version::enum_value_in_version(
                Tag::QUERY_FUNCTION,
                kmipd::kmip::KmipEnum::to_u32(*f),
                version,
            )
        })
        .collect();
    let mut items = vec![item(Operation::Query, Some(b"q"), query(&functions))];
    if (major, minor) != (1, 0) {
        items.push(item(Operation::DiscoverVersions, Some(b"d"), vec![]));
    }
    let bytes = request((major.into(), minor.into()), &Header::default(), items);
    let tree = exchange_tree(&p, &bytes);
    check_tags_in_version(&tree, version).unwrap_or_else(|e| panic!("{version}: {e}"));
    check_in_version(&tree, version).unwrap_or_else(|e| panic!("{version}: {e}"));
    let r = kmipd::kmip::ResponseMessage::from_ttlv(&tree).unwrap();
    assert_eq!(version_of(&r), (major.into(), minor.into()));
    assert!(r.batch_items.iter().all(|i| i.result_status == ResultStatus::Success), "{version}: {r:?}");

    let q = query_payload(&r);
    use Operation::*;
    let mut expected = vec![
        Query, Create, CreateKeyPair, Register, Locate, Check, Get, GetAttributes, GetAttributeList, AddAttribute,
        ModifyAttribute, DeleteAttribute, Activate, Revoke, Destroy, Archive, Recover, ReKey, DeriveKey,
    ];
    if (major, minor) >= (1, 1) {
        expected.extend([DiscoverVersions, ReKeyKeyPair]);
    }
    if (major, minor) >= (1, 2) {
        expected.extend([Encrypt, Decrypt, Sign, SignatureVerify, MAC, MACVerify, RNGRetrieve, RNGSeed, Hash]);
    }
    if major >= 2 {
        expected.extend([Log, Interop, SetAttribute]);
    }
    let mut got = q.operations.clone();
    got.sort_by_key(|o| kmipd::kmip::KmipEnum::to_u32(*o));
    expected.sort_by_key(|o| kmipd::kmip::KmipEnum::to_u32(*o));
    assert_eq!(got, expected, "{version}");
    // Templates are 1.x objects (removed in 2.0).
    assert_eq!(q.object_types.len(), if major < 2 { 7 } else { 6 }, "{version}: {:?}", q.object_types);
    assert_eq!(q.object_types.contains(&kmipd::kmip::enums::ObjectType::Template), major < 2, "{version}");
    assert!(q.vendor_identification.as_deref().is_some_and(|v| v.starts_with("kmipd")));
    assert_eq!(q.capability_information.len(), usize::from((major, minor) >= (1, 3)), "{version}");
    if let Some(caps) = q.capability_information.first() {
        assert_eq!(caps.batch_continue_capability, ((major, minor) >= (1, 4)).then_some(true));
        assert_eq!(caps.batch_undo_capability, ((major, minor) >= (1, 4)).then_some(true));
        assert_eq!(caps.asynchronous_capability, Some(false));
    }
    if let Some(ResponsePayload::DiscoverVersions(d)) = r.batch_items.get(1).and_then(|i| i.payload.as_ref())
    {
        assert_eq!(d.protocol_versions.len(), SUPPORTED_VERSIONS.len());
        assert_eq!(d.protocol_versions[0], ProtocolVersion { major: 2, minor: 1 });
    }
}

#[test]
fn version_1_0() {
    speak(1, 0);
}

#[test]
fn version_1_1() {
    speak(1, 1);
}

#[test]
fn version_1_2() {
    speak(1, 2);
}

#[test]
fn version_1_3() {
    speak(1, 3);
}

#[test]
fn version_1_4() {
    speak(1, 4);
}

#[test]
fn version_2_0() {
    speak(2, 0);
}

#[test]
fn version_2_1() {
    speak(2, 1);
}

#[test]
fn discover_versions_is_not_defined_in_1_0() {
    let r = exchange(
        &processor(),
        &request((1, 0), &Header::default(), vec![item(Operation::DiscoverVersions, None, vec![])]),
    );
    assert_eq!(version_of(&r), (1, 0));
    assert_failed(&r.batch_items[0], ResultReason::OperationNotSupported);
    assert_eq!(r.batch_items[0].operation, None, "1.0 has no Discover Versions value to echo");
}

#[test]
fn newer_minor_versions_are_answered_in_the_newest_of_their_major() {
    for ((major, minor), answered) in [((1, 5), (1, 4)), ((1, 99), (1, 4)), ((2, 2), (2, 1))] {
        let r = exchange(
            &processor(),
            &request(
                (major, minor),
                &Header::default(),
                vec![item(Operation::DiscoverVersions, None, vec![])],
            ),
        );
        assert_eq!(version_of(&r), answered);
        assert_eq!(r.batch_items[0].result_status, ResultStatus::Success);
    }
}

#[test]
fn version_3_0_is_refused_in_2_1_as_unsupported_protocol_version() {
    let bytes =
        request((3, 0), &Header::default(), vec![item(Operation::DiscoverVersions, Some(b"1"), vec![])]);
    let tree = exchange_tree(&processor(), &bytes);
    check_in_version(&tree, v(2, 1)).unwrap();
    let r = kmipd::kmip::ResponseMessage::from_ttlv(&tree).unwrap();
    assert_eq!(version_of(&r), (2, 1));
    assert_refused(&r, ResultReason::UnsupportedProtocolVersion);
    assert!(r.batch_items[0].result_message.as_deref().unwrap().contains("3.0"));
}

#[test]
fn version_0_9_is_refused_in_1_0_as_invalid_message() {
    let bytes = request((0, 9), &Header::default(), vec![item(Operation::Query, None, vec![])]);
    let tree = exchange_tree(&processor(), &bytes);
    check_in_version(&tree, v(1, 0)).unwrap();
    let r = kmipd::kmip::ResponseMessage::from_ttlv(&tree).unwrap();
    assert_eq!(version_of(&r), (1, 0));
    assert_refused(&r, ResultReason::InvalidMessage);
}

#[test]
fn discover_versions_intersects_with_the_clients_list() {
    let offer = |versions: &[(i32, i32)]| -> Vec<ProtocolVersion> {
        let payload = versions.iter().map(|(a, b)| protocol_version(*a, *b)).collect();
        let r = exchange(
            &processor(),
            &request((1, 1), &Header::default(), vec![item(Operation::DiscoverVersions, None, payload)]),
        );
        match r.batch_items[0].payload.as_ref() {
            Some(ResponsePayload::DiscoverVersions(d)) => d.protocol_versions.clone(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(offer(&[(1, 0)]), vec![ProtocolVersion { major: 1, minor: 0 }]);
    assert_eq!(offer(&[(9, 31)]), vec![]);
    // The server's preference order, whatever the client's.
    assert_eq!(
        offer(&[(1, 0), (2, 0), (1, 4)]),
        vec![
            ProtocolVersion { major: 2, minor: 0 },
            ProtocolVersion { major: 1, minor: 4 },
            ProtocolVersion { major: 1, minor: 0 }
        ]
    );
}
