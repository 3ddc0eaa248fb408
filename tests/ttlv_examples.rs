//! Every byte string of `kmip-testcases/ttlv-examples.md` decodes to its documented meaning and
//! re-encodes byte for byte.
//!
//! Part A (KMIP spec §9.1.2) is checked against values written out here; Part B (the
//! MSGENC-JSON-M-1-10 messages) against the document's own decoded listing, line by line:
//! offset, nesting, tag, tag name, type, length and value (with the enumeration name).

mod common;

use std::sync::OnceLock;

use kmipd::ttlv::text::{self, NameContext};
use kmipd::ttlv::{decode, encode, registry, BigInt, DecodeLimits, Tag, Ttlv, Value};

fn examples() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| std::fs::read_to_string(common::corpus_dir().join("ttlv-examples.md")).unwrap())
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

/// Decodes, checks the byte-exact re-encoding, and returns the tree.
fn round_trip(bytes: &[u8]) -> Ttlv {
    let item = decode(bytes, &DecodeLimits::default()).unwrap();
    assert_eq!(encode(&item).unwrap(), bytes, "re-encoding of {item:?}");
    item
}

/// The contiguous hex strings of Part A, by label (`A1` .. `A10`).
fn part_a() -> Vec<(String, Vec<u8>)> {
    examples()
        .lines()
        .filter_map(|l| {
            let (label, rest) = l.split_once(' ')?;
            let n: u32 = label.strip_prefix('A')?.parse().ok()?;
            (1..=10).contains(&n).then(|| (label.to_owned(), hex(rest)))
        })
        .collect()
}

#[test]
fn part_a_primitives_and_structure() {
    let t = Tag::COMPROMISE_DATE;
    let a3 = 1_234_567_890_000_000_000_000_000_000u128;
    let expected = [
        Ttlv::integer(t, 8),
        Ttlv::long_integer(t, 123_456_789_000_000_000),
        Ttlv::new(t, Value::BigInteger(BigInt::from_signed_bytes(&a3.to_be_bytes()))),
        Ttlv::enumeration(t, 255),
        Ttlv::boolean(t, true),
        Ttlv::text(t, "Hello World"),
        Ttlv::bytes(t, vec![1, 2, 3]),
        Ttlv::date_time(t, 1_205_495_800),
        Ttlv::interval(t, 10 * 24 * 3600),
        Ttlv::structure(t, vec![Ttlv::enumeration(Tag(0x420004), 254), Ttlv::integer(Tag(0x420005), 255)]),
    ];
    let found = part_a();
    assert_eq!(found.len(), 10, "labels: {:?}", found.iter().map(|(l, _)| l).collect::<Vec<_>>());
    for ((label, bytes), want) in found.iter().zip(&expected) {
        let item = round_trip(bytes);
        assert_eq!(&item, want, "{label}");
    }
    // The values as the spec words them.
    let big = round_trip(&found[2].1);
    let Value::BigInteger(b) = &big.value else { panic!("A3 is not a Big Integer") };
    assert_eq!(b.as_bytes().len(), 16, "A3 is sign-extended to 16 bytes");
    assert_eq!(u128::from_be_bytes(b.as_bytes().try_into().unwrap()), a3);
    let Value::DateTime(secs) = round_trip(&found[7].1).value else { panic!("A8 is not a Date-Time") };
    assert_eq!(text::date_time_to_text(secs), "2008-03-14T11:56:40+00:00");
}

/// One line of a Part B decoded listing.
#[derive(Debug)]
struct Line {
    offset: usize,
    depth: usize,
    tag: u32,
    type_code: u8,
    length: u32,
    value_hex: Option<String>,
    meaning: String,
}

/// The Part B messages: (heading, bytes, decoded listing).
fn part_b() -> Vec<(String, Vec<u8>, Vec<Line>)> {
    let mut out = Vec::new();
    let mut sections = examples().split("\n### M").skip(1);
    for section in sections.by_ref() {
        let heading = section.lines().next().unwrap().to_owned();
        let blocks: Vec<&str> = section.split("```").collect();
        // blocks[1] is the hex, blocks[3] the decoded listing.
        let bytes = hex(blocks[1]);
        let lines = blocks[3].lines().filter(|l| !l.trim().is_empty()).map(parse_line).collect();
        out.push((format!("M{heading}"), bytes, lines));
    }
    out
}

fn parse_line(l: &str) -> Line {
    // "   8  420077 01 00000048                                        Request Header (Structure, 72 bytes)"
    let mut fields = l.split_whitespace();
    let offset = fields.next().unwrap().parse().unwrap();
    let tag = u32::from_str_radix(fields.next().unwrap(), 16).unwrap();
    let type_code = u8::from_str_radix(fields.next().unwrap(), 16).unwrap();
    let length_field = fields.next().unwrap();
    let length = u32::from_str_radix(length_field, 16).unwrap();
    let after_length = &l[l.find(length_field).unwrap() + length_field.len()..];
    // The value column, when present, is a single hex word right after two spaces.
    let (value_hex, rest) = match after_length.strip_prefix("  ") {
        Some(v) if v.starts_with(|c: char| c.is_ascii_hexdigit()) => {
            let (value, rest) = v.split_once(' ').unwrap();
            (Some(value.to_owned()), rest)
        }
        _ => (None, after_length),
    };
    let meaning_start = rest.len() - rest.trim_start().len();
    // Nesting is shown by two spaces of indent per level in the meaning column.
    let column = l.len() - rest.len() + meaning_start;
    Line { offset, depth: column, tag, type_code, length, value_hex, meaning: rest.trim().to_owned() }
}

/// Items of a tree in pre-order with their depth and offset.
fn flatten(item: &Ttlv) -> Vec<(usize, usize, &Ttlv)> {
    let mut out = Vec::new();
    let mut stack = vec![(item, 0usize)];
    let mut offset = 0;
    while let Some((it, depth)) = stack.pop() {
        out.push((offset, depth, it));
        offset += 8;
        match &it.value {
            Value::Structure(children) => stack.extend(children.iter().rev().map(|c| (c, depth + 1))),
            _ => offset += encode(it).unwrap().len() - 8,
        }
    }
    out
}

#[test]
fn part_b_messages_match_the_decoded_listing() {
    let messages = part_b();
    assert_eq!(messages.len(), 4);
    for (heading, bytes, lines) in &messages {
        let item = round_trip(bytes);
        let items = flatten(&item);
        assert_eq!(items.len(), lines.len(), "{heading}: item count");
        let base_column = lines[0].depth;
        for ((offset, depth, it), line) in items.iter().zip(lines) {
            let ctx = format!("{heading} at {offset}: {line:?}");
            assert_eq!(*offset, line.offset, "{ctx}");
            assert_eq!(depth * 2, line.depth - base_column, "{ctx}: nesting");
            assert_eq!(it.tag, Tag(line.tag), "{ctx}");
            assert_eq!(it.item_type().code(), line.type_code, "{ctx}");
            let encoded = encode(it).unwrap();
            assert_eq!(&encoded[4..8], &line.length.to_be_bytes(), "{ctx}: length");
            if let Some(v) = &line.value_hex {
                assert_eq!(hex::encode(&encoded[8..]), v.to_lowercase(), "{ctx}: value bytes");
            }
            // "Protocol Version Major (Integer) = 1": the registry's name for the tag.
            let name = registry::tag_info(it.tag).unwrap().name;
            assert!(line.meaning.starts_with(&format!("{name} (")), "{ctx}: name {name}");
            check_meaning(it, &line.meaning, &ctx);
        }
    }
}

/// Checks the printed value (`= 256`, `= 0x00000018 (Query)`, `= 'TOO_LARGE'`, ...).
fn check_meaning(it: &Ttlv, meaning: &str, ctx: &str) {
    let printed = meaning.split_once(" = ").map(|(_, v)| v);
    match (&it.value, printed) {
        (Value::Structure(children), None) => {
            let len = children.iter().map(|c| encode(c).unwrap().len()).sum::<usize>();
            assert!(meaning.ends_with(&format!("(Structure, {len} bytes)")), "{ctx}");
        }
        (Value::Integer(v), Some(p)) => assert_eq!(p.parse::<i32>().unwrap(), *v, "{ctx}"),
        (Value::Enumeration(v), Some(p)) => {
            let (hex_part, name) = p.split_once(" (").unwrap();
            assert_eq!(u32::from_str_radix(hex_part.trim_start_matches("0x"), 16).unwrap(), *v, "{ctx}");
            let name = name.trim_end_matches(')');
            assert_eq!(text::enumeration_to_text(NameContext::new(it.tag, None), *v), name, "{ctx}");
        }
        (Value::DateTime(v), Some(p)) => assert_eq!(text::date_time_from_text(p).unwrap(), *v, "{ctx}"),
        (Value::TextString(v), Some(p)) => assert_eq!(format!("'{v}'"), p, "{ctx}"),
        (value, _) => panic!("{ctx}: unexpected {value:?}"),
    }
}

/// M1 and M3 differ only in Maximum Response Size; M2 and M4 share the header. Spot checks
/// written out by hand, independent of the listing parser.
#[test]
fn part_b_spot_checks() {
    let messages = part_b();
    let m1 = round_trip(&messages[0].1);
    let header = m1.child(Tag::REQUEST_HEADER).unwrap();
    assert_eq!(header.child(Tag::MAXIMUM_RESPONSE_SIZE).unwrap().value, Value::Integer(256));
    let m3 = round_trip(&messages[2].1);
    let header3 = m3.child(Tag::REQUEST_HEADER).unwrap();
    assert_eq!(header3.child(Tag::MAXIMUM_RESPONSE_SIZE).unwrap().value, Value::Integer(2048));
    let payload = m1.child(Tag::BATCH_ITEM).unwrap().child(Tag::REQUEST_PAYLOAD).unwrap();
    assert_eq!(
        payload.children(),
        &[Ttlv::enumeration(Tag::QUERY_FUNCTION, 1), Ttlv::enumeration(Tag::QUERY_FUNCTION, 2)]
    );
    let m2 = round_trip(&messages[1].1);
    let item = m2.child(Tag::BATCH_ITEM).unwrap();
    assert_eq!(item.child(Tag::RESULT_MESSAGE).unwrap().value, Value::TextString("TOO_LARGE".into()));
    let m4 = round_trip(&messages[3].1);
    let payload = m4.child(Tag::BATCH_ITEM).unwrap().child(Tag::RESPONSE_PAYLOAD).unwrap();
    assert_eq!(payload.children_with(Tag::OPERATION).count(), 26);
    assert_eq!(payload.children_with(Tag::OBJECT_TYPE).count(), 8);
    assert_eq!(messages[3].1.len(), 680);
}
