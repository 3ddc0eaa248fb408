//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The OASIS test cases: `../shared/kmip-testcases` beside the repository, or `KMIPD_TESTCASES`.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("KMIPD_TESTCASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/kmip-testcases"));
    assert!(dir.is_dir(), "OASIS corpus not found at {}: set KMIPD_TESTCASES", dir.display());
    dir
}

/// Every `.xml` file below `dir`, sorted.
pub fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(dir, &mut out);
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "xml") {
            out.push(p);
        }
    }
}

/// `len` pseudo-random bytes from xorshift64, continuing from `state` (deterministic, so a
/// failure can be replayed).
pub fn noise(state: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}
