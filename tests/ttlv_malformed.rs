//! Malformed input for the binary TTLV decoder: every case must come back as a specific
//! `DecodeError` variant naming the right byte offset, never as a panic, and without
//! allocating more than the input justifies.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kmipd::ttlv::{decode, encode, DecodeError, DecodeLimits, ItemType, Tag, Ttlv};

/// Tracks the live heap bytes of the current thread and their high-water mark, so a test can
/// prove that a hostile length header does not turn into a big allocation. Per thread because
/// the test harness runs tests in parallel.
struct CountingAllocator;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // `try_with` because the allocator is also called while thread-locals are torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Old and new block coexist while the data is copied.
        track(new_size as isize);
        track(-(layout.size() as isize));
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// The most heap this thread held at once while running `f`, above what it held before.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let out = f();
    (out, (PEAK.with(Cell::get) - before) as usize)
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn dec(bytes: &[u8]) -> Result<Ttlv, DecodeError> {
    decode(bytes, &DecodeLimits::default())
}

/// Message M4 of ttlv-examples.md (Query response, 680 bytes): Structures, Integers,
/// Enumerations and a Date-Time.
const M4: &str = "
42007b01000002a042007a0100000048420069010000002042006a02000000040000000100000000
42006b0200000004000000000000000042009209000000080000000051caafbd42000d0200000004
000000010000000042000f010000024842005c0500000004000000180000000042007f0500000004
000000000000000042007c010000022042005c0500000004000000180000000042005c0500000004
000000080000000042005c0500000004000000140000000042005c05000000040000000a00000000
42005c0500000004000000010000000042005c0500000004000000030000000042005c0500000004
0000000b0000000042005c05000000040000000c0000000042005c05000000040000000d00000000
42005c05000000040000000e0000000042005c05000000040000000f0000000042005c0500000004
000000120000000042005c0500000004000000130000000042005c05000000040000001a00000000
42005c0500000004000000190000000042005c0500000004000000090000000042005c0500000004
000000110000000042005c0500000004000000020000000042005c05000000040000000400000000
42005c0500000004000000150000000042005c0500000004000000160000000042005c0500000004
000000100000000042005c0500000004000000060000000042005c05000000040000000700000000
42005c05000000040000001b0000000042005c05000000040000001c000000004200570500000004
00000001000000004200570500000004000000020000000042005705000000040000000700000000
42005705000000040000000300000000420057050000000400000004000000004200570500000004
00000006000000004200570500000004000000080000000042005705000000040000000500000000";

/// A message with every variable-length and fixed-length type, so truncation hits each kind
/// of value.
fn every_type_message() -> Vec<u8> {
    use kmipd::ttlv::{BigInt, Value};
    let t = Tag::COMPROMISE_DATE;
    let tree = Ttlv::structure(
        Tag::REQUEST_MESSAGE,
        vec![
            Ttlv::integer(t, -5),
            Ttlv::long_integer(t, 1 << 40),
            Ttlv::new(t, Value::BigInteger(BigInt::from_signed_bytes(&[0x80, 1, 2, 3, 4, 5, 6, 7, 8]))),
            Ttlv::enumeration(t, 7),
            Ttlv::boolean(t, true),
            Ttlv::text(t, "Hello World"),
            Ttlv::bytes(t, vec![1, 2, 3]),
            Ttlv::date_time(t, 1_205_495_800),
            Ttlv::interval(t, 864_000),
            Ttlv::new(t, Value::DateTimeExtended(1_205_495_800_000_001)),
            Ttlv::structure(t, vec![Ttlv::structure(t, vec![]), Ttlv::text(t, "")]),
        ],
    );
    encode(&tree).unwrap()
}

/// Start and end offsets of every item of a valid message, in pre-order, outermost first.
fn item_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    fn walk(bytes: &[u8], start: usize, out: &mut Vec<(usize, usize)>) -> usize {
        let code = bytes[start + 3];
        let len = u32::from_be_bytes(bytes[start + 4..start + 8].try_into().unwrap()) as usize;
        let end = if code == 0x01 { start + 8 + len } else { start + 8 + len.div_ceil(8) * 8 };
        out.push((start, end));
        if code == 0x01 {
            let mut pos = start + 8;
            while pos < end {
                pos = walk(bytes, pos, out);
            }
        }
        end
    }
    let mut out = Vec::new();
    walk(bytes, 0, &mut out);
    out
}

#[test]
fn empty_stream() {
    assert_eq!(dec(&[]), Err(DecodeError::Empty));
}

/// Every prefix of a valid message is rejected: a cut header is `Truncated` at offset 0, a cut
/// value is `LengthPastEnd` naming the outer length field.
#[test]
fn every_prefix_of_a_valid_message_is_rejected() {
    for msg in [hex(M4), every_type_message()] {
        assert!(dec(&msg).is_ok());
        let outer_len = u32::from_be_bytes(msg[4..8].try_into().unwrap());
        for cut in 1..msg.len() {
            let got = dec(&msg[..cut]);
            let want = if cut < 8 {
                DecodeError::Truncated { offset: 0, needed: 8, available: cut }
            } else {
                DecodeError::LengthPastEnd { offset: 4, length: outer_len, available: cut - 8 }
            };
            assert_eq!(got, Err(want), "prefix of {cut} bytes");
        }
    }
}

/// The same prefixes, but with the outer Structure's length rewritten to match, so the cut
/// falls inside an inner item: the first item (in pre-order) that crosses the cut is the one
/// reported. A cut exactly on an item boundary is a shorter valid message.
#[test]
fn every_prefix_cuts_inner_items_at_the_right_offset() {
    for msg in [hex(M4), every_type_message()] {
        let spans = item_spans(&msg);
        for cut in 8..msg.len() {
            let mut bytes = msg[..cut].to_vec();
            bytes[4..8].copy_from_slice(&((cut - 8) as u32).to_be_bytes());
            let got = dec(&bytes);
            let crossing = spans.iter().skip(1).find(|(_, end)| *end > cut);
            match crossing {
                Some(&(start, _)) if start < cut => {
                    let want_offset = if cut - start < 8 { start } else { start + 4 };
                    let err = got.expect_err(&format!("cut at {cut}"));
                    assert_eq!(err.offset(), want_offset, "cut at {cut}: {err}");
                    if cut - start < 8 {
                        assert_eq!(err, DecodeError::Truncated { offset: start, needed: 8, available: cut - start });
                    } else {
                        assert!(matches!(err, DecodeError::LengthPastEnd { .. }), "cut at {cut}: {err}");
                    }
                }
                _ => {
                    let item = got.unwrap_or_else(|e| panic!("cut at boundary {cut}: {e}"));
                    assert_eq!(encode(&item).unwrap(), bytes);
                }
            }
        }
    }
}

#[test]
fn length_past_the_end_of_the_input() {
    // A Text String claiming 9 bytes (16 with padding) with only 8 present.
    let bytes = hex("420020 07 00000009 4142434445464748");
    assert_eq!(dec(&bytes), Err(DecodeError::LengthPastEnd { offset: 4, length: 9, available: 8 }));
}

#[test]
fn length_past_the_end_of_the_enclosing_structure() {
    // A10 with the second child turned into a 9-byte Text String: it fits the input only if it
    // runs over the end of its Structure, which must not be allowed.
    let mut bytes = hex("42002001000000204200040500000004000000FE000000004200050700000009000000FF00000000");
    bytes.extend_from_slice(&[0; 8]);
    assert_eq!(dec(&bytes), Err(DecodeError::LengthPastEnd { offset: 28, length: 9, available: 8 }));
}

#[test]
fn structure_length_that_splits_a_child_header() {
    // Outer length 4: the child header needs 8 bytes.
    let bytes = hex("420020 01 00000004 00000000");
    assert_eq!(dec(&bytes), Err(DecodeError::Truncated { offset: 8, needed: 8, available: 4 }));
}

/// A 16-byte input that announces 4 GiB fails at once and allocates next to nothing.
#[test]
fn oversized_length_header_allocates_nothing() {
    for code in ["01", "04", "07", "08"] {
        let bytes = hex(&format!("420020 {code} FFFFFFFF 0000000000000000"));
        let (got, allocated) = allocated_by(|| dec(&bytes));
        assert_eq!(got, Err(DecodeError::LengthPastEnd { offset: 4, length: 0xFFFF_FFFF, available: 8 }));
        assert!(allocated < 256, "type {code}: {allocated} bytes allocated");
    }
}

/// The caller's size limit is applied to the whole input before anything else.
#[test]
fn input_over_the_size_limit() {
    let bytes = hex("42002008000000080000000000000000");
    let limits = DecodeLimits { max_bytes: 15, ..DecodeLimits::default() };
    let (got, allocated) = allocated_by(|| decode(&bytes, &limits));
    assert_eq!(got, Err(DecodeError::TooLarge { offset: 0, length: 16, limit: 15 }));
    assert_eq!(allocated, 0);
}

/// What a valid message costs in memory is proportional to its size: a tree node takes 40
/// bytes for an item of 16 wire bytes, and a growing Vec briefly holds old and new storage.
#[test]
fn allocation_is_proportional_to_the_input() {
    let tree =
        Ttlv::structure(Tag::REQUEST_MESSAGE, (0..10_000).map(|i| Ttlv::integer(Tag::COMPROMISE_DATE, i)).collect());
    let bytes = encode(&tree).unwrap();
    let (got, allocated) = allocated_by(|| dec(&bytes));
    assert_eq!(got.unwrap(), tree);
    assert!(allocated <= 8 * bytes.len(), "{allocated} bytes allocated for {} input bytes", bytes.len());
    let big = encode(&Ttlv::bytes(Tag::COMPROMISE_DATE, vec![7u8; 1 << 20])).unwrap();
    let (got, allocated) = allocated_by(|| dec(&big));
    assert!(got.is_ok());
    assert!(allocated <= big.len() + 256, "{allocated} bytes allocated for {} input bytes", big.len());
}

#[test]
fn nonzero_padding() {
    let cases = [
        // Integer, Enumeration, Interval: 4 value bytes then 4 padding bytes.
        ("42002002000000040000000800000001", 15),
        ("4200200500000004000000FF01000000", 12),
        ("4200200A00000004000D2F0000100000", 13),
        // Text String "Hello World": 11 bytes, padding from offset 19.
        ("420020070000000B48656C6C6F20576F726C640000000001", 23),
        // Byte String of 3 bytes, padding from offset 11.
        ("42002008000000030102038000000000", 11),
    ];
    for (h, offset) in cases {
        assert_eq!(dec(&hex(h)), Err(DecodeError::NonZeroPadding { offset }), "{h}");
    }
}

#[test]
fn nonzero_padding_inside_a_structure() {
    let bytes = hex("42002001000000204200040500000004000000FE000000004200050200000004000000FF00000100");
    assert_eq!(dec(&bytes), Err(DecodeError::NonZeroPadding { offset: 38 }));
}

#[test]
fn bad_boolean() {
    for (h, value) in [("0000000000000002", 2u64), ("0100000000000000", 1 << 56), ("FFFFFFFFFFFFFFFF", u64::MAX)] {
        let bytes = hex(&format!("42002006 00000008 {h}"));
        assert_eq!(dec(&bytes), Err(DecodeError::BadBoolean { offset: 8, value }));
    }
}

#[test]
fn bad_utf8() {
    for h in ["FF", "C0AF", "EDA080", "48656C6C6FC3"] {
        let len = h.len() / 2;
        let pad = "00".repeat((8 - len % 8) % 8);
        let bytes = hex(&format!("42002007 {len:08X} {h}{pad}"));
        assert_eq!(dec(&bytes), Err(DecodeError::BadUtf8 { offset: 8 }), "{h}");
    }
}

#[test]
fn unknown_type_byte() {
    for code in [0x00u8, 0x0C, 0x0D, 0x80, 0xFF] {
        let bytes = hex(&format!("420020 {code:02X} 00000004 0000000800000000"));
        assert_eq!(dec(&bytes), Err(DecodeError::UnknownType { offset: 3, code }));
        // The same item inside a Structure: the offset is counted from the start of the input.
        let bytes = hex(&format!("420020 01 00000010 420020 {code:02X} 00000004 0000000800000000"));
        assert_eq!(dec(&bytes), Err(DecodeError::UnknownType { offset: 11, code }));
    }
}

#[test]
fn wrong_length_for_fixed_types() {
    let cases = [
        (ItemType::Integer, 8u32),
        (ItemType::Integer, 0),
        (ItemType::Integer, 3),
        (ItemType::Enumeration, 8),
        (ItemType::Interval, 2),
        (ItemType::LongInteger, 4),
        (ItemType::Boolean, 1),
        (ItemType::DateTime, 4),
        (ItemType::DateTimeExtended, 16),
        (ItemType::LongInteger, 0),
        (ItemType::BigInteger, 0),
        (ItemType::BigInteger, 12),
        (ItemType::BigInteger, 7),
    ];
    for (item_type, length) in cases {
        let mut bytes = hex("420020");
        bytes.push(item_type.code());
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.resize(8 + (length as usize).div_ceil(8) * 8, 0);
        assert_eq!(dec(&bytes), Err(DecodeError::BadLength { offset: 4, item_type, length }), "{item_type:?} {length}");
    }
}

/// `depth` Structures, each the only child of the one before; built without recursion.
fn nested(depth: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(depth * 8);
    for level in 0..depth {
        bytes.extend_from_slice(&[0x42, 0x00, 0x20, 0x01]);
        bytes.extend_from_slice(&(((depth - 1 - level) * 8) as u32).to_be_bytes());
    }
    bytes
}

#[test]
fn nesting_10000_deep() {
    let bytes = nested(10_000);
    let limits = DecodeLimits::default();
    // The Structure at depth max_depth + 1 is reported; it starts max_depth headers in.
    let offset = limits.max_depth * 8;
    let (got, allocated) = allocated_by(|| decode(&bytes, &limits));
    assert_eq!(got, Err(DecodeError::TooDeep { offset, limit: limits.max_depth }));
    assert!(allocated < 64 * 1024, "{allocated} bytes allocated");
}

/// `max_depth` counts items, outermost = 1: exactly `max_depth` levels are accepted, whether the
/// innermost item is a Structure or a primitive.
#[test]
fn nesting_at_the_depth_limit() {
    let limits = DecodeLimits::default();
    let deepest = nested(limits.max_depth);
    assert_eq!(decode(&deepest, &limits).unwrap().depth(), limits.max_depth);
    assert_eq!(
        decode(&nested(limits.max_depth + 1), &limits),
        Err(DecodeError::TooDeep { offset: limits.max_depth * 8, limit: limits.max_depth })
    );

    let mut tree = Ttlv::integer(Tag::COMPROMISE_DATE, 1);
    for _ in 1..limits.max_depth {
        tree = Ttlv::structure(Tag::COMPROMISE_DATE, vec![tree]);
    }
    assert_eq!(tree.depth(), limits.max_depth);
    assert_eq!(dec(&encode(&tree).unwrap()).unwrap(), tree);
    let too_deep = Ttlv::structure(Tag::COMPROMISE_DATE, vec![tree]);
    assert_eq!(
        dec(&encode(&too_deep).unwrap()),
        Err(DecodeError::TooDeep { offset: limits.max_depth * 8, limit: limits.max_depth })
    );
}

#[test]
fn trailing_bytes() {
    let mut bytes = hex("42002002000000040000000800000000");
    bytes.push(0);
    assert_eq!(dec(&bytes), Err(DecodeError::TrailingBytes { offset: 16, count: 1 }));
    bytes.extend_from_slice(&hex("42002002000000040000000800000000"));
    assert_eq!(dec(&bytes), Err(DecodeError::TrailingBytes { offset: 16, count: 17 }));
}

/// The one-line message people see names the offset.
#[test]
fn error_messages_name_the_offset() {
    let err = dec(&hex("42002006 00000008 0000000000000002")).unwrap_err();
    assert_eq!(err.to_string(), "at byte 8: boolean value 2 is neither 0 nor 1");
}
