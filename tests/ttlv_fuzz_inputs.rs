//! Replays the fuzz seeds (`fuzz/seeds/<target>/`) through the fuzz targets' checks on the
//! stable toolchain, so CI runs them without cargo-fuzz. A fuzz finding is kept by copying its
//! input into the seed folder (and, when it shows a specific rule, by a named test in
//! `ttlv_malformed.rs` or `ttlv_json.rs`).

use std::path::{Path, PathBuf};

use kmipd::ttlv::json::{from_json, from_json_str, to_json};
use kmipd::ttlv::{decode, encode, DecodeLimits};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    out.sort();
    out
}

/// The checks of `fuzz/fuzz_targets/decode.rs`.
#[test]
fn decode_seeds() {
    let limits = DecodeLimits::default();
    let all = inputs("decode");
    assert!(all.len() >= 14);
    for (path, data) in all {
        if let Ok(item) = decode(&data, &limits) {
            let bytes = encode(&item).unwrap();
            assert_eq!(bytes, data, "{}", path.display());
            assert_eq!(decode(&bytes, &limits).as_ref(), Ok(&item), "{}", path.display());
        }
    }
}

/// The checks of `fuzz/fuzz_targets/json.rs`; every committed JSON seed is valid.
#[test]
fn json_seeds() {
    let all = inputs("json");
    assert!(all.len() >= 13);
    for (path, data) in all {
        let text = String::from_utf8(data).unwrap();
        let item = match from_json_str(&text) {
            Ok(item) => item,
            // The first message of MSGENC-JSON-M-1-10 lacks its closing brace, as published.
            Err(_) if path.ends_with("MSGENC-JSON-M-1-10-0.json") => continue,
            Err(e) => panic!("{}: {e}", path.display()),
        };
        assert_eq!(from_json(&to_json(&item)).as_ref(), Ok(&item), "{}", path.display());
        let bytes = encode(&item).unwrap();
        assert_eq!(decode(&bytes, &DecodeLimits::default()).as_ref(), Ok(&item), "{}", path.display());
    }
}
