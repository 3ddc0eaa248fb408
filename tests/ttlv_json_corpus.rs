//! Every message of the OASIS corpus (read from its XML) survives TTLV → JSON → TTLV, both as a
//! JSON value and as pretty text: the real-world test of enumeration, mask, Attribute Value and
//! Date-Time naming across KMIP 1.0–3.0.

mod common;

use kmipd::ttlv::json::{from_json, from_json_str, to_json, to_json_string};
use kmipd::ttlv::xml::{self, Placeholders};

#[test]
fn every_oasis_message_round_trips_through_json() {
    let dir = common::corpus_dir();
    let (mut files, mut messages, mut failures) = (0usize, 0usize, Vec::new());
    for path in common::xml_files(&dir) {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        // Files the XML reader rejects are the XML test's business (tests/corpus.rs).
        let Ok(items) = xml::parse_test_case(&text, &Placeholders::default()) else { continue };
        files += 1;
        for (i, item) in items.iter().enumerate() {
            messages += 1;
            match from_json(&to_json(item)) {
                Ok(back) if &back == item => {}
                Ok(_) => failures.push(format!("{name} #{i}: JSON value round trip changed the tree")),
                Err(e) => failures.push(format!("{name} #{i}: {e}")),
            }
            match from_json_str(&to_json_string(item)) {
                Ok(back) if &back == item => {}
                Ok(_) => failures.push(format!("{name} #{i}: JSON text round trip changed the tree")),
                Err(e) => failures.push(format!("{name} #{i}: {e}")),
            }
        }
    }
    println!("JSON round trip: {files} files, {messages} messages, {} failures", failures.len());
    assert!(files > 800, "only {files} files read");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
