//! Walks every OASIS test case under `../shared/kmip-testcases` and proves, for every request
//! and response, that XML → TTLV → binary → TTLV → XML gives the same tree.
//!
//! `kmip-1.4/testcases/TC-ECDSA-SIGN-1-14.xml` is broken in the OASIS original (`</KMIP>`
//! twice at the end); the reader stops at the first `</KMIP>`, so it is read like the others
//! and counted separately. Run-specific `$TOKEN`s get the reader's deterministic stand-ins.

mod common;

use kmipd::ttlv::xml::{self, Placeholders};
use kmipd::ttlv::{self, DecodeLimits};

const KNOWN_BROKEN: &str = "TC-ECDSA-SIGN-1-14.xml";

#[test]
fn every_oasis_message_round_trips_through_binary_and_xml() {
    let dir = common::corpus_dir();
    let files = common::xml_files(&dir);
    let (mut messages, mut bytes, mut failures) = (0usize, 0usize, Vec::new());
    let mut broken_seen = false;
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        if name.ends_with(KNOWN_BROKEN) {
            broken_seen = true;
        }
        let items = match xml::parse_test_case(&text, &Placeholders::default()) {
            Ok(items) => items,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if items.is_empty() {
            failures.push(format!("{name}: no messages"));
        }
        for (i, item) in items.iter().enumerate() {
            messages += 1;
            let wire = match ttlv::encode(item) {
                Ok(w) => w,
                Err(e) => {
                    failures.push(format!("{name} #{i}: encode: {e}"));
                    continue;
                }
            };
            bytes += wire.len();
            match ttlv::decode(&wire, &DecodeLimits::default()) {
                Ok(back) if &back == item => {}
                Ok(_) => failures.push(format!("{name} #{i}: binary round trip changed the tree")),
                Err(e) => failures.push(format!("{name} #{i}: decode: {e}")),
            }
            let rendered = xml::to_xml(item);
            match xml::from_xml(&rendered) {
                Ok(back) if &back == item => {}
                Ok(_) => failures.push(format!("{name} #{i}: XML round trip changed the tree")),
                Err(e) => failures.push(format!("{name} #{i}: re-read XML: {e}")),
            }
        }
    }
    println!(
        "corpus: {} files, {} messages, {} TTLV bytes; {} failures; known-broken {} read after its first </KMIP>: {}",
        files.len(),
        messages,
        bytes,
        failures.len(),
        KNOWN_BROKEN,
        broken_seen
    );
    for f in failures.iter().take(50) {
        println!("FAIL {f}");
    }
    assert_eq!(files.len(), 883, "the corpus should hold 883 files");
    assert!(failures.is_empty(), "{} failures", failures.len());
}
