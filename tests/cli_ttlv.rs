//! `kmipd ttlv decode --from hex --to xml` on every byte string of `ttlv-examples.md` prints the
//! matching XML, and `kmipd ttlv encode` turns that XML back into the same bytes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use kmipd::ttlv::xml::{self, Placeholders};

fn shared() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/kmip-testcases"))
}

fn kmipd(args: &[&str], input: &[u8]) -> (bool, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kmipd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Part A: the spec's ten primitive examples, all on tag 420020 (Compromise Date).
const PART_A: &[(&str, &str, &str)] = &[
    ("A1", "42002002000000040000000800000000", r#"<CompromiseDate type="Integer" value="8"/>"#),
    ("A2", "420020030000000801B69B4BA5749200", r#"<CompromiseDate type="LongInteger" value="123456789000000000"/>"#),
    (
        "A3",
        "42002004000000100000000003FD35EB6BC2DF4618080000",
        r#"<CompromiseDate type="BigInteger" value="0000000003fd35eb6bc2df4618080000"/>"#,
    ),
    ("A4", "4200200500000004000000FF00000000", r#"<CompromiseDate type="Enumeration" value="0x000000FF"/>"#),
    ("A5", "42002006000000080000000000000001", r#"<CompromiseDate type="Boolean" value="true"/>"#),
    ("A6", "420020070000000B48656C6C6F20576F726C640000000000", r#"<CompromiseDate type="TextString" value="Hello World"/>"#),
    ("A7", "42002008000000030102030000000000", r#"<CompromiseDate type="ByteString" value="010203"/>"#),
    ("A8", "42002009000000080000000047DA67F8", r#"<CompromiseDate type="DateTime" value="2008-03-14T11:56:40+00:00"/>"#),
    ("A9", "4200200A00000004000D2F0000000000", r#"<CompromiseDate type="Interval" value="864000"/>"#),
    (
        "A10",
        "42002001000000204200040500000004000000FE000000004200050200000004000000FF00000000",
        "<CompromiseDate>\n  <ApplicationSpecificInformation type=\"Enumeration\" value=\"0x000000FE\"/>\n  <ArchiveDate type=\"Integer\" value=\"255\"/>\n</CompromiseDate>",
    ),
];

#[test]
fn part_a_examples_decode_to_their_meaning_and_encode_back() {
    for (name, hex, expected_xml) in PART_A {
        let (ok, out, err) = kmipd(&["ttlv", "decode", "--from", "hex", "--to", "xml"], hex.as_bytes());
        assert!(ok, "{name}: {err}");
        assert_eq!(String::from_utf8(out.clone()).unwrap().trim_end(), *expected_xml, "{name}");
        let (ok, back, err) = kmipd(&["ttlv", "encode", "--from", "xml", "--to", "hex"], &out);
        assert!(ok, "{name}: {err}");
        assert_eq!(String::from_utf8(back).unwrap().trim_end(), hex.to_lowercase(), "{name}");
    }
}

/// The hex blocks of Part B, in order (M1..M4): the first fenced block after each `### M` heading.
fn part_b_hex() -> Vec<String> {
    let doc = std::fs::read_to_string(shared().join("ttlv-examples.md")).unwrap();
    let mut out = Vec::new();
    for section in doc.split("\n### M").skip(1) {
        let block = section.split("```").nth(1).unwrap();
        out.push(block.split_whitespace().collect::<String>());
    }
    out
}

#[test]
fn part_b_messages_decode_to_the_xml_of_the_same_test_case() {
    let hexes = part_b_hex();
    assert_eq!(hexes.len(), 4);
    let text = std::fs::read_to_string(shared().join("kmip-1.0-1.2/profiles/mandatory/MSGENC-XML-M-1-10.xml")).unwrap();
    let expected = xml::parse_test_case(&text, &Placeholders::default()).unwrap();
    assert_eq!(expected.len(), 4);
    for (i, hex) in hexes.iter().enumerate() {
        let (ok, out, err) = kmipd(&["ttlv", "decode", "--from", "hex", "--to", "xml"], hex.as_bytes());
        assert!(ok, "M{}: {err}", i + 1);
        let printed = xml::from_xml(std::str::from_utf8(&out).unwrap()).unwrap();
        assert_eq!(printed, expected[i], "M{}", i + 1);
        let (ok, back, err) = kmipd(&["ttlv", "encode", "--to", "hex"], &out);
        assert!(ok, "M{}: {err}", i + 1);
        assert_eq!(String::from_utf8(back).unwrap().trim_end(), hex.to_lowercase(), "M{}", i + 1);
    }
}

#[test]
fn bad_input_is_one_line_naming_the_offset() {
    let (ok, out, err) = kmipd(&["ttlv", "decode", "--from", "hex"], b"42002002000000040000000800000001");
    assert!(!ok);
    assert!(out.is_empty());
    assert_eq!(err, "kmipd: at byte 15: non-zero padding byte\n");
    let (ok, _, err) = kmipd(&["ttlv", "decode"], &[0x42, 0x00, 0x78, 0x01, 0xFF, 0xFF, 0xFF, 0xFF]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("at byte"), "{err}");
    let (ok, _, err) = kmipd(&["ttlv", "encode"], b"<RequestMessage><Nope/></RequestMessage>");
    assert!(!ok);
    assert!(err.contains("unknown tag name <Nope>"), "{err}");
}
