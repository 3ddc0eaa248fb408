//! JSON rendering of TTLV (KMIP Additional Message Encodings v1.0 §4.1), read and write.
//!
//! Each item is an object `{"tag": ..., "type": ..., "value": ...}`:
//! - `tag`: the CamelCase tag name, or `"0x42XXXX"` for tags the registry doesn't know;
//! - `type`: the item type name, omitted for a Structure;
//! - `value`: an array of items for a Structure; otherwise as below.
//!
//! Written the way the OASIS test cases print it: Integer, Interval and Long Integer as
//! fixed-width `0x` hex strings (JSON numbers lose precision past 2^53), masks as names joined
//! by `|`, Enumerations by name, Big Integers as `0x` hex, Byte Strings as bare hex, Date-Times
//! in ISO 8601, Booleans as `true`/`false`. Read leniently, as the profile allows: numbers or
//! hex strings for the numeric types, names or hex for Enumerations and masks, and the
//! optional `name` property of extension tags. Anything else is an error, never ignored.
//!
//! A KMIP 1.x `Attribute Value` takes its enumeration or mask names from the attribute named
//! by its sibling `Attribute Name` (see [`text::NameContext`]).

use std::fmt;

use serde_json::{Map, Value as Json};
use thiserror::Error;

use super::text::{self, NameContext, TextError};
use super::{registry, BigInt, DecodeLimits, ItemType, Tag, Ttlv, Value};

/// Why a JSON document is not a valid TTLV item. `path` locates the offending item, e.g.
/// `$.value[1].value[0]` (the second child's first child).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    /// The text is not JSON at all.
    #[error("line {line}, column {column}: invalid JSON: {message}")]
    Syntax { line: usize, column: usize, message: String },
    /// The document is larger than the caller allows.
    #[error("JSON document of {length} bytes exceeds the limit of {limit}")]
    TooLarge { length: usize, limit: usize },
    /// Items nest deeper than the limit.
    #[error("at {path}: items nested deeper than {limit} levels")]
    TooDeep { path: String, limit: usize },
    /// An item is not a JSON object.
    #[error("at {path}: an item must be a JSON object")]
    NotAnObject { path: String },
    /// A required property (`tag`, or `value` of a primitive) is absent.
    #[error("at {path}: missing property {property:?}")]
    MissingProperty { path: String, property: &'static str },
    /// A property other than `tag`, `name`, `type` and `value`.
    #[error("at {path}: unknown property {property:?}")]
    UnknownProperty { path: String, property: String },
    /// `tag` is neither a known tag name nor a three-byte `0x` hex value.
    #[error("at {path}: unknown tag {tag:?}")]
    UnknownTag { path: String, tag: String },
    /// `type` is not one of the item type names.
    #[error("at {path}: unknown type {name:?}")]
    UnknownType { path: String, name: String },
    /// The JSON kind of `value` (or of `tag`/`type`) doesn't fit: a Structure's value must be
    /// an array, a Text String's a string, and so on.
    #[error("at {path}: {found} is not a valid {expected}")]
    WrongKind { path: String, expected: &'static str, found: String },
    /// A number is out of range for the item type.
    #[error("at {path}: {value} is out of range for {item_type:?}")]
    OutOfRange { path: String, item_type: ItemType, value: String },
    /// A string value is malformed for its type (bad hex, unknown enumeration name, bad date).
    #[error("at {path}: {source}")]
    Text {
        path: String,
        #[source]
        source: TextError,
    },
}

/// The JSON form of an item tree.
pub fn to_json(item: &Ttlv) -> Json {
    item_to_json(item, None)
}

/// The JSON form of an item tree as pretty-printed text.
pub fn to_json_string(item: &Ttlv) -> String {
    // Serializing a `serde_json::Value` to a String has no failure mode (no I/O, string keys).
    serde_json::to_string_pretty(&to_json(item)).unwrap_or_default()
}

/// Reads an item tree from its JSON form, with the default [`DecodeLimits`].
pub fn from_json(v: &Json) -> Result<Ttlv, JsonError> {
    from_json_with_limits(v, &DecodeLimits::default())
}

/// Reads an item tree from JSON text, with the default [`DecodeLimits`].
pub fn from_json_str(s: &str) -> Result<Ttlv, JsonError> {
    from_json_str_with_limits(s, &DecodeLimits::default())
}

/// Reads an item tree from its JSON form; items nested deeper than `limits.max_depth` are
/// rejected (the outermost item is depth 1), as in the binary decoder.
pub fn from_json_with_limits(v: &Json, limits: &DecodeLimits) -> Result<Ttlv, JsonError> {
    item_from_json(v, &Path::Root, None, 1, limits.max_depth)
}

/// Reads an item tree from JSON text no longer than `limits.max_bytes`. The TTLV encoding of
/// an item is never longer than its JSON, so the result fits the same limit on the wire.
///
/// The JSON parser also stops at 128 levels of arrays and objects, two per Structure: in text
/// form a Structure can nest at most 63 deep (a primitive item 64), whatever `limits` says.
pub fn from_json_str_with_limits(s: &str, limits: &DecodeLimits) -> Result<Ttlv, JsonError> {
    if s.len() > limits.max_bytes {
        return Err(JsonError::TooLarge { length: s.len(), limit: limits.max_bytes });
    }
    // serde_json refuses nesting beyond 128 levels, so parsing can't exhaust the stack.
    let v: Json = serde_json::from_str(s).map_err(|e| JsonError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    from_json_with_limits(&v, limits)
}

/// Where an item sits in the document, built on the stack while reading and rendered only
/// for an error message.
enum Path<'a> {
    Root,
    Child(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => write!(f, "$"),
            Path::Child(parent, i) => write!(f, "{parent}.value[{i}]"),
        }
    }
}

/// The text of the `Attribute Name` among a Structure's children (KMIP 1.x `Attribute`).
fn attribute_name(children: &[Ttlv]) -> Option<&str> {
    children.iter().find(|c| c.tag == Tag::ATTRIBUTE_NAME).and_then(|c| match &c.value {
        Value::TextString(s) => Some(s.as_str()),
        _ => None,
    })
}

fn tag_to_json(tag: Tag) -> String {
    match tag.xml_name() {
        Some(name) => name.to_owned(),
        None => format!("0x{:06X}", tag.0),
    }
}

fn item_to_json(item: &Ttlv, attribute: Option<&str>) -> Json {
    let ctx = NameContext::new(item.tag, attribute);
    let mut obj = Map::new();
    obj.insert("tag".into(), Json::String(tag_to_json(item.tag)));
    if item.item_type() != ItemType::Structure {
        obj.insert("type".into(), Json::String(item.item_type().name().into()));
    }
    let value = match &item.value {
        Value::Structure(children) => {
            let attribute = attribute_name(children);
            Json::Array(children.iter().map(|c| item_to_json(c, attribute)).collect())
        }
        Value::Integer(v) => {
            let named = text::integer_to_text(ctx, *v, "|");
            // Mask bits come back as names; anything numeric is written as fixed-width hex.
            if named.starts_with(|c: char| c.is_ascii_alphabetic()) {
                Json::String(named)
            } else {
                Json::String(format!("0x{:08X}", *v as u32))
            }
        }
        Value::LongInteger(v) => Json::String(format!("0x{:016X}", *v as u64)),
        Value::BigInteger(b) => Json::String(format!("0x{}", hex::encode_upper(b.as_bytes()))),
        Value::Enumeration(v) => Json::String(text::enumeration_to_text(ctx, *v)),
        Value::Boolean(v) => Json::Bool(*v),
        Value::TextString(s) => Json::String(s.clone()),
        Value::ByteString(b) => Json::String(text::bytes_to_hex(b)),
        Value::DateTime(v) => Json::String(text::date_time_to_text(*v)),
        Value::Interval(v) => Json::String(format!("0x{v:08X}")),
        Value::DateTimeExtended(v) => Json::String(text::date_time_extended_to_text(*v)),
    };
    obj.insert("value".into(), value);
    Json::Object(obj)
}

fn kind(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => format!("{s:?}"),
        Json::Array(_) => "an array".into(),
        Json::Object(_) => "an object".into(),
    }
}

/// A tag from its JSON text: a registry name or exactly three bytes of `0x` hex (§4.1.1).
fn tag_from_str(s: &str) -> Option<Tag> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(digits) if digits.len() == 6 => u32::from_str_radix(digits, 16).ok().map(Tag),
        Some(_) => None,
        None => registry::tag_by_xml_name(s).map(|t| Tag(t.tag)),
    }
}

fn parse_tag(obj: &Map<String, Json>, path: &Path<'_>) -> Result<Tag, JsonError> {
    let raw = obj.get("tag").ok_or_else(|| JsonError::MissingProperty { path: path.to_string(), property: "tag" })?;
    let Json::String(s) = raw else {
        return Err(JsonError::WrongKind { path: path.to_string(), expected: "tag", found: kind(raw) });
    };
    tag_from_str(s).ok_or_else(|| JsonError::UnknownTag { path: path.to_string(), tag: s.clone() })
}

fn parse_type(obj: &Map<String, Json>, path: &Path<'_>) -> Result<ItemType, JsonError> {
    match obj.get("type") {
        None => Ok(ItemType::Structure),
        Some(Json::String(name)) => ItemType::from_name(name)
            .ok_or_else(|| JsonError::UnknownType { path: path.to_string(), name: name.clone() }),
        Some(other) => Err(JsonError::WrongKind { path: path.to_string(), expected: "type", found: kind(other) }),
    }
}

/// The `Attribute Name` text among the JSON children of a Structure, read before the
/// children themselves so that an `Attribute Value` can be named whatever the order.
fn attribute_name_in(children: &[Json]) -> Option<&str> {
    children.iter().find_map(|c| {
        let obj = c.as_object()?;
        if tag_from_str(obj.get("tag")?.as_str()?) == Some(Tag::ATTRIBUTE_NAME) {
            obj.get("value")?.as_str()
        } else {
            None
        }
    })
}

fn item_from_json(
    v: &Json,
    path: &Path<'_>,
    attribute: Option<&str>,
    depth: usize,
    max_depth: usize,
) -> Result<Ttlv, JsonError> {
    if depth > max_depth {
        return Err(JsonError::TooDeep { path: path.to_string(), limit: max_depth });
    }
    let obj = v.as_object().ok_or_else(|| JsonError::NotAnObject { path: path.to_string() })?;
    if let Some(extra) = obj.keys().find(|k| !matches!(k.as_str(), "tag" | "name" | "type" | "value")) {
        return Err(JsonError::UnknownProperty { path: path.to_string(), property: extra.clone() });
    }
    let tag = parse_tag(obj, path)?;
    let item_type = parse_type(obj, path)?;
    if let Some(name) = obj.get("name") {
        if !name.is_string() {
            return Err(JsonError::WrongKind { path: path.to_string(), expected: "name", found: kind(name) });
        }
    }
    let raw = obj.get("value");
    if item_type == ItemType::Structure {
        let children = match raw {
            None | Some(Json::Null) => &[][..],
            Some(Json::Array(a)) => a.as_slice(),
            Some(other) => {
                return Err(JsonError::WrongKind {
                    path: path.to_string(),
                    expected: "Structure value (an array)",
                    found: kind(other),
                })
            }
        };
        let attribute = attribute_name_in(children);
        let mut items = Vec::with_capacity(children.len());
        for (i, c) in children.iter().enumerate() {
            items.push(item_from_json(c, &Path::Child(path, i), attribute, depth + 1, max_depth)?);
        }
        return Ok(Ttlv::structure(tag, items));
    }
    let raw = raw.ok_or_else(|| JsonError::MissingProperty { path: path.to_string(), property: "value" })?;
    let value = primitive_from_json(raw, item_type, NameContext::new(tag, attribute), path)?;
    Ok(Ttlv::new(tag, value))
}

fn primitive_from_json(
    raw: &Json,
    item_type: ItemType,
    ctx: NameContext<'_>,
    path: &Path<'_>,
) -> Result<Value, JsonError> {
    let text_err = |source: TextError| JsonError::Text { path: path.to_string(), source };
    let out_of_range = || JsonError::OutOfRange { path: path.to_string(), item_type, value: kind(raw) };
    let wrong_kind =
        |expected: &'static str| JsonError::WrongKind { path: path.to_string(), expected, found: kind(raw) };
    Ok(match (item_type, raw) {
        (ItemType::Integer, Json::Number(n)) => {
            Value::Integer(n.as_i64().and_then(|v| i32::try_from(v).ok()).ok_or_else(out_of_range)?)
        }
        (ItemType::Integer, Json::String(s)) => Value::Integer(text::integer_from_text(ctx, s).map_err(text_err)?),
        (ItemType::LongInteger, Json::Number(n)) => Value::LongInteger(n.as_i64().ok_or_else(out_of_range)?),
        (ItemType::LongInteger, Json::String(s)) => {
            Value::LongInteger(text::long_integer_from_text(s).map_err(text_err)?)
        }
        (ItemType::BigInteger, Json::Number(n)) => {
            let bytes = match (n.as_i64(), n.as_u64()) {
                (Some(v), _) => v.to_be_bytes().to_vec(),
                (None, Some(v)) => [&[0u8][..], &v.to_be_bytes()].concat(),
                _ => return Err(out_of_range()),
            };
            Value::BigInteger(BigInt::from_signed_bytes(&bytes))
        }
        (ItemType::BigInteger, Json::String(s)) => Value::BigInteger(text::big_integer_from_text(s).map_err(text_err)?),
        (ItemType::Enumeration, Json::Number(n)) => {
            Value::Enumeration(n.as_u64().and_then(|v| u32::try_from(v).ok()).ok_or_else(out_of_range)?)
        }
        (ItemType::Enumeration, Json::String(s)) => {
            Value::Enumeration(text::enumeration_from_text(ctx, s).map_err(text_err)?)
        }
        (ItemType::Boolean, Json::Bool(b)) => Value::Boolean(*b),
        // §4.1.6.8 also allows the 64-bit hex form.
        (ItemType::Boolean, Json::String(s)) if s.starts_with("0x") => {
            match text::long_integer_from_text(s).map_err(text_err)? {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                _ => return Err(out_of_range()),
            }
        }
        (ItemType::Boolean, _) => return Err(wrong_kind("Boolean (true, false or 0x hex)")),
        (ItemType::TextString, Json::String(s)) => Value::TextString(s.clone()),
        (ItemType::TextString, _) => return Err(wrong_kind("Text String (a string)")),
        (ItemType::ByteString, Json::String(s)) => Value::ByteString(text::bytes_from_hex(s).map_err(text_err)?),
        (ItemType::ByteString, _) => return Err(wrong_kind("Byte String (a hex string)")),
        (ItemType::DateTime, Json::String(s)) => Value::DateTime(date_time_from_json(s).map_err(text_err)?),
        (ItemType::DateTime, _) => return Err(wrong_kind("Date-Time (an ISO 8601 or hex string)")),
        (ItemType::Interval, Json::Number(n)) => {
            Value::Interval(n.as_u64().and_then(|v| u32::try_from(v).ok()).ok_or_else(out_of_range)?)
        }
        (ItemType::Interval, Json::String(s)) => Value::Interval(text::interval_from_text(s).map_err(text_err)?),
        (ItemType::DateTimeExtended, Json::String(s)) => {
            Value::DateTimeExtended(text::date_time_extended_from_text(s).map_err(text_err)?)
        }
        (ItemType::DateTimeExtended, _) => return Err(wrong_kind("Date Time Extended (an ISO 8601 or hex string)")),
        (ItemType::Integer | ItemType::LongInteger | ItemType::BigInteger | ItemType::Interval, _) => {
            return Err(wrong_kind("number (a JSON number or hex string)"))
        }
        (ItemType::Enumeration, _) => return Err(wrong_kind("Enumeration (a name, number or hex string)")),
        // Handled by the caller; listed so that the match stays exhaustive.
        (ItemType::Structure, _) => return Err(wrong_kind("Structure value (an array)")),
    })
}

/// A Date-Time; §4.1.6.11 says fractional seconds, if present, are ignored (truncated).
fn date_time_from_json(s: &str) -> Result<i64, TextError> {
    text::date_time_from_text(s)
        .or_else(|e| text::date_time_extended_from_text(s).map(|us| us.div_euclid(1_000_000)).map_err(|_| e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_tag_with_name_and_numbers() {
        let item =
            from_json_str(r#"{"tag": "0x54FFFF", "name": "SomeExtension", "type": "Integer", "value": "0x00000001"}"#)
                .unwrap();
        assert_eq!(item, Ttlv::integer(Tag(0x54FFFF), 1));
        assert_eq!(to_json(&item)["tag"], "0x54FFFF");
    }

    #[test]
    fn masks_by_name_and_hex() {
        for s in ["0x0000100c", "Encrypt|Decrypt|CertificateSign", "CertificateSign|0x00000004|0x0000008"] {
            let json = format!(r#"{{"tag": "CryptographicUsageMask", "type": "Integer", "value": "{s}"}}"#);
            assert_eq!(from_json_str(&json).unwrap(), Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, 0x100C), "{s}");
        }
        let out = to_json(&Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, 0x100C));
        assert_eq!(out["value"], "Encrypt|Decrypt|CertificateSign");
    }

    #[test]
    fn errors_name_the_path() {
        let err = from_json_str(r#"{"tag": "RequestMessage", "value": [{"tag": "BatchCount", "type": "Integer"}]}"#)
            .unwrap_err();
        assert_eq!(err.to_string(), r#"at $.value[0]: missing property "value""#);
    }
}
