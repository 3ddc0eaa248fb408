//! The replay harness accepts the reference responses themselves (with fresh run-specific
//! values in place of every `$TOKEN`) for every OASIS test case, and catches a changed result.

use std::collections::HashMap;
mod common;

use kmipd::conformance::{unix_now, Exchange, Replay, ReplayError};
use kmipd::ttlv::xml::{self, Placeholders};
use kmipd::ttlv::{Tag, Ttlv, Value};

/// Plays the reference server: answers each request with the file's expected response, every
/// token replaced by a value of its own (as a real server's would differ from the reference).
struct Oracle<'a> {
    responses: Vec<&'a str>,
    next: usize,
    placeholders: Placeholders,
    tamper: bool,
}

impl<'a> Oracle<'a> {
    fn new(text: &'a str, tamper: bool) -> Oracle<'a> {
        let sources = xml::message_sources(text).unwrap();
        let responses: Vec<&str> = sources.into_iter().filter(|s| s.starts_with("<ResponseMessage")).collect();
        let mut bindings = HashMap::new();
        let mut rest = text;
        while let Some(i) = rest.find("type=\"") {
            rest = &rest[i + 6..];
            let ty = &rest[..rest.find('"').unwrap()];
            let after = &rest[ty.len() + 1..];
            if let Some(v) = after.strip_prefix(" value=\"$") {
                let token = format!("${}", &v[..v.find('"').unwrap()]);
                if token.starts_with("$NOW") {
                    continue;
                }
                let value = match ty {
                    "ByteString" => Value::ByteString(format!("oracle{token}").into_bytes()),
                    _ => Value::TextString(format!("oracle{token}")),
                };
                bindings.insert(token, value);
            }
        }
        Oracle { responses, next: 0, placeholders: Placeholders { now: unix_now(), bindings }, tamper }
    }
}

impl Exchange for Oracle<'_> {
    fn exchange(&mut self, _request: &Ttlv) -> Result<Ttlv, String> {
        let src = self.responses.get(self.next).ok_or("no more responses")?;
        self.next += 1;
        self.placeholders.now = unix_now();
        let mut items = xml::parse_test_case(src, &self.placeholders).map_err(|e| e.to_string())?;
        let mut response = items.pop().ok_or("empty")?;
        if self.tamper {
            tamper_result_status(&mut response);
        }
        Ok(response)
    }
}

fn tamper_result_status(item: &mut Ttlv) {
    if item.tag == Tag::RESULT_STATUS {
        if let Value::Enumeration(v) = &mut item.value {
            *v ^= 1;
        }
    }
    if let Value::Structure(children) = &mut item.value {
        for c in children {
            tamper_result_status(c);
        }
    }
}

/// Files the harness cannot replay because the OASIS original is defective.
const BROKEN: &[(&str, &str)] = &[
    // Step 4 sends two requests in a row: the expected response of the first is missing.
    ("kmip-1.4/testcases/TC-DERIVEKEY-4-10.xml", "request at line 220 has no response"),
];

#[test]
fn harness_accepts_reference_responses_and_catches_changes() {
    let dir = common::corpus_dir();
    let files = common::xml_files(&dir);
    let (mut passed, mut steps, mut failures) = (0, 0, Vec::new());
    for path in &files {
        let rel = path.strip_prefix(&dir).unwrap().display().to_string();
        if BROKEN.iter().any(|(f, _)| *f == rel) {
            let text = std::fs::read_to_string(path).unwrap();
            let err = Replay::default().run(&text, &mut Oracle::new(&text, false)).unwrap_err();
            assert!(matches!(err, ReplayError::Shape { .. }), "{rel}: {err}");
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let mut replay = Replay::default();
        match replay.run(&text, &mut Oracle::new(&text, false)) {
            Ok(()) => {
                passed += 1;
                steps += replay.steps;
            }
            Err(e) => failures.push(format!("{}: {e}", path.strip_prefix(&dir).unwrap().display())),
        }
        let mut replay = Replay::default();
        match replay.run(&text, &mut Oracle::new(&text, true)) {
            Err(ReplayError::Mismatch { step: 0, .. }) => {}
            other => failures.push(format!("{}: tampered result not caught: {other:?}", path.display())),
        }
    }
    println!("replay self-test: {passed}/{} files, {steps} steps; known broken: {BROKEN:?}", files.len());
    for f in failures.iter().take(30) {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}
