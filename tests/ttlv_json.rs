//! The JSON encoding against the OASIS MSGENC-JSON-M-1-1x test cases and the examples of
//! KMIP Additional Message Encodings v1.0 §4.1.6, plus its errors and limits.
//!
//! Each MSGENC-JSON file holds, per message, the XML element, the TTLV hex and the JSON as
//! text. The JSON must read to exactly the tree the hex decodes to, and writing that tree must
//! give back the printed JSON, value for value.

mod common;

use kmipd::ttlv::json::{from_json, from_json_str, from_json_str_with_limits, to_json, to_json_string, JsonError};
use kmipd::ttlv::xml::{parse_test_case, Placeholders};
use kmipd::ttlv::{decode, BigInt, DecodeLimits, Tag, Ttlv, Value};
use serde_json::json;

fn read_case(file: &str) -> String {
    let path = common::corpus_dir().join("kmip-1.0-1.2/profiles/mandatory").join(file);
    std::fs::read_to_string(path).unwrap()
}

/// (hex, JSON text) of every message in one MSGENC-JSON file, in order.
fn messages(file: &str) -> Vec<(Vec<u8>, String)> {
    let text = read_case(file);
    let mut hexes = Vec::new();
    let mut jsons = Vec::new();
    let mut hex = String::new();
    let mut json: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(j) = json.as_mut() {
            if t.starts_with('<') {
                jsons.push(json.take().unwrap());
            } else {
                j.push_str(line);
                j.push('\n');
                continue;
            }
        }
        if !t.is_empty() && t.chars().all(|c| c.is_ascii_hexdigit()) {
            hex.push_str(t);
            continue;
        }
        if !hex.is_empty() {
            hexes.push(hex::decode(std::mem::take(&mut hex)).unwrap());
        }
        if t.starts_with("{\"tag\"") {
            json = Some(format!("{line}\n"));
        }
    }
    jsons.extend(json);
    assert_eq!(hexes.len(), jsons.len(), "{file}");
    hexes.into_iter().zip(jsons).collect()
}

/// Sets every Time Stamp to 0: the OASIS document printed the XML of MSGENC-JSON-M-1-11
/// with other response time stamps than its hex and JSON.
fn without_time_stamps(item: &Ttlv) -> Ttlv {
    match &item.value {
        Value::Structure(children) => Ttlv::structure(item.tag, children.iter().map(without_time_stamps).collect()),
        _ if item.tag == Tag::TIME_STAMP => Ttlv::date_time(item.tag, 0),
        _ => item.clone(),
    }
}

/// Checks every message of the file and returns (messages, messages whose XML time stamp
/// differs from the JSON's).
fn check_file(file: &str) -> (usize, usize) {
    let all = messages(file);
    let xml = parse_test_case(&read_case(file), &Placeholders::default()).unwrap();
    assert_eq!(xml.len(), all.len(), "{file}: XML elements");
    let mut stamp_differences = 0;
    for (i, ((bytes, json_text), from_xml)) in all.iter().zip(&xml).enumerate() {
        let ctx = format!("{file} message {i}");
        let json_text = match serde_json::from_str::<serde_json::Value>(json_text) {
            Ok(_) => json_text.clone(),
            Err(_) => {
                // MSGENC-JSON-M-1-10's first message lacks its final brace in the OASIS document.
                assert_eq!((file, i), ("MSGENC-JSON-M-1-10.xml", 0), "{ctx}: unexpected invalid JSON");
                assert!(matches!(from_json_str(json_text), Err(JsonError::Syntax { .. })));
                format!("{}}}", json_text.trim_end())
            }
        };
        let printed: serde_json::Value = serde_json::from_str(&json_text).unwrap();
        let from_hex = decode(bytes, &DecodeLimits::default()).unwrap();
        let from_json = from_json_str(&json_text).unwrap();
        assert_eq!(from_json, from_hex, "{ctx}: JSON and hex disagree");
        if &from_json != from_xml {
            assert_eq!(without_time_stamps(&from_json), without_time_stamps(from_xml), "{ctx}: JSON and XML disagree");
            stamp_differences += 1;
        }
        assert_eq!(to_json(&from_hex), printed, "{ctx}: our JSON differs from the printed JSON");
        // JSON -> TTLV -> JSON, through the pretty text form too.
        assert_eq!(from_json_str(&to_json_string(&from_json)).unwrap(), from_json, "{ctx}");
    }
    (all.len(), stamp_differences)
}

#[test]
fn msgenc_json_m_1_10() {
    assert_eq!(check_file("MSGENC-JSON-M-1-10.xml"), (4, 0));
}

#[test]
fn msgenc_json_m_1_11() {
    assert_eq!(check_file("MSGENC-JSON-M-1-11.xml"), (4, 2));
}

#[test]
fn msgenc_json_m_1_12() {
    assert_eq!(check_file("MSGENC-JSON-M-1-12.xml"), (4, 0));
}

/// The examples of §4.1.6, each with the tree it must read to.
#[test]
fn profile_examples() {
    let cases = [
        (
            json!({"tag": "ActivationDate", "type": "DateTime", "value": "2001-01-01T10:00:00+10:00"}),
            Ttlv::date_time(Tag::ACTIVATION_DATE, 978_307_200),
        ),
        (
            json!({"tag": "0x54FFFF", "name": "SomeExtension", "type": "Integer", "value": "0x00000001"}),
            Ttlv::integer(Tag(0x54FFFF), 1),
        ),
        (
            json!({"tag": "0x420001", "type": "DateTime", "value": "2001-01-01T10:00:00+10:00"}),
            Ttlv::date_time(Tag::ACTIVATION_DATE, 978_307_200),
        ),
        (
            json!({"tag": "IVCounterNonce", "type": "ByteString", "value": "a1b2c3d4"}),
            Ttlv::bytes(Tag::IV_COUNTER_NONCE, vec![0xa1, 0xb2, 0xc3, 0xd4]),
        ),
        (
            json!({"tag": "PrivateKeyTemplateAttribute", "type": "Structure", "value": []}),
            Ttlv::structure(Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE, vec![]),
        ),
        (
            json!({"tag": "PrivateKeyTemplateAttribute", "value": null}),
            Ttlv::structure(Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE, vec![]),
        ),
        (
            json!({"tag": "0x545352", "type": "TextString", "value": "This is an extension"}),
            Ttlv::text(Tag(0x545352), "This is an extension"),
        ),
        (
            json!({"tag": "ProtocolVersion", "value": [
            {"tag": "ProtocolVersionMajor", "type": "Integer", "value": 1},
            {"tag": "ProtocolVersionMinor", "type": "Integer", "value": 0}]}),
            Ttlv::structure(
                Tag::PROTOCOL_VERSION,
                vec![Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, 1), Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, 0)],
            ),
        ),
        (json!({"tag": "BatchCount", "type": "Integer", "value": 10}), Ttlv::integer(Tag::BATCH_COUNT, 10)),
        (json!({"tag": "BatchCount", "type": "Integer", "value": "0x0000000A"}), Ttlv::integer(Tag::BATCH_COUNT, 10)),
        (
            json!({"tag": "CryptographicUsageMask", "type": "Integer", "value": "CertificateSign|0x0000000c"}),
            Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, 0x100C),
        ),
        (
            json!({"tag": "0x540001", "type": "LongInteger", "value": "0xfffffffffffffffe"}),
            Ttlv::long_integer(Tag(0x540001), -2),
        ),
        (json!({"tag": "0x540001", "type": "LongInteger", "value": -2}), Ttlv::long_integer(Tag(0x540001), -2)),
        (
            json!({"tag": "UsageLimitsCount", "type": "LongInteger", "value": "0x1000000000000000"}),
            Ttlv::long_integer(Tag::USAGE_LIMITS_COUNT, 1 << 60),
        ),
        (
            json!({"tag": "0x540002", "type": "BigInteger", "value": 0}),
            Ttlv::new(Tag(0x540002), Value::BigInteger(BigInt::from_signed_bytes(&[0; 8]))),
        ),
        (
            json!({"tag": "0x540002", "type": "BigInteger", "value": "0x0000000000000000"}),
            Ttlv::new(Tag(0x540002), Value::BigInteger(BigInt::from_signed_bytes(&[0; 8]))),
        ),
        (json!({"tag": "0x420057", "type": "Enumeration", "value": 2}), Ttlv::enumeration(Tag::OBJECT_TYPE, 2)),
        (
            json!({"tag": "ObjectType", "type": "Enumeration", "value": "0x00000002"}),
            Ttlv::enumeration(Tag::OBJECT_TYPE, 2),
        ),
        (
            json!({"tag": "ObjectType", "type": "Enumeration", "value": "SymmetricKey"}),
            Ttlv::enumeration(Tag::OBJECT_TYPE, 2),
        ),
        (
            json!({"tag": "BatchOrderOption", "type": "Boolean", "value": true}),
            Ttlv::boolean(Tag::BATCH_ORDER_OPTION, true),
        ),
        (
            json!({"tag": "BatchOrderOption", "type": "Boolean", "value": "0x0000000000000001"}),
            Ttlv::boolean(Tag::BATCH_ORDER_OPTION, true),
        ),
        (
            json!({"tag": "AttributeName", "type": "TextString", "value": "Cryptographic Algorithm"}),
            Ttlv::text(Tag::ATTRIBUTE_NAME, "Cryptographic Algorithm"),
        ),
        (
            json!({"tag": "MACSignature", "type": "ByteString", "value": "C50F77"}),
            Ttlv::bytes(Tag::MAC_SIGNATURE, vec![0xC5, 0x0F, 0x77]),
        ),
        (
            json!({"tag": "ArchiveDate", "type": "DateTime", "value": "0x000000003a505520"}),
            Ttlv::date_time(Tag::ARCHIVE_DATE, 978_343_200),
        ),
        // Fractional seconds are ignored (truncated), §4.1.6.11.
        (
            json!({"tag": "ArchiveDate", "type": "DateTime", "value": "2001-01-01T10:00:00.75+10:00"}),
            Ttlv::date_time(Tag::ARCHIVE_DATE, 978_307_200),
        ),
        (json!({"tag": "Offset", "type": "Interval", "value": 27}), Ttlv::interval(Tag::OFFSET, 27)),
        (json!({"tag": "Offset", "type": "Interval", "value": "0x0000001b"}), Ttlv::interval(Tag::OFFSET, 27)),
        (
            json!({"tag": "TimeStamp", "type": "DateTimeExtended", "value": "2013-06-26T09:09:17.000123+00:00"}),
            Ttlv::new(Tag::TIME_STAMP, Value::DateTimeExtended(1_372_237_757_000_123)),
        ),
    ];
    for (json, want) in cases {
        assert_eq!(from_json(&json).unwrap(), want, "{json}");
        // And back: what we write reads to the same tree.
        assert_eq!(from_json(&to_json(&want)).unwrap(), want, "{json}");
    }
    // Note: the profile's two ArchiveDate examples are not the same instant: the hex one is
    // 10:00 UTC, the other 10:00 at +10:00.
}

/// What we write, exactly.
#[test]
fn written_form() {
    let big = BigInt::from_signed_bytes(&[0xFF, 0x01]);
    let tree = Ttlv::structure(
        Tag(0x540000),
        vec![
            Ttlv::integer(Tag::BATCH_COUNT, -1),
            Ttlv::long_integer(Tag::USAGE_LIMITS_COUNT, 1 << 60),
            Ttlv::new(Tag::MODULUS, Value::BigInteger(big)),
            Ttlv::enumeration(Tag::OBJECT_TYPE, 0x8000_0001),
            Ttlv::boolean(Tag::BATCH_ORDER_OPTION, false),
            Ttlv::bytes(Tag::MAC_SIGNATURE, vec![0xC5, 0x0F, 0x77]),
            Ttlv::interval(Tag::OFFSET, 27),
            Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, 0x0C),
            // A mask value with bits the registry has no names for is written as hex.
            Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, 0x4000_0000),
        ],
    );
    assert_eq!(
        to_json(&tree),
        json!({"tag": "0x540000", "value": [
            {"tag": "BatchCount", "type": "Integer", "value": "0xFFFFFFFF"},
            {"tag": "UsageLimitsCount", "type": "LongInteger", "value": "0x1000000000000000"},
            {"tag": "Modulus", "type": "BigInteger", "value": "0xFFFFFFFFFFFFFF01"},
            {"tag": "ObjectType", "type": "Enumeration", "value": "0x80000001"},
            {"tag": "BatchOrderOption", "type": "Boolean", "value": false},
            {"tag": "MACSignature", "type": "ByteString", "value": "c50f77"},
            {"tag": "Offset", "type": "Interval", "value": "0x0000001B"},
            {"tag": "CryptographicUsageMask", "type": "Integer", "value": "Encrypt|Decrypt"},
            {"tag": "CryptographicUsageMask", "type": "Integer", "value": "0x40000000"},
        ]})
    );
    assert_eq!(from_json(&to_json(&tree)).unwrap(), tree);
}

/// A KMIP 1.x Attribute Value is named after the attribute its sibling Attribute Name gives.
#[test]
fn attribute_value_takes_names_from_attribute_name() {
    let json = json!({"tag": "TemplateAttribute", "value": [
        {"tag": "Attribute", "value": [
            {"tag": "AttributeName", "type": "TextString", "value": "Cryptographic Algorithm"},
            {"tag": "AttributeValue", "type": "Enumeration", "value": "AES"}]},
        {"tag": "Attribute", "value": [
            {"tag": "AttributeName", "type": "TextString", "value": "Cryptographic Usage Mask"},
            {"tag": "AttributeValue", "type": "Integer", "value": "Encrypt|Decrypt"}]},
        {"tag": "Attribute", "value": [
            {"tag": "AttributeValue", "type": "Enumeration", "value": "SymmetricKey"},
            {"tag": "AttributeName", "type": "TextString", "value": "Object Type"}]},
    ]});
    let tree = from_json(&json).unwrap();
    let values: Vec<&Value> = tree.children().iter().map(|a| &a.child(Tag::ATTRIBUTE_VALUE).unwrap().value).collect();
    assert_eq!(values, [&Value::Enumeration(3), &Value::Integer(0x0C), &Value::Enumeration(2)]);
    assert_eq!(to_json(&tree), json);
    // Without the sibling, a name means nothing.
    let lone = json!({"tag": "AttributeValue", "type": "Enumeration", "value": "AES"});
    assert!(matches!(from_json(&lone), Err(JsonError::Text { .. })));
}

#[test]
fn errors() {
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (json!([1, 2]), "at $: an item must be a JSON object"),
        (json!({"type": "Integer", "value": 1}), r#"at $: missing property "tag""#),
        (json!({"tag": "BatchCount", "type": "Integer"}), r#"at $: missing property "value""#),
        (json!({"tag": "BatchCount", "type": "Integer", "value": 1, "extra": 0}), r#"at $: unknown property "extra""#),
        (json!({"tag": "NoSuchTag", "value": []}), r#"at $: unknown tag "NoSuchTag""#),
        (json!({"tag": "0x4200", "value": []}), r#"at $: unknown tag "0x4200""#),
        (json!({"tag": "0x42000001", "value": []}), r#"at $: unknown tag "0x42000001""#),
        (json!({"tag": 66, "value": []}), "at $: 66 is not a valid tag"),
        (json!({"tag": "BatchCount", "type": "Int", "value": 1}), r#"at $: unknown type "Int""#),
        (
            json!({"tag": "BatchCount", "type": "Integer", "value": 2147483648u64}),
            "at $: 2147483648 is out of range for Integer",
        ),
        (json!({"tag": "BatchCount", "type": "Integer", "value": 1.5}), "at $: 1.5 is out of range for Integer"),
        (
            json!({"tag": "BatchCount", "type": "Integer", "value": true}),
            "at $: true is not a valid number (a JSON number or hex string)",
        ),
        (json!({"tag": "ObjectType", "type": "Enumeration", "value": -1}), "at $: -1 is out of range for Enumeration"),
        (
            json!({"tag": "ObjectType", "type": "Enumeration", "value": "Bogus"}),
            r#"at $: "Bogus" is not a value of Object Type"#,
        ),
        (
            json!({"tag": "BatchOrderOption", "type": "Boolean", "value": "0x0000000000000002"}),
            r#"at $: "0x0000000000000002" is out of range for Boolean"#,
        ),
        (
            json!({"tag": "BatchOrderOption", "type": "Boolean", "value": 1}),
            "at $: 1 is not a valid Boolean (true, false or 0x hex)",
        ),
        (json!({"tag": "MACSignature", "type": "ByteString", "value": "C50F7"}), "at $: hex value of 5 characters is malformed at character 5"),
        (
            json!({"tag": "AttributeName", "type": "TextString", "value": 5}),
            "at $: 5 is not a valid Text String (a string)",
        ),
        (
            json!({"tag": "ArchiveDate", "type": "DateTime", "value": "yesterday"}),
            r#"at $: "yesterday" is not an ISO 8601 date-time"#,
        ),
        (json!({"tag": "RequestMessage", "value": {}}), "at $: an object is not a valid Structure value (an array)"),
        (
            json!({"tag": "RequestMessage", "value": [{"tag": "BatchItem", "value": [1]}]}),
            "at $.value[0].value[0]: an item must be a JSON object",
        ),
    ];
    for (json, want) in cases {
        let err = from_json(&json).expect_err(&json.to_string());
        assert_eq!(err.to_string(), want, "{json}");
    }
    let err = from_json_str("{\"tag\": \"BatchCount\",\n \"type\": }").unwrap_err();
    assert!(matches!(err, JsonError::Syntax { line: 2, .. }), "{err}");
}

fn nested_json(depth: usize) -> String {
    let mut s = String::new();
    for _ in 0..depth {
        s.push_str(r#"{"tag":"RequestMessage","value":["#);
    }
    for _ in 0..depth {
        s.push_str("]}");
    }
    s
}

/// `depth` nested Structures as a JSON value, built without recursion.
fn nested_value(depth: usize) -> serde_json::Value {
    let mut v = json!({"tag": "RequestMessage", "value": []});
    for _ in 1..depth {
        v = json!({"tag": "RequestMessage", "value": [v]});
    }
    v
}

/// The same depth rule as the binary decoder: exactly `max_depth` levels are accepted.
#[test]
fn depth_limit() {
    let limits = DecodeLimits::default();
    assert_eq!(from_json(&nested_value(limits.max_depth)).unwrap().depth(), limits.max_depth);
    let err = from_json(&nested_value(limits.max_depth + 1)).unwrap_err();
    let path = format!("${}", ".value[0]".repeat(limits.max_depth));
    assert_eq!(err, JsonError::TooDeep { path, limit: limits.max_depth });
}

/// JSON text is also bounded by serde_json's 128-level recursion limit (two levels per
/// Structure), so deep text fails in the parser and can't exhaust the stack.
#[test]
fn deep_json_text() {
    assert_eq!(from_json_str(&nested_json(63)).unwrap().depth(), 63);
    let primitive_at_64 = nested_json(63).replacen("[]", r#"[{"tag":"BatchCount","type":"Integer","value":1}]"#, 1);
    assert_eq!(from_json_str(&primitive_at_64).unwrap().depth(), 64);
    for depth in [64, 65, 10_000] {
        assert!(matches!(from_json_str(&nested_json(depth)), Err(JsonError::Syntax { .. })), "{depth}");
    }
}

#[test]
fn size_limit() {
    let small = DecodeLimits { max_bytes: 10, ..DecodeLimits::default() };
    assert_eq!(from_json_str_with_limits(&nested_json(1), &small), Err(JsonError::TooLarge { length: 35, limit: 10 }));
}
