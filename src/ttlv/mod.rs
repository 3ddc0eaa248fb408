//! TTLV: the Tag-Type-Length-Value item tree of KMIP and its encodings.
//!
//! This module knows the wire format and the names of tags and enumerations, nothing of
//! KMIP semantics (which fields a message has, what an operation means).
//!
//! - [`Ttlv`] / [`Value`]: the item tree, one node per TTLV item.
//! - [`binary`]: the wire encoding (KMIP spec 1.4 §9.1, 2.1 §10.1), strict decoding with limits.
//! - [`xml`] and [`json`]: the renderings of *KMIP Additional Message Encodings v1.0* used by
//!   the OASIS test cases and by people reading traffic.
//! - [`registry`]: tag, enumeration and mask names, generated from the OASIS tables.

pub mod binary;
pub mod json;
pub mod registry;
mod registry_data;
mod tags;
pub mod text;
pub mod xml;

pub use binary::{decode, encode, DecodeError, DecodeLimits, EncodeError};

use std::fmt;

/// A TTLV tag: three bytes on the wire, `0x42XXXX` for KMIP, `0x54XXXX` for extensions.
///
/// Named constants for every KMIP tag live on this type (`Tag::UNIQUE_IDENTIFIER`); they are
/// generated from the registry, never typed by hand.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub u32);

impl Tag {
    /// The largest value that fits the three-byte wire field.
    pub const MAX: u32 = 0x00FF_FFFF;

    /// The registry name of this tag in CamelCase (`UniqueIdentifier`), if it is a known tag.
    pub fn xml_name(self) -> Option<&'static str> {
        registry::tag_info(self).map(|t| t.xml_name)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.xml_name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "Tag(0x{:06X})", self.0),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The eleven TTLV item types, with their wire codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemType {
    Structure,
    Integer,
    LongInteger,
    BigInteger,
    Enumeration,
    Boolean,
    TextString,
    ByteString,
    DateTime,
    Interval,
    /// KMIP 2.x only: microseconds since the epoch.
    DateTimeExtended,
}

impl ItemType {
    /// The type byte on the wire.
    pub fn code(self) -> u8 {
        match self {
            ItemType::Structure => 0x01,
            ItemType::Integer => 0x02,
            ItemType::LongInteger => 0x03,
            ItemType::BigInteger => 0x04,
            ItemType::Enumeration => 0x05,
            ItemType::Boolean => 0x06,
            ItemType::TextString => 0x07,
            ItemType::ByteString => 0x08,
            ItemType::DateTime => 0x09,
            ItemType::Interval => 0x0A,
            ItemType::DateTimeExtended => 0x0B,
        }
    }

    /// The item type for a wire type byte.
    pub fn from_code(code: u8) -> Option<ItemType> {
        Some(match code {
            0x01 => ItemType::Structure,
            0x02 => ItemType::Integer,
            0x03 => ItemType::LongInteger,
            0x04 => ItemType::BigInteger,
            0x05 => ItemType::Enumeration,
            0x06 => ItemType::Boolean,
            0x07 => ItemType::TextString,
            0x08 => ItemType::ByteString,
            0x09 => ItemType::DateTime,
            0x0A => ItemType::Interval,
            0x0B => ItemType::DateTimeExtended,
            _ => return None,
        })
    }

    /// The name used by the XML and JSON encodings (`TextString`, `DateTimeExtended`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ItemType::Structure => "Structure",
            ItemType::Integer => "Integer",
            ItemType::LongInteger => "LongInteger",
            ItemType::BigInteger => "BigInteger",
            ItemType::Enumeration => "Enumeration",
            ItemType::Boolean => "Boolean",
            ItemType::TextString => "TextString",
            ItemType::ByteString => "ByteString",
            ItemType::DateTime => "DateTime",
            ItemType::Interval => "Interval",
            ItemType::DateTimeExtended => "DateTimeExtended",
        }
    }

    /// Parses an encoding type name. `Identifier`, `Reference` and `NameReference` are accepted as
    /// Text String: the KMIP 3.0 draft test cases use them for identifiers and names.
    pub fn from_name(name: &str) -> Option<ItemType> {
        Some(match name {
            "Structure" => ItemType::Structure,
            "Integer" => ItemType::Integer,
            "LongInteger" => ItemType::LongInteger,
            "BigInteger" => ItemType::BigInteger,
            "Enumeration" => ItemType::Enumeration,
            "Boolean" => ItemType::Boolean,
            "TextString" | "Identifier" | "Reference" | "NameReference" => ItemType::TextString,
            "ByteString" => ItemType::ByteString,
            "DateTime" => ItemType::DateTime,
            "Interval" => ItemType::Interval,
            "DateTimeExtended" => ItemType::DateTimeExtended,
            _ => return None,
        })
    }
}

/// A Big Integer in two's-complement big-endian form, always a multiple of 8 bytes long
/// (sign-extended at the front), exactly as it travels on the wire.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct BigInt(Vec<u8>);

impl BigInt {
    /// Wraps two's-complement big-endian bytes, sign-extending them to a multiple of 8.
    pub fn from_signed_bytes(bytes: &[u8]) -> BigInt {
        if bytes.is_empty() {
            return BigInt(vec![0; 8]);
        }
        let pad = (8 - bytes.len() % 8) % 8;
        let fill = match bytes.first() {
            Some(b) if b & 0x80 != 0 => 0xFF,
            _ => 0x00,
        };
        let mut v = Vec::with_capacity(bytes.len() + pad);
        v.resize(pad, fill);
        v.extend_from_slice(bytes);
        BigInt(v)
    }

    /// The wire bytes (a multiple of 8, two's complement).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigInt({})", hex::encode_upper(&self.0))
    }
}

/// The value of a TTLV item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Structure(Vec<Ttlv>),
    Integer(i32),
    LongInteger(i64),
    BigInteger(BigInt),
    Enumeration(u32),
    Boolean(bool),
    TextString(String),
    ByteString(Vec<u8>),
    /// Seconds since the Unix epoch.
    DateTime(i64),
    /// Seconds.
    Interval(u32),
    /// Microseconds since the Unix epoch (KMIP 2.x).
    DateTimeExtended(i64),
}

impl Value {
    /// The item type of this value.
    pub fn item_type(&self) -> ItemType {
        match self {
            Value::Structure(_) => ItemType::Structure,
            Value::Integer(_) => ItemType::Integer,
            Value::LongInteger(_) => ItemType::LongInteger,
            Value::BigInteger(_) => ItemType::BigInteger,
            Value::Enumeration(_) => ItemType::Enumeration,
            Value::Boolean(_) => ItemType::Boolean,
            Value::TextString(_) => ItemType::TextString,
            Value::ByteString(_) => ItemType::ByteString,
            Value::DateTime(_) => ItemType::DateTime,
            Value::Interval(_) => ItemType::Interval,
            Value::DateTimeExtended(_) => ItemType::DateTimeExtended,
        }
    }
}

/// One TTLV item: a tag and a typed value. A Structure holds its children in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ttlv {
    pub tag: Tag,
    pub value: Value,
}

impl Ttlv {
    pub fn new(tag: Tag, value: Value) -> Ttlv {
        Ttlv { tag, value }
    }

    /// A Structure item with the given children.
    pub fn structure(tag: Tag, children: Vec<Ttlv>) -> Ttlv {
        Ttlv { tag, value: Value::Structure(children) }
    }

    pub fn integer(tag: Tag, v: i32) -> Ttlv {
        Ttlv { tag, value: Value::Integer(v) }
    }

    pub fn long_integer(tag: Tag, v: i64) -> Ttlv {
        Ttlv { tag, value: Value::LongInteger(v) }
    }

    pub fn enumeration(tag: Tag, v: u32) -> Ttlv {
        Ttlv { tag, value: Value::Enumeration(v) }
    }

    pub fn boolean(tag: Tag, v: bool) -> Ttlv {
        Ttlv { tag, value: Value::Boolean(v) }
    }

    pub fn text(tag: Tag, v: impl Into<String>) -> Ttlv {
        Ttlv { tag, value: Value::TextString(v.into()) }
    }

    pub fn bytes(tag: Tag, v: impl Into<Vec<u8>>) -> Ttlv {
        Ttlv { tag, value: Value::ByteString(v.into()) }
    }

    pub fn date_time(tag: Tag, secs: i64) -> Ttlv {
        Ttlv { tag, value: Value::DateTime(secs) }
    }

    pub fn interval(tag: Tag, secs: u32) -> Ttlv {
        Ttlv { tag, value: Value::Interval(secs) }
    }

    /// The item type of this item.
    pub fn item_type(&self) -> ItemType {
        self.value.item_type()
    }

    /// The children of a Structure; empty for any other type.
    pub fn children(&self) -> &[Ttlv] {
        match &self.value {
            Value::Structure(c) => c,
            _ => &[],
        }
    }

    /// The first child with this tag.
    pub fn child(&self, tag: Tag) -> Option<&Ttlv> {
        self.children().iter().find(|c| c.tag == tag)
    }

    /// Every child with this tag, in order.
    pub fn children_with(&self, tag: Tag) -> impl Iterator<Item = &Ttlv> {
        self.children().iter().filter(move |c| c.tag == tag)
    }

    /// Depth of the tree (1 for a primitive item). Iterative, so a hostile tree can't
    /// overflow the stack here.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((item, d)) = stack.pop() {
            max = max.max(d);
            for c in item.children() {
                stack.push((c, d + 1));
            }
        }
        max
    }
}
