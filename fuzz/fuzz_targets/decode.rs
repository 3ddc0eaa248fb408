//! Fuzzes the binary TTLV decoder: no input may panic it, and whatever it accepts must
//! re-encode to exactly the input bytes and decode again to the same tree.

#![no_main]

use kmipd::ttlv::{decode, encode, DecodeLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits::default();
    if let Ok(item) = decode(data, &limits) {
        let bytes = encode(&item).expect("a decoded tree always encodes");
        assert_eq!(bytes, data, "accepted input is not the canonical encoding");
        assert_eq!(decode(&bytes, &limits).as_ref(), Ok(&item));
    }
});
