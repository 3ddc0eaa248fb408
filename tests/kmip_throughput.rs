//! Throughput of the typed model (TTLV tree → RequestMessage/ResponseMessage → TTLV tree) over
//! the 1.3–2.1 corpus. A measurement, not a check: run it with
//! `cargo test --release --test kmip_throughput -- --ignored --nocapture`.

mod common;

use std::time::Instant;

use kmipd::kmip::{RequestMessage, ResponseMessage};
use kmipd::ttlv::xml::{self, Placeholders};
use kmipd::ttlv::{encode, Tag};

#[test]
#[ignore = "measurement; run in release"]
fn typed_model_round_trip_throughput() {
    let dir = common::corpus_dir();
    let mut items = Vec::new();
    for folder in ["kmip-1.3", "kmip-1.4", "kmip-2.0", "kmip-2.1"] {
        for path in common::xml_files(&dir.join(folder)) {
            let text = std::fs::read_to_string(&path).unwrap();
            items.extend(xml::parse_test_case(&text, &Placeholders::default()).unwrap());
        }
    }
    let bytes: usize = items.iter().map(|i| encode(i).unwrap().len()).sum();
    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        for item in &items {
            let back = if item.tag == Tag::REQUEST_MESSAGE {
                RequestMessage::from_ttlv(item).unwrap().to_ttlv()
            } else {
                ResponseMessage::from_ttlv(item).unwrap().to_ttlv()
            };
            std::hint::black_box(back);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let messages = (items.len() * rounds) as f64;
    println!(
        "typed model: {} messages ({} KiB encoded) x {rounds}: {:.0} messages/s, {:.1} MB/s of TTLV",
        items.len(),
        bytes / 1024,
        messages / secs,
        (bytes * rounds) as f64 / secs / 1e6
    );
}
