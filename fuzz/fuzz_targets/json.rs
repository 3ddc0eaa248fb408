//! Fuzzes the JSON reader: no text may panic it, and whatever it accepts must write back to
//! JSON that reads to the same tree, and encode to TTLV that decodes to the same tree.

#![no_main]

use kmipd::ttlv::json::{from_json, from_json_str, to_json};
use kmipd::ttlv::{decode, encode, DecodeLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(item) = from_json_str(text) {
        assert_eq!(from_json(&to_json(&item)).as_ref(), Ok(&item));
        let bytes = encode(&item).expect("a tree read from JSON always encodes");
        assert_eq!(decode(&bytes, &DecodeLimits::default()).as_ref(), Ok(&item));
    }
});
