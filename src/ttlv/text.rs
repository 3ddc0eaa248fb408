//! Text forms of TTLV values shared by the XML and JSON encodings (KMIP Additional Message
//! Encodings v1.0): enumeration and mask names looked up by tag, date-times in ISO 8601,
//! byte strings in hex.
//!
//! Enumeration names depend on context: most tags carry one enumeration, but a KMIP 1.x
//! `Attribute Value` takes the enumeration (or mask) of the attribute named by its sibling
//! `Attribute Name`. [`NameContext`] carries that.

use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::registry::{self, EnumInfo};
use super::{BigInt, ItemType, Tag};

/// Why a text value can't be turned into a TTLV value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TextError {
    /// A number is malformed or out of range for its type.
    #[error("{item_type:?} value {text:?} is not a valid number")]
    BadNumber { item_type: ItemType, text: String },
    /// An enumeration name is not one of the enumeration's values.
    #[error("{text:?} is not a value of {enumeration}")]
    UnknownName { enumeration: &'static str, text: String },
    /// A name was given for a tag that carries no known enumeration or mask.
    #[error("{text:?} is a name, but {tag} carries no known enumeration or mask")]
    NoEnumeration { tag: Tag, text: String },
    /// A date-time is not ISO 8601 / RFC 3339.
    #[error("{text:?} is not an ISO 8601 date-time")]
    BadDateTime { text: String },
    /// A byte string or big integer is not hexadecimal. The text itself is not repeated:
    /// it may be key material.
    #[error("hex value of {length} characters is malformed at character {position}")]
    BadHex { length: usize, position: usize },
    /// A boolean is neither `true` nor `false`.
    #[error("{text:?} is not a boolean")]
    BadBoolean { text: String },
}

/// Where a value sits, for looking up enumeration and mask names.
#[derive(Debug, Clone, Copy)]
pub struct NameContext<'a> {
    /// The item's own tag.
    pub tag: Tag,
    /// For a 1.x `Attribute Value`, the text of the sibling `Attribute Name`.
    pub attribute_name: Option<&'a str>,
}

impl<'a> NameContext<'a> {
    pub fn new(tag: Tag, attribute_name: Option<&'a str>) -> NameContext<'a> {
        NameContext { tag, attribute_name }
    }

    /// The tag whose enumeration applies: the named attribute's tag for an Attribute Value.
    fn effective_tag(&self) -> Tag {
        if self.tag == Tag::ATTRIBUTE_VALUE {
            if let Some(t) = self.attribute_name.and_then(registry::tag_by_name) {
                return Tag(t.tag);
            }
        }
        self.tag
    }

    fn enumeration(&self) -> Option<&'static EnumInfo> {
        registry::enumeration_for_tag(self.effective_tag())
    }

    fn mask(&self) -> Option<&'static EnumInfo> {
        registry::mask_for_tag(self.effective_tag())
    }
}

fn hex_u32(text: &str) -> Option<u32> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))?;
    u32::from_str_radix(digits, 16).ok()
}

/// Renders an Enumeration: its name when the registry knows it, else `0x0000002A`.
pub fn enumeration_to_text(ctx: NameContext<'_>, value: u32) -> String {
    if ctx.effective_tag() == Tag::ATTRIBUTE_REFERENCE {
        // A 2.x Attribute Reference enumerates tags: its names are tag names.
        if let Some(t) = registry::tag_info(Tag(value)) {
            return t.xml_name.to_owned();
        }
    }
    match ctx.enumeration().and_then(|e| e.name_of(value)) {
        Some(name) => name.to_owned(),
        None => format!("0x{value:08X}"),
    }
}

/// Parses an Enumeration given by name, `0x` hex, or decimal.
pub fn enumeration_from_text(ctx: NameContext<'_>, text: &str) -> Result<u32, TextError> {
    let text = text.trim();
    if let Some(v) = hex_u32(text) {
        return Ok(v);
    }
    if let Ok(v) = text.parse::<u32>() {
        return Ok(v);
    }
    if ctx.effective_tag() == Tag::ATTRIBUTE_REFERENCE {
        return registry::tag_by_xml_name(text)
            .map(|t| t.tag)
            .ok_or_else(|| TextError::UnknownName { enumeration: "Tag", text: text.to_owned() });
    }
    let e = ctx.enumeration().ok_or_else(|| TextError::NoEnumeration { tag: ctx.tag, text: text.to_owned() })?;
    e.value_of(text).ok_or_else(|| TextError::UnknownName { enumeration: e.name, text: text.to_owned() })
}

/// Renders an Integer: mask names joined by `separator` for mask tags whose bits are all
/// known, decimal otherwise.
pub fn integer_to_text(ctx: NameContext<'_>, value: i32, separator: &str) -> String {
    if let Some(mask) = ctx.mask() {
        if value != 0 {
            let bits = value as u32;
            let set: Vec<_> = mask.values.iter().filter(|v| bits & v.value == v.value).collect();
            if set.iter().fold(0u32, |acc, v| acc | v.value) == bits {
                return set.iter().map(|v| v.xml_name).collect::<Vec<_>>().join(separator);
            }
        }
    }
    value.to_string()
}

/// Parses an Integer given in decimal, `0x` hex (32-bit pattern), or as mask names separated
/// by spaces or `|` (names and hex may be mixed).
pub fn integer_from_text(ctx: NameContext<'_>, text: &str) -> Result<i32, TextError> {
    let text = text.trim();
    let bad = || TextError::BadNumber { item_type: ItemType::Integer, text: text.to_owned() };
    if let Ok(v) = text.parse::<i32>() {
        return Ok(v);
    }
    if let Some(v) = hex_u32(text) {
        return Ok(v as i32);
    }
    let mask = ctx.mask().ok_or_else(|| match text.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => TextError::NoEnumeration { tag: ctx.tag, text: text.to_owned() },
        _ => bad(),
    })?;
    let mut bits = 0u32;
    for part in text.split(|c: char| c == '|' || c.is_whitespace()).filter(|p| !p.is_empty()) {
        bits |= match hex_u32(part) {
            Some(v) => v,
            None => mask
                .value_of(part)
                .ok_or_else(|| TextError::UnknownName { enumeration: mask.name, text: part.to_owned() })?,
        };
    }
    Ok(bits as i32)
}

/// Parses a Long Integer in decimal or `0x` hex (64-bit pattern).
pub fn long_integer_from_text(text: &str) -> Result<i64, TextError> {
    let text = text.trim();
    let bad = || TextError::BadNumber { item_type: ItemType::LongInteger, text: text.to_owned() };
    if let Ok(v) = text.parse::<i64>() {
        return Ok(v);
    }
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).ok_or_else(bad)?;
    u64::from_str_radix(digits, 16).map(|v| v as i64).map_err(|_| bad())
}

/// Parses an Interval (unsigned seconds) in decimal or `0x` hex.
pub fn interval_from_text(text: &str) -> Result<u32, TextError> {
    let text = text.trim();
    text.parse::<u32>()
        .ok()
        .or_else(|| hex_u32(text))
        .ok_or_else(|| TextError::BadNumber { item_type: ItemType::Interval, text: text.to_owned() })
}

/// Parses `true` / `false` (also `1` / `0`).
pub fn boolean_from_text(text: &str) -> Result<bool, TextError> {
    match text.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(TextError::BadBoolean { text: other.to_owned() }),
    }
}

/// Parses hex (an optional `0x` prefix, no separators) into bytes.
pub fn bytes_from_hex(text: &str) -> Result<Vec<u8>, TextError> {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    hex::decode(t).map_err(|_| {
        let position = t.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()).map_or(t.len(), |(i, _)| i);
        TextError::BadHex { length: t.len(), position }
    })
}

/// Parses a Big Integer given as two's-complement hex.
pub fn big_integer_from_text(text: &str) -> Result<BigInt, TextError> {
    Ok(BigInt::from_signed_bytes(&bytes_from_hex(text)?))
}

/// Renders bytes as lower-case hex, as most OASIS files do.
pub fn bytes_to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Renders a Date-Time (seconds since the epoch) as `2013-06-26T09:09:17+00:00`.
pub fn date_time_to_text(secs: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => t.format(&Rfc3339).map(|s| s.replace('Z', "+00:00")).unwrap_or_else(|_| format!("0x{secs:016X}")),
        Err(_) => format!("0x{:016X}", secs as u64),
    }
}

/// Parses an ISO 8601 / RFC 3339 date-time (or a `0x` hex second count) into seconds.
/// Fractions of a second are rejected: a Date-Time has none.
pub fn date_time_from_text(text: &str) -> Result<i64, TextError> {
    let t = text.trim();
    if t.starts_with("0x") {
        return long_integer_from_text(t).map_err(|_| TextError::BadDateTime { text: text.to_owned() });
    }
    let parsed = OffsetDateTime::parse(t, &Rfc3339).map_err(|_| TextError::BadDateTime { text: text.to_owned() })?;
    if parsed.nanosecond() != 0 {
        return Err(TextError::BadDateTime { text: text.to_owned() });
    }
    Ok(parsed.unix_timestamp())
}

/// Renders a Date-Time Extended (microseconds since the epoch) as RFC 3339 with microseconds.
pub fn date_time_extended_to_text(micros: i64) -> String {
    let nanos = i128::from(micros) * 1000;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => {
            let base = t.replace_nanosecond(0).ok().and_then(|b| b.format(&Rfc3339).ok());
            match base {
                Some(b) => format!("{}.{:06}+00:00", b.trim_end_matches('Z'), micros.rem_euclid(1_000_000)),
                None => format!("0x{:016X}", micros as u64),
            }
        }
        Err(_) => format!("0x{:016X}", micros as u64),
    }
}

/// Parses an RFC 3339 date-time with up to microsecond precision into microseconds.
pub fn date_time_extended_from_text(text: &str) -> Result<i64, TextError> {
    let t = text.trim();
    if t.starts_with("0x") {
        return long_integer_from_text(t).map_err(|_| TextError::BadDateTime { text: text.to_owned() });
    }
    let parsed = OffsetDateTime::parse(t, &Rfc3339).map_err(|_| TextError::BadDateTime { text: text.to_owned() })?;
    if parsed.nanosecond() % 1000 != 0 {
        return Err(TextError::BadDateTime { text: text.to_owned() });
    }
    i64::try_from(parsed.unix_timestamp_nanos() / 1000).map_err(|_| TextError::BadDateTime { text: text.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_value_takes_the_named_attributes_enumeration() {
        let ctx = NameContext::new(Tag::ATTRIBUTE_VALUE, Some("Object Type"));
        let v = enumeration_from_text(ctx, "SymmetricKey").unwrap();
        assert_eq!(enumeration_to_text(ctx, v), "SymmetricKey");
        let mask = NameContext::new(Tag::ATTRIBUTE_VALUE, Some("Cryptographic Usage Mask"));
        let bits = integer_from_text(mask, "Decrypt   Encrypt").unwrap();
        assert_eq!(bits, 0x0C);
        assert_eq!(integer_to_text(mask, bits, " "), "Encrypt Decrypt");
    }

    #[test]
    fn date_times() {
        assert_eq!(date_time_from_text("2013-06-26T09:09:17+00:00").unwrap(), 0x51caafbd);
        assert_eq!(date_time_to_text(0x51caafbd), "2013-06-26T09:09:17+00:00");
        let us = date_time_extended_from_text("2013-06-26T09:09:17.000123+00:00").unwrap();
        assert_eq!(date_time_extended_to_text(us), "2013-06-26T09:09:17.000123+00:00");
    }

    #[test]
    fn unknown_names_are_errors() {
        let ctx = NameContext::new(Tag::OBJECT_TYPE, None);
        assert!(matches!(enumeration_from_text(ctx, "Bogus"), Err(TextError::UnknownName { .. })));
        assert_eq!(enumeration_to_text(ctx, 0x8000_0001), "0x80000001");
    }
}
