//! Property tests for the binary codec: arbitrary trees round-trip, and arbitrary or mutated
//! bytes never panic the decoder. Whatever the decoder accepts re-encodes to the same bytes,
//! because the strict rules leave exactly one encoding per tree. The JSON encoding must
//! round-trip the same trees and survive arbitrary text.

use kmipd::ttlv::json::{from_json, from_json_str, to_json, to_json_string};
use kmipd::ttlv::{decode, encode, BigInt, DecodeLimits, Tag, Ttlv, Value};
use proptest::prelude::*;

/// Tags: mostly real KMIP tags, sometimes any three-byte value (extensions, garbage).
fn tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        3 => (0x42_0001u32..0x42_0160).prop_map(Tag),
        1 => (0x54_0000u32..0x54_0010).prop_map(Tag),
        1 => (0u32..=Tag::MAX).prop_map(Tag),
    ]
}

/// Mostly small values, so that enumeration and mask names (which the JSON encoding writes)
/// come up often.
fn small_or_any_u32() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..0x40, 0u32..0x10_0000, any::<u32>()]
}

fn small_or_any_i32() -> impl Strategy<Value = i32> {
    prop_oneof![0i32..0x10_0000, any::<i32>()]
}

fn primitive() -> impl Strategy<Value = Value> {
    prop_oneof![
        small_or_any_i32().prop_map(Value::Integer),
        any::<i64>().prop_map(Value::LongInteger),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::BigInteger(BigInt::from_signed_bytes(&b))),
        small_or_any_u32().prop_map(Value::Enumeration),
        any::<bool>().prop_map(Value::Boolean),
        any::<String>().prop_map(Value::TextString),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::ByteString),
        any::<i64>().prop_map(Value::DateTime),
        any::<u32>().prop_map(Value::Interval),
        any::<i64>().prop_map(Value::DateTimeExtended),
    ]
}

/// A KMIP 1.x Attribute whose value is named after a real attribute, so the JSON names of
/// enumerations and masks inside Attribute Value are exercised.
fn attribute() -> impl Strategy<Value = Ttlv> {
    let names = prop::sample::select(vec![
        "Cryptographic Algorithm",
        "Cryptographic Usage Mask",
        "Object Type",
        "State",
        "Cryptographic Length",
        "Unknown Attribute",
    ]);
    (names, prop_oneof![small_or_any_u32().prop_map(Value::Enumeration), small_or_any_i32().prop_map(Value::Integer)])
        .prop_map(|(name, value)| {
            Ttlv::structure(
                Tag::ATTRIBUTE,
                vec![Ttlv::text(Tag::ATTRIBUTE_NAME, name), Ttlv::new(Tag::ATTRIBUTE_VALUE, value)],
            )
        })
}

/// Trees up to 6 levels deep and about 200 items.
fn ttlv() -> impl Strategy<Value = Ttlv> {
    let leaf = prop_oneof![4 => (tag(), primitive()).prop_map(|(t, v)| Ttlv::new(t, v)), 1 => attribute()];
    leaf.prop_recursive(6, 200, 8, |inner| {
        (tag(), proptest::collection::vec(inner, 0..8)).prop_map(|(t, c)| Ttlv::structure(t, c))
    })
}

/// Decodes with the default limits; if that succeeds, the bytes must be the canonical
/// encoding of the result.
fn decode_is_canonical(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(item) = decode(bytes, &DecodeLimits::default()) {
        prop_assert_eq!(encode(&item).unwrap(), bytes);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_is_identity(item in ttlv()) {
        let bytes = encode(&item).unwrap();
        prop_assert_eq!(bytes.len() % 8, 0);
        prop_assert_eq!(decode(&bytes, &DecodeLimits::default()).unwrap(), item);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_is_canonical(&bytes)?;
    }

    /// Random bytes rarely get past the first header; flipping bytes of a valid encoding
    /// reaches the deeper checks.
    #[test]
    fn mutated_messages_never_panic(
        item in ttlv(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = encode(&item).unwrap();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        decode_is_canonical(&bytes)?;
    }

    #[test]
    fn json_round_trip(item in ttlv()) {
        prop_assert_eq!(from_json(&to_json(&item)).unwrap(), item.clone());
        prop_assert_eq!(from_json_str(&to_json_string(&item)).unwrap(), item);
    }

    #[test]
    fn arbitrary_json_text_never_panics(s in any::<String>()) {
        let _ = from_json_str(&s);
    }

    /// Valid JSON of the right shape with random values: reading never panics, and what it
    /// reads writes back to JSON that reads to the same tree.
    #[test]
    fn mutated_json_never_panics(
        item in ttlv(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..4),
    ) {
        let mut chars: Vec<char> = to_json_string(&item).chars().collect();
        for (at, c) in edits {
            let i = at.index(chars.len());
            chars[i] = c;
        }
        let text: String = chars.into_iter().collect();
        if let Ok(read) = from_json_str(&text) {
            prop_assert_eq!(from_json(&to_json(&read)).unwrap(), read);
        }
    }
}
