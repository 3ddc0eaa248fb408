//! The typed model on the OASIS corpus: for every RequestMessage and ResponseMessage of the
//! KMIP 1.3, 1.4, 2.0 and 2.1 test cases (all subfolders), TTLV → RequestMessage /
//! ResponseMessage → TTLV must give the identical tree, and every tag of a message must exist
//! in the message's protocol version. Prints the counts (files, messages, typed payloads and
//! `Other` payloads per operation) and fails on any decode error, mismatch or version breach.
//!
//! `kmip-1.4/testcases/TC-ECDSA-SIGN-1-14.xml` closes `</KMIP>` twice (OASIS original); the
//! XML reader stops at the first one, so the file is checked like the others.

mod common;

use std::collections::BTreeMap;

use kmipd::kmip::attributes::check_in_version;
use kmipd::kmip::{RequestMessage, ResponseMessage};
use kmipd::ttlv::xml::{self, Placeholders};
use kmipd::ttlv::{Tag, Ttlv};

const FOLDERS: &[&str] = &["kmip-1.3", "kmip-1.4", "kmip-2.0", "kmip-2.1"];

/// First differing path between two trees, for a readable failure.
fn first_difference(a: &Ttlv, b: &Ttlv, path: &mut Vec<String>) -> Option<String> {
    path.push(format!("{:?}", a.tag));
    let result = if a.tag != b.tag || a.item_type() != b.item_type() {
        Some(format!(
            "{}: {:?}/{:?} vs {:?}/{:?}",
            path.join("/"),
            a.tag,
            a.item_type(),
            b.tag,
            b.item_type()
        ))
    } else if a.children().is_empty() && b.children().is_empty() {
        (a != b).then(|| format!("{}: {:?} vs {:?}", path.join("/"), a.value, b.value))
    } else {
        let mut found = None;
        for (x, y) in a.children().iter().zip(b.children()) {
            found = first_difference(x, y, path);
            if found.is_some() {
                break;
            }
        }
        found.or_else(|| {
            (a.children().len() != b.children().len()).then(|| {
                format!("{}: {} vs {} children", path.join("/"), a.children().len(), b.children().len())
            })
        })
    };
    path.pop();
    result
}

#[derive(Default)]
struct Counts {
    files: usize,
    requests: usize,
    responses: usize,
    typed: usize,
    other: BTreeMap<String, usize>,
    failures: Vec<String>,
    version_violations: Vec<String>,
}

impl Counts {
    fn payload(&mut self, typed: bool, operation: String) {
        if typed {
            self.typed += 1;
        } else {
            *self.other.entry(operation).or_default() += 1;
        }
    }

    fn check(&mut self, name: &str, i: usize, item: &Ttlv, back: Ttlv) {
        if back != *item {
            let diff = first_difference(item, &back, &mut Vec::new()).unwrap_or_default();
            self.failures.push(format!("{name} #{i}: round trip changed the tree at {diff}"));
        }
    }
}

fn run(folders: &[&str]) -> Counts {
    let dir = common::corpus_dir();
    let mut c = Counts::default();
    for folder in folders {
        for path in common::xml_files(&dir.join(folder)) {
            c.files += 1;
            let name = path.strip_prefix(&dir).unwrap().display().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let items = match xml::parse_test_case(&text, &Placeholders::default()) {
                Ok(items) => items,
                Err(e) => {
                    c.failures.push(format!("{name}: XML: {e}"));
                    continue;
                }
            };
            for (i, item) in items.iter().enumerate() {
                if item.tag == Tag::REQUEST_MESSAGE {
                    c.requests += 1;
                    match RequestMessage::from_ttlv(item) {
                        Ok(m) => {
                            if let Some(v) = m.header.protocol_version.to_version() {
                                if let Err(e) = check_in_version(item, v) {
                                    c.version_violations.push(format!("{name} #{i}: {e}"));
                                }
                            }
                            for b in &m.batch_items {
                                c.payload(b.payload.is_typed(), format!("{:?}", b.operation));
                            }
                            c.check(&name, i, item, m.to_ttlv());
                        }
                        Err(e) => c.failures.push(format!("{name} #{i}: {e}")),
                    }
                } else {
                    c.responses += 1;
                    match ResponseMessage::from_ttlv(item) {
                        Ok(m) => {
                            if let Some(v) = m.header.protocol_version.to_version() {
                                if let Err(e) = check_in_version(item, v) {
                                    c.version_violations.push(format!("{name} #{i}: {e}"));
                                }
                            }
                            for b in &m.batch_items {
                                if let Some(p) = &b.payload {
                                    c.payload(p.is_typed(), format!("{:?}", p.operation()));
                                }
                            }
                            c.check(&name, i, item, m.to_ttlv());
                        }
                        Err(e) => c.failures.push(format!("{name} #{i}: {e}")),
                    }
                }
            }
        }
    }
    let other_total: usize = c.other.values().sum();
    println!(
        "typed model corpus ({}): {} files, {} requests, {} responses, {} typed payloads, {} Other payloads",
        folders.join(", "),
        c.files,
        c.requests,
        c.responses,
        c.typed,
        other_total
    );
    println!("not modelled (Other) by operation: {:?}", c.other);
    println!(
        "messages using a tag or attribute their protocol version does not define: {}",
        c.version_violations.len()
    );
    for v in &c.version_violations {
        println!("VERSION {v}");
    }
    for f in &c.failures {
        println!("FAIL {f}");
    }
    c
}

#[test]
fn every_1x_and_2x_message_round_trips_through_the_typed_model() {
    let c = run(FOLDERS);
    assert!(c.failures.is_empty(), "{} of {} messages failed", c.failures.len(), c.requests + c.responses);
    assert!(c.version_violations.is_empty(), "messages use tags outside their protocol version");
    // Exhaustiveness guards against an XML reader that silently returns nothing.
    assert!(c.files > 500 && c.requests > 2000, "corpus looks incomplete");
}

/// The 1.0–1.2 folder (derived from the printed 2015 profile documents and a third-party
/// transcription) is not a target of the issue, but it exercises the 1.0–1.2 headers and
/// attributes. Everything round-trips except two messages whose transcription lost an
/// Attribute Name; the strict model rejects exactly those. One transcribed Notify claims
/// protocol 1.0 but carries the 1.1 attribute Fresh; the version check flags exactly that.
#[test]
fn the_1_0_to_1_2_messages_round_trip_except_known_transcription_errors() {
    let c = run(&["kmip-1.0-1.2"]);
    let failed: Vec<&str> = c.failures.iter().map(|f| f.split(" #").next().unwrap_or("")).collect();
    assert_eq!(
        failed,
        vec![
            "kmip-1.0-1.2/profiles/mandatory/CS-AC-M-3-12.xml",
            "kmip-1.0-1.2/profiles/mandatory/CS-AC-M-8-12.xml"
        ],
        "{:#?}",
        c.failures
    );
    assert!(c.failures.iter().all(|f| f.ends_with("required field AttributeName is missing")));
    assert_eq!(
        c.version_violations,
        vec!["kmip-1.0-1.2/testcases-ovh-transcribed/v1.2/TC_NP_2_12_Notify_Put.xml #2: \
              RequestMessage/BatchItem/RequestPayload/Attribute/AttributeName: not defined in KMIP 1.0"
            .to_owned()]
    );
}

/// Every attribute in the corpus converts between the 1.x and 2.x forms without loss: a 1.x
/// `Attribute` becomes a 2.x element (custom names become Vendor Attributes) and comes back
/// the same, and a 2.x element goes to the 1.x form and back the same.
#[test]
fn every_corpus_attribute_converts_between_the_1x_and_2x_forms() {
    use kmipd::kmip::attributes::{IndexedAttribute, TemplateAttribute};
    use kmipd::kmip::codec::{FromTtlv, Path};
    use kmipd::kmip::{Attribute, Attributes};

    fn walk(item: &Ttlv, v1: &mut Vec<Ttlv>, v2: &mut Vec<Ttlv>) {
        if item.tag == Tag::ATTRIBUTE && item.child(Tag::VENDOR_IDENTIFICATION).is_none() {
            v1.push(item.clone());
        }
        if item.tag == Tag::ATTRIBUTES {
            v2.extend(item.children().iter().cloned());
        }
        for c in item.children() {
            walk(c, v1, v2);
        }
    }

    let dir = common::corpus_dir();
    let (mut v1, mut v2) = (Vec::new(), Vec::new());
    for folder in FOLDERS {
        for path in common::xml_files(&dir.join(folder)) {
            let text = std::fs::read_to_string(&path).unwrap();
            for item in xml::parse_test_case(&text, &Placeholders::default()).unwrap() {
                walk(&item, &mut v1, &mut v2);
            }
        }
    }
    let root = Path::root(Tag::ATTRIBUTE);
    for item in &v1 {
        let a = IndexedAttribute::from_ttlv_item(item, &root).unwrap();
        let template = TemplateAttribute { names: Vec::new(), attributes: vec![a.clone()] };
        let as_v2 = template.to_attributes();
        let back = as_v2.to_template_attribute();
        assert_eq!(back.attributes[0].attribute, a.attribute, "{item:?}");
    }
    for item in &v2 {
        let a = Attribute::from_ttlv_v2(item, &Path::root(item.tag)).unwrap();
        let attrs = Attributes { attributes: vec![a] };
        let back = attrs.to_template_attribute().to_attributes();
        assert_eq!(back, attrs, "{item:?}");
        assert_eq!(back.attributes[0].to_ttlv_v2(), *item);
    }
    println!("{} 1.x attributes and {} 2.x attributes convert both ways", v1.len(), v2.len());
    assert!(v1.len() > 1000 && v2.len() > 1000);
}
