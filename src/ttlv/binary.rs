//! The TTLV wire encoding: 3-byte tag, 1-byte type, 4-byte length, value padded with zeros
//! to a multiple of 8 (KMIP 1.4 §9.1.1, 2.1 §10.1).
//!
//! Decoding is strict: lengths must match the item type, padding must be zero, a Structure's
//! children must fill it exactly, and every declared length is checked against the bytes that
//! are really there before anything is allocated, so a hostile length costs nothing. Depth is
//! bounded, so deep nesting can't exhaust the stack.

use thiserror::Error;

use super::{BigInt, ItemType, Tag, Ttlv, Value};

/// Bounds applied while decoding untrusted input.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Largest encoded message accepted, header included.
    pub max_bytes: usize,
    /// Deepest Structure nesting accepted (the outermost item is depth 1).
    pub max_depth: usize,
}

impl Default for DecodeLimits {
    /// 16 MiB and 64 levels: KMIP messages nest about ten levels deep.
    fn default() -> Self {
        DecodeLimits { max_bytes: 16 * 1024 * 1024, max_depth: 64 }
    }
}

/// Why a byte string is not a valid TTLV item. Every variant names the byte offset of the
/// item (or field) at fault, counted from the start of the input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input holds no bytes at all.
    #[error("empty input")]
    Empty,
    /// The input ends inside an item header or value.
    #[error("at byte {offset}: truncated, {needed} bytes needed but only {available} left")]
    Truncated { offset: usize, needed: usize, available: usize },
    /// An item's length runs past the end of its enclosing Structure or of the input.
    #[error("at byte {offset}: length {length} runs past the end ({available} bytes left)")]
    LengthPastEnd { offset: usize, length: u32, available: usize },
    /// The message is larger than the caller allows.
    #[error("at byte {offset}: message of {length} bytes exceeds the limit of {limit}")]
    TooLarge { offset: usize, length: u64, limit: usize },
    /// The type byte is not one of the eleven item types.
    #[error("at byte {offset}: unknown item type 0x{code:02X}")]
    UnknownType { offset: usize, code: u8 },
    /// The length does not fit the item type (an Integer must be 4 bytes, ...).
    #[error("at byte {offset}: length {length} is invalid for {item_type:?}")]
    BadLength { offset: usize, item_type: ItemType, length: u32 },
    /// A padding byte is not zero.
    #[error("at byte {offset}: non-zero padding byte")]
    NonZeroPadding { offset: usize },
    /// A Boolean holds something other than 0 or 1.
    #[error("at byte {offset}: boolean value {value} is neither 0 nor 1")]
    BadBoolean { offset: usize, value: u64 },
    /// A Text String is not valid UTF-8.
    #[error("at byte {offset}: text string is not valid UTF-8")]
    BadUtf8 { offset: usize },
    /// Structures nest deeper than the limit.
    #[error("at byte {offset}: structures nested deeper than {limit} levels")]
    TooDeep { offset: usize, limit: usize },
    /// Bytes follow the (single) top-level item.
    #[error("at byte {offset}: {count} unexpected bytes after the message")]
    TrailingBytes { offset: usize, count: usize },
}

impl DecodeError {
    /// The same error with its offset moved by `base`, for an item that starts `base` bytes
    /// into a larger stream.
    pub fn shifted(self, base: usize) -> DecodeError {
        let mut e = self;
        match &mut e {
            DecodeError::Empty => {}
            DecodeError::Truncated { offset, .. }
            | DecodeError::LengthPastEnd { offset, .. }
            | DecodeError::TooLarge { offset, .. }
            | DecodeError::UnknownType { offset, .. }
            | DecodeError::BadLength { offset, .. }
            | DecodeError::NonZeroPadding { offset }
            | DecodeError::BadBoolean { offset, .. }
            | DecodeError::BadUtf8 { offset }
            | DecodeError::TooDeep { offset, .. }
            | DecodeError::TrailingBytes { offset, .. } => *offset += base,
        }
        e
    }

    /// The byte offset the error refers to (0 for empty input).
    pub fn offset(&self) -> usize {
        match self {
            DecodeError::Empty => 0,
            DecodeError::Truncated { offset, .. }
            | DecodeError::LengthPastEnd { offset, .. }
            | DecodeError::TooLarge { offset, .. }
            | DecodeError::UnknownType { offset, .. }
            | DecodeError::BadLength { offset, .. }
            | DecodeError::NonZeroPadding { offset }
            | DecodeError::BadBoolean { offset, .. }
            | DecodeError::BadUtf8 { offset }
            | DecodeError::TooDeep { offset, .. }
            | DecodeError::TrailingBytes { offset, .. } => *offset,
        }
    }
}

/// Why a tree can't be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// A tag value does not fit in three bytes.
    #[error("tag 0x{0:X} does not fit in three bytes")]
    BadTag(u32),
    /// An item or Structure is longer than the 32-bit length field allows.
    #[error("item {0} is longer than 4 GiB")]
    TooLong(Tag),
}

/// Size of an item header: tag (3), type (1), length (4).
pub const HEADER_LEN: usize = 8;

/// Reads the total size (header + padded value) of the item whose 8-byte header is given,
/// checking it against `max_bytes` before the caller reads or allocates the rest. This is
/// what a connection uses to frame messages.
pub fn frame_len(header: &[u8; HEADER_LEN], max_bytes: usize) -> Result<usize, DecodeError> {
    let code = header[3];
    let item_type = ItemType::from_code(code).ok_or(DecodeError::UnknownType { offset: 3, code })?;
    let length = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    let total = HEADER_LEN as u64 + padded(item_type, length);
    if total > max_bytes as u64 {
        return Err(DecodeError::TooLarge { offset: 0, length: total, limit: max_bytes });
    }
    usize::try_from(total).map_err(|_| DecodeError::TooLarge { offset: 0, length: total, limit: max_bytes })
}

/// Decodes exactly one TTLV item that spans the whole input.
pub fn decode(input: &[u8], limits: &DecodeLimits) -> Result<Ttlv, DecodeError> {
    if input.is_empty() {
        return Err(DecodeError::Empty);
    }
    if input.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge { offset: 0, length: input.len() as u64, limit: limits.max_bytes });
    }
    let mut reader = Reader { input, pos: 0, limits };
    let item = reader.item(input.len(), 1)?;
    if reader.pos != input.len() {
        return Err(DecodeError::TrailingBytes { offset: reader.pos, count: input.len() - reader.pos });
    }
    Ok(item)
}

/// Length of a value once padded to a multiple of 8 bytes.
fn padded(item_type: ItemType, length: u32) -> u64 {
    match item_type {
        ItemType::Structure => length as u64,
        _ => (length as u64).div_ceil(8) * 8,
    }
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    limits: &'a DecodeLimits,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, end: usize) -> Result<&[u8], DecodeError> {
        let available = end.saturating_sub(self.pos);
        if n > available {
            return Err(DecodeError::Truncated { offset: self.pos, needed: n, available });
        }
        let slice = self.input.get(self.pos..self.pos + n).ok_or(DecodeError::Truncated {
            offset: self.pos,
            needed: n,
            available,
        })?;
        self.pos += n;
        Ok(slice)
    }

    /// Reads one item that must end at or before `end`.
    fn item(&mut self, end: usize, depth: usize) -> Result<Ttlv, DecodeError> {
        let start = self.pos;
        let h = self.take(HEADER_LEN, end)?;
        let tag = Tag(u32::from_be_bytes([0, h[0], h[1], h[2]]));
        let code = h[3];
        let length = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        let item_type = ItemType::from_code(code).ok_or(DecodeError::UnknownType { offset: start + 3, code })?;
        let total = padded(item_type, length);
        let available = end - self.pos;
        if total > available as u64 {
            return Err(DecodeError::LengthPastEnd { offset: start + 4, length, available });
        }
        let value_start = self.pos;
        let bad_length = DecodeError::BadLength { offset: start + 4, item_type, length };
        let value = match item_type {
            ItemType::Structure => {
                if depth >= self.limits.max_depth {
                    return Err(DecodeError::TooDeep { offset: start, limit: self.limits.max_depth });
                }
                let struct_end = value_start + length as usize;
                let mut children = Vec::new();
                while self.pos < struct_end {
                    children.push(self.item(struct_end, depth + 1)?);
                }
                Value::Structure(children)
            }
            ItemType::Integer => Value::Integer(i32::from_be_bytes(self.fixed4(length, bad_length)?)),
            ItemType::Enumeration => Value::Enumeration(u32::from_be_bytes(self.fixed4(length, bad_length)?)),
            ItemType::Interval => Value::Interval(u32::from_be_bytes(self.fixed4(length, bad_length)?)),
            ItemType::LongInteger => Value::LongInteger(i64::from_be_bytes(self.fixed8(length, bad_length)?)),
            ItemType::DateTime => Value::DateTime(i64::from_be_bytes(self.fixed8(length, bad_length)?)),
            ItemType::DateTimeExtended => {
                Value::DateTimeExtended(i64::from_be_bytes(self.fixed8(length, bad_length)?))
            }
            ItemType::Boolean => {
                let v = u64::from_be_bytes(self.fixed8(length, bad_length)?);
                match v {
                    0 => Value::Boolean(false),
                    1 => Value::Boolean(true),
                    _ => return Err(DecodeError::BadBoolean { offset: value_start, value: v }),
                }
            }
            ItemType::BigInteger => {
                if length == 0 || length % 8 != 0 {
                    return Err(bad_length);
                }
                Value::BigInteger(BigInt(self.take(length as usize, end)?.to_vec()))
            }
            ItemType::TextString => {
                let bytes = self.take(length as usize, end)?;
                let s = std::str::from_utf8(bytes).map_err(|_| DecodeError::BadUtf8 { offset: value_start })?;
                let v = Value::TextString(s.to_owned());
                self.padding(length, end)?;
                v
            }
            ItemType::ByteString => {
                let v = Value::ByteString(self.take(length as usize, end)?.to_vec());
                self.padding(length, end)?;
                v
            }
        };
        Ok(Ttlv { tag, value })
    }

    fn fixed4(&mut self, length: u32, bad: DecodeError) -> Result<[u8; 4], DecodeError> {
        if length != 4 {
            return Err(bad);
        }
        let end = self.input.len();
        let b = self.take(4, end)?;
        let v = [b[0], b[1], b[2], b[3]];
        self.padding(4, end)?;
        Ok(v)
    }

    fn fixed8(&mut self, length: u32, bad: DecodeError) -> Result<[u8; 8], DecodeError> {
        if length != 8 {
            return Err(bad);
        }
        let end = self.input.len();
        let b = self.take(8, end)?;
        Ok([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// Consumes and checks the zero padding after a value of `length` bytes.
    fn padding(&mut self, length: u32, end: usize) -> Result<(), DecodeError> {
        let pad = (8 - length as usize % 8) % 8;
        let at = self.pos;
        let bytes = self.take(pad, end)?;
        match bytes.iter().position(|b| *b != 0) {
            Some(i) => Err(DecodeError::NonZeroPadding { offset: at + i }),
            None => Ok(()),
        }
    }
}

/// Encodes an item tree to its wire form.
pub fn encode(item: &Ttlv) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(encoded_len(item).min(1 << 20));
    encode_into(item, &mut out)?;
    Ok(out)
}

/// The number of bytes [`encode`] produces for this item.
pub fn encoded_len(item: &Ttlv) -> usize {
    HEADER_LEN
        + match &item.value {
            Value::Structure(children) => children.iter().map(encoded_len).sum(),
            Value::Integer(_) | Value::Enumeration(_) | Value::Interval(_) => 8,
            Value::LongInteger(_) | Value::Boolean(_) | Value::DateTime(_) | Value::DateTimeExtended(_) => 8,
            Value::BigInteger(b) => b.as_bytes().len().max(8),
            Value::TextString(s) => s.len().div_ceil(8) * 8,
            Value::ByteString(b) => b.len().div_ceil(8) * 8,
        }
}

/// Appends the wire form of an item to `out`.
pub fn encode_into(item: &Ttlv, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    if item.tag.0 > Tag::MAX {
        return Err(EncodeError::BadTag(item.tag.0));
    }
    let tag = item.tag.0.to_be_bytes();
    out.extend_from_slice(&tag[1..]);
    out.push(item.item_type().code());
    let too_long = || EncodeError::TooLong(item.tag);
    match &item.value {
        Value::Structure(children) => {
            let len_at = out.len();
            out.extend_from_slice(&[0; 4]);
            for c in children {
                encode_into(c, out)?;
            }
            let len = u32::try_from(out.len() - len_at - 4).map_err(|_| too_long())?;
            out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
        }
        Value::Integer(v) => four(out, v.to_be_bytes()),
        Value::Enumeration(v) => four(out, v.to_be_bytes()),
        Value::Interval(v) => four(out, v.to_be_bytes()),
        Value::LongInteger(v) => eight(out, v.to_be_bytes()),
        Value::DateTime(v) => eight(out, v.to_be_bytes()),
        Value::DateTimeExtended(v) => eight(out, v.to_be_bytes()),
        Value::Boolean(v) => eight(out, (*v as u64).to_be_bytes()),
        Value::BigInteger(b) => {
            let bytes = if b.as_bytes().is_empty() { &[0u8; 8][..] } else { b.as_bytes() };
            variable(out, bytes).map_err(|_| too_long())?
        }
        Value::TextString(s) => variable(out, s.as_bytes()).map_err(|_| too_long())?,
        Value::ByteString(b) => variable(out, b).map_err(|_| too_long())?,
    }
    Ok(())
}

fn four(out: &mut Vec<u8>, v: [u8; 4]) {
    out.extend_from_slice(&4u32.to_be_bytes());
    out.extend_from_slice(&v);
    out.extend_from_slice(&[0; 4]);
}

fn eight(out: &mut Vec<u8>, v: [u8; 8]) {
    out.extend_from_slice(&8u32.to_be_bytes());
    out.extend_from_slice(&v);
}

fn variable(out: &mut Vec<u8>, v: &[u8]) -> Result<(), std::num::TryFromIntError> {
    let len = u32::try_from(v.len())?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(v);
    out.resize(out.len() + (8 - v.len() % 8) % 8, 0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '|'], "")).unwrap()
    }

    #[test]
    fn integer_round_trip() {
        let bytes = hex("42002002000000040000000800000000");
        let item = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(item, Ttlv::integer(Tag(0x420020), 8));
        assert_eq!(encode(&item).unwrap(), bytes);
    }

    #[test]
    fn hostile_length_is_rejected_before_allocating() {
        let bytes = hex("42002008FFFFFFFF");
        assert!(matches!(
            decode(&bytes, &DecodeLimits::default()),
            Err(DecodeError::LengthPastEnd { offset: 4, .. })
        ));
        let header: [u8; 8] = bytes.try_into().unwrap();
        assert!(matches!(frame_len(&header, 1 << 20), Err(DecodeError::TooLarge { .. })));
    }

    #[test]
    fn nonzero_padding() {
        let bytes = hex("42002002000000040000000800000001");
        assert_eq!(decode(&bytes, &DecodeLimits::default()), Err(DecodeError::NonZeroPadding { offset: 15 }));
    }
}
