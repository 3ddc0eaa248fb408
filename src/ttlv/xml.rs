//! XML rendering of TTLV (KMIP Additional Message Encodings v1.0 §6), as used by the OASIS
//! test cases: element name = tag name in CamelCase, `type` attribute = item type (absent for a
//! Structure), `value` attribute = the value in text form (see [`super::text`]). Tags without
//! a name use the general form `<TTLV tag="0x54FFFF" type="…" value="…"/>`.
//!
//! Test-case files wrap their messages in a `<KMIP>` root and write run-specific values as
//! `$TOKEN`s; [`parse_test_case`] resolves those through [`Placeholders`].

use std::collections::HashMap;
use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use thiserror::Error;

use super::text::{self, NameContext, TextError};
use super::{registry, ItemType, Tag, Ttlv, Value};

/// Deepest element nesting accepted, like the binary decoder's default.
pub const MAX_DEPTH: usize = 64;

/// Why an XML document can't be read as TTLV. `offset` is the byte offset in the input and
/// `line` its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XmlError {
    /// The document is not well-formed XML.
    #[error("line {line}: malformed XML: {message}")]
    Syntax { line: usize, offset: usize, message: String },
    /// An element name is not a known tag name.
    #[error("line {line}: unknown tag name <{name}>")]
    UnknownTag { line: usize, offset: usize, name: String },
    /// The `type` attribute is not an item type.
    #[error("line {line}: unknown item type {name:?} on <{element}>")]
    UnknownType { line: usize, offset: usize, element: String, name: String },
    /// A primitive element has no `value` attribute.
    #[error("line {line}: <{element}> of type {item_type:?} has no value")]
    MissingValue { line: usize, offset: usize, element: String, item_type: ItemType },
    /// A `value` can't be read as the element's item type.
    #[error("line {line}: <{element}>: {source}")]
    BadValue { line: usize, offset: usize, element: String, source: TextError },
    /// A `$TOKEN` value has no binding and no stand-in for its item type.
    #[error("line {line}: <{element}>: unresolved placeholder {token} for a {item_type:?}")]
    Unresolved { line: usize, offset: usize, element: String, token: String, item_type: ItemType },
    /// A `tag` attribute of the general form is not a 3-byte hex number.
    #[error("line {line}: bad tag attribute {text:?}")]
    BadTag { line: usize, offset: usize, text: String },
    /// A primitive element has child elements.
    #[error("line {line}: <{element}> of type {item_type:?} cannot contain elements")]
    ChildInPrimitive { line: usize, offset: usize, element: String, item_type: ItemType },
    /// Elements nest deeper than [`MAX_DEPTH`].
    #[error("line {line}: elements nested deeper than {limit} levels")]
    TooDeep { line: usize, offset: usize, limit: usize },
    /// The document has no element.
    #[error("no element found")]
    Empty,
}

/// Values for the `$TOKEN`s of the OASIS test cases (INDEX.md §3.2).
///
/// A token bound in [`Placeholders::bindings`] takes its bound value. Unbound tokens get a
/// deterministic stand-in: `$NOW`, `$NOW+N`, `$NOW-N` → [`Placeholders::now`] ± N for
/// date-times; any other token in a Byte String → the token's own ASCII bytes; in a Text
/// String the token text stays as it is.
#[derive(Debug, Clone)]
pub struct Placeholders {
    /// The time `$NOW` stands for, in seconds since the epoch.
    pub now: i64,
    /// Values already bound (by a replay harness, from earlier responses).
    pub bindings: HashMap<String, Value>,
}

impl Default for Placeholders {
    /// `now` is fixed (2020-01-01T00:00:00Z) so that parsing is reproducible.
    fn default() -> Self {
        Placeholders { now: 1_577_836_800, bindings: HashMap::new() }
    }
}

impl Placeholders {
    /// The value a token stands for in an item of `item_type`, if any.
    pub fn resolve(&self, token: &str, item_type: ItemType) -> Option<Value> {
        if let Some(v) = self.bindings.get(token) {
            return (v.item_type() == item_type).then(|| v.clone());
        }
        match item_type {
            ItemType::DateTime => self.now_offset(token).map(Value::DateTime),
            ItemType::DateTimeExtended => self.now_offset(token).map(|s| Value::DateTimeExtended(s * 1_000_000)),
            ItemType::ByteString => Some(Value::ByteString(token.as_bytes().to_vec())),
            ItemType::TextString => Some(Value::TextString(token.to_owned())),
            _ => None,
        }
    }

    fn now_offset(&self, token: &str) -> Option<i64> {
        let rest = token.strip_prefix("$NOW")?;
        if rest.is_empty() {
            return Some(self.now);
        }
        let (sign, digits) = match rest.split_at_checked(1)? {
            ("+", d) => (1, d),
            ("-", d) => (-1, d),
            _ => return None,
        };
        digits.parse::<i64>().ok().map(|n| self.now + sign * n)
    }
}

/// Reads a single element (e.g. one `<RequestMessage>`); `$TOKEN`s get the default stand-ins.
pub fn from_xml(text: &str) -> Result<Ttlv, XmlError> {
    let mut items = read(text, &Placeholders::default(), false)?;
    match items.len() {
        0 => Err(XmlError::Empty),
        1 => items.pop().ok_or(XmlError::Empty),
        _ => Err(XmlError::Syntax { line: 1, offset: 0, message: "more than one top-level element".into() }),
    }
}

/// Reads the messages of an OASIS test-case file, in order: the element children of the
/// `<KMIP>` root (or the top-level elements when there is no `<KMIP>` wrapper). Comments and
/// text between elements are ignored, and so is anything after `</KMIP>` (one published file
/// closes it twice).
pub fn parse_test_case(text: &str, placeholders: &Placeholders) -> Result<Vec<Ttlv>, XmlError> {
    read(text, placeholders, true)
}

/// The source text of each message of a test-case file (the element children of `<KMIP>`),
/// so that a replay can parse every request only when the values it refers to are bound.
pub fn message_sources(text: &str) -> Result<Vec<&str>, XmlError> {
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut start = 0usize;
    let mut in_root = false;
    let mut out = Vec::new();
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| XmlError::Syntax {
            line: line_of(text, before),
            offset: before,
            message: e.to_string(),
        })?;
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let element_start = text.get(..after).and_then(|t| t.rfind('<')).unwrap_or(before);
        match event {
            Event::Start(e) if depth == 0 && !in_root && e.name().as_ref() == b"KMIP" => in_root = true,
            Event::Start(_) => {
                if depth == 0 {
                    start = element_start;
                }
                depth += 1;
            }
            Event::Empty(_) if depth == 0 => out.push(text.get(element_start..after).unwrap_or_default()),
            Event::End(_) if depth == 0 => break,
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    out.push(text.get(start..after).unwrap_or_default());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// A Structure being read.
struct Open {
    tag: Tag,
    name: String,
    children: Vec<Ttlv>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().get(..offset).map_or(1, |b| b.iter().filter(|c| **c == b'\n').count() + 1)
}

/// Reads every top-level element. With `kmip_root`, a `<KMIP>` element is transparent: its
/// children are the top-level items and reading stops at its end.
fn read(text: &str, placeholders: &Placeholders, kmip_root: bool) -> Result<Vec<Ttlv>, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Open> = Vec::new();
    let mut top: Vec<Ttlv> = Vec::new();
    let mut in_root = false;
    loop {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let syntax = |message: String| XmlError::Syntax { line: line_of(text, offset), offset, message };
        let event = reader.read_event().map_err(|e| syntax(e.to_string()))?;
        // Errors about an element point at its `<`, not at the end of the previous event.
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let offset = text.get(..after).and_then(|t| t.rfind('<')).unwrap_or(offset);
        match event {
            Event::Start(e) if kmip_root && !in_root && stack.is_empty() && e.name().as_ref() == b"KMIP" => {
                in_root = true;
            }
            Event::Empty(e) if kmip_root && !in_root && stack.is_empty() && e.name().as_ref() == b"KMIP" => break,
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep { line: line_of(text, offset), offset, limit: MAX_DEPTH });
                }
                let (tag, name, item) = element(&e, text, offset, placeholders, last_attribute_name(&stack))?;
                match item {
                    None => stack.push(Open { tag, name, children: Vec::new() }),
                    Some(item) => {
                        // A primitive written as <X type=".." value=".."></X> must be empty.
                        match reader.read_event().map_err(|e| syntax(e.to_string()))? {
                            Event::End(_) => push(&mut stack, &mut top, item),
                            _ => {
                                return Err(XmlError::ChildInPrimitive {
                                    line: line_of(text, offset),
                                    offset,
                                    element: name,
                                    item_type: item.item_type(),
                                })
                            }
                        }
                    }
                }
            }
            Event::Empty(e) => {
                let (tag, _, item) = element(&e, text, offset, placeholders, last_attribute_name(&stack))?;
                push(&mut stack, &mut top, item.unwrap_or_else(|| Ttlv::structure(tag, Vec::new())));
            }
            Event::End(_) => match stack.pop() {
                Some(open) => push(&mut stack, &mut top, Ttlv::structure(open.tag, open.children)),
                None => break,
            },
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(syntax(format!("<{}> is never closed", open.name)));
                }
                break;
            }
            _ => {}
        }
    }
    if top.is_empty() && !kmip_root {
        return Err(XmlError::Empty);
    }
    Ok(top)
}

/// Adds a finished item to the open Structure, or to the top level.
fn push(stack: &mut [Open], top: &mut Vec<Ttlv>, item: Ttlv) {
    match stack.last_mut() {
        Some(open) => open.children.push(item),
        None => top.push(item),
    }
}

/// The text of the last `Attribute Name` among the open Structure's children so far.
fn last_attribute_name(stack: &[Open]) -> Option<&str> {
    let open = stack.last()?;
    open.children.iter().rev().find(|c| c.tag == Tag::ATTRIBUTE_NAME).and_then(|c| match &c.value {
        Value::TextString(s) => Some(s.as_str()),
        _ => None,
    })
}

/// Reads one element's tag, type and value. Returns `None` as the item for a Structure whose
/// children follow.
fn element(
    e: &BytesStart<'_>,
    text: &str,
    offset: usize,
    placeholders: &Placeholders,
    attribute_name: Option<&str>,
) -> Result<(Tag, String, Option<Ttlv>), XmlError> {
    let line = line_of(text, offset);
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut type_attr = None;
    let mut value_attr = None;
    let mut tag_attr = None;
    for attr in e.attributes() {
        let attr = attr.map_err(|err| XmlError::Syntax { line, offset, message: err.to_string() })?;
        let v = attr
            .unescape_value()
            .map_err(|err| XmlError::Syntax { line, offset, message: err.to_string() })?
            .into_owned();
        match attr.key.as_ref() {
            b"type" => type_attr = Some(v),
            b"value" => value_attr = Some(v),
            b"tag" => tag_attr = Some(v),
            _ => {}
        }
    }
    let tag = if name == "TTLV" {
        let t = tag_attr.unwrap_or_default();
        let parsed = t
            .strip_prefix("0x")
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .filter(|v| *v <= Tag::MAX);
        Tag(parsed.ok_or(XmlError::BadTag { line, offset, text: t })?)
    } else {
        Tag(registry::tag_by_xml_name(&name).ok_or_else(|| XmlError::UnknownTag { line, offset, name: name.clone() })?.tag)
    };
    let item_type = match &type_attr {
        None => ItemType::Structure,
        Some(t) => ItemType::from_name(t).ok_or_else(|| XmlError::UnknownType {
            line,
            offset,
            element: name.clone(),
            name: t.clone(),
        })?,
    };
    if item_type == ItemType::Structure {
        return Ok((tag, name, None));
    }
    let raw = value_attr.ok_or_else(|| XmlError::MissingValue { line, offset, element: name.clone(), item_type })?;
    let value = if raw.starts_with('$') {
        placeholders.resolve(&raw, item_type).ok_or_else(|| XmlError::Unresolved {
            line,
            offset,
            element: name.clone(),
            token: raw.clone(),
            item_type,
        })?
    } else {
        value_from_text(NameContext::new(tag, attribute_name), item_type, &raw)
            .map_err(|source| XmlError::BadValue { line, offset, element: name.clone(), source })?
    };
    Ok((tag, name, Some(Ttlv::new(tag, value))))
}

/// Parses a primitive value from its text form.
fn value_from_text(ctx: NameContext<'_>, item_type: ItemType, raw: &str) -> Result<Value, TextError> {
    Ok(match item_type {
        ItemType::Structure => Value::Structure(Vec::new()),
        ItemType::Integer => Value::Integer(text::integer_from_text(ctx, raw)?),
        ItemType::LongInteger => Value::LongInteger(text::long_integer_from_text(raw)?),
        ItemType::BigInteger => Value::BigInteger(text::big_integer_from_text(raw)?),
        ItemType::Enumeration => Value::Enumeration(text::enumeration_from_text(ctx, raw)?),
        ItemType::Boolean => Value::Boolean(text::boolean_from_text(raw)?),
        ItemType::TextString => Value::TextString(raw.to_owned()),
        ItemType::ByteString => Value::ByteString(text::bytes_from_hex(raw)?),
        ItemType::DateTime => Value::DateTime(text::date_time_from_text(raw)?),
        ItemType::Interval => Value::Interval(text::interval_from_text(raw)?),
        ItemType::DateTimeExtended => Value::DateTimeExtended(text::date_time_extended_from_text(raw)?),
    })
}

/// Renders an item tree as indented XML (two spaces a level), one element per item.
pub fn to_xml(item: &Ttlv) -> String {
    let mut out = String::new();
    write_item(&mut out, item, 0, None);
    out
}

fn write_item(out: &mut String, item: &Ttlv, depth: usize, attribute_name: Option<&str>) {
    let indent = "  ".repeat(depth);
    let (open, close) = match item.tag.xml_name() {
        Some(name) => (name.to_owned(), name.to_owned()),
        None => (format!("TTLV tag=\"0x{:06X}\"", item.tag.0), "TTLV".to_owned()),
    };
    match &item.value {
        Value::Structure(children) if children.is_empty() => {
            let _ = writeln!(out, "{indent}<{open}/>");
        }
        Value::Structure(children) => {
            let _ = writeln!(out, "{indent}<{open}>");
            let mut sibling_name: Option<&str> = None;
            for c in children {
                write_item(out, c, depth + 1, sibling_name);
                if c.tag == Tag::ATTRIBUTE_NAME {
                    if let Value::TextString(s) = &c.value {
                        sibling_name = Some(s);
                    }
                }
            }
            let _ = writeln!(out, "{indent}</{close}>");
        }
        value => {
            let text = value_to_text(NameContext::new(item.tag, attribute_name), value, " ");
            let _ = writeln!(
                out,
                "{indent}<{open} type=\"{}\" value=\"{}\"/>",
                item.item_type().name(),
                quick_xml::escape::escape(text.as_str())
            );
        }
    }
}

/// Renders a primitive value in text form (`separator` joins mask names).
fn value_to_text(ctx: NameContext<'_>, value: &Value, separator: &str) -> String {
    match value {
        Value::Structure(_) => String::new(),
        Value::Integer(v) => text::integer_to_text(ctx, *v, separator),
        Value::LongInteger(v) => v.to_string(),
        Value::BigInteger(b) => text::bytes_to_hex(b.as_bytes()),
        Value::Enumeration(v) => text::enumeration_to_text(ctx, *v),
        Value::Boolean(b) => b.to_string(),
        Value::TextString(s) => s.clone(),
        Value::ByteString(b) => text::bytes_to_hex(b),
        Value::DateTime(s) => text::date_time_to_text(*s),
        Value::Interval(s) => s.to_string(),
        Value::DateTimeExtended(us) => text::date_time_extended_to_text(*us),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = r#"<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="0"/>
    </ProtocolVersion>
    <MaximumResponseSize type="Integer" value="256"/>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Query"/>
    <RequestPayload>
      <QueryFunction type="Enumeration" value="QueryOperations"/>
      <QueryFunction type="Enumeration" value="QueryObjects"/>
    </RequestPayload>
  </BatchItem>
</RequestMessage>
"#;

    #[test]
    fn reads_and_writes_the_same_text() {
        let item = from_xml(QUERY).unwrap();
        assert_eq!(to_xml(&item), QUERY);
    }

    #[test]
    fn test_case_wrapper_and_stray_end_tag() {
        let doc = format!("<KMIP>\n<!-- c -->\n{QUERY}# TIME 1\n{QUERY}</KMIP>\n</KMIP>\n");
        let items = parse_test_case(&doc, &Placeholders::default()).unwrap();
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn placeholders_and_attribute_values() {
        let doc = r#"<Attribute>
  <AttributeName type="TextString" value="Object Type"/>
  <AttributeValue type="Enumeration" value="SymmetricKey"/>
  <ActivationDate type="DateTime" value="$NOW-3600"/>
  <IVCounterNonce type="ByteString" value="$IV_COUNTER_NONCE"/>
</Attribute>"#;
        let item = from_xml(doc).unwrap();
        let c = item.children();
        assert_eq!(c[1].value, Value::Enumeration(2));
        assert_eq!(c[2].value, Value::DateTime(Placeholders::default().now - 3600));
        assert_eq!(c[3].value, Value::ByteString(b"$IV_COUNTER_NONCE".to_vec()));
    }

    #[test]
    fn errors_name_the_line() {
        let err = from_xml("<RequestMessage>\n  <Bogus type=\"Integer\" value=\"1\"/>\n</RequestMessage>").unwrap_err();
        assert!(matches!(err, XmlError::UnknownTag { line: 2, .. }), "{err:?}");
        let err = from_xml("<BatchCount type=\"Integer\" value=\"x\"/>").unwrap_err();
        assert!(matches!(err, XmlError::BadValue { .. }), "{err:?}");
    }

    #[test]
    fn message_sources_split_a_test_case() {
        let doc = format!("<KMIP>\n<!-- c -->\n{QUERY}\n{QUERY}</KMIP>\n</KMIP>\n");
        let parts = message_sources(&doc).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], QUERY.trim_end());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = "<RequestMessage>".repeat(10_000);
        assert!(matches!(from_xml(&doc), Err(XmlError::TooDeep { .. })));
    }
}
