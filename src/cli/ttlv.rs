//! `kmipd ttlv decode|encode`: converts KMIP messages between binary TTLV, hex, XML and JSON,
//! for people debugging real KMIP traffic.
//!
//! Input may hold several messages: consecutive binary messages, several XML elements (an
//! OASIS test-case file with its `<KMIP>` wrapper works), or a JSON array. Each is converted
//! in order.

use std::io::{Read, Write};
use std::path::PathBuf;

use thiserror::Error;

use crate::ttlv::binary::{frame_len, HEADER_LEN};
use crate::ttlv::xml::{self, Placeholders};
use crate::ttlv::{self, json, DecodeError, DecodeLimits, Ttlv};

/// A message encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Raw TTLV bytes.
    Binary,
    /// TTLV bytes as hex (whitespace ignored on input).
    Hex,
    /// The XML encoding of the OASIS test cases.
    Xml,
    /// The JSON encoding of KMIP Additional Message Encodings.
    Json,
}

/// Arguments of `kmipd ttlv decode` and `kmipd ttlv encode`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Input encoding.
    #[arg(long)]
    pub from: Option<Format>,
    /// Output encoding.
    #[arg(long)]
    pub to: Option<Format>,
    /// Largest message accepted, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub max_bytes: usize,
    /// Input file (standard input when absent).
    pub file: Option<PathBuf>,
}

/// Why a conversion failed; each renders as one line.
#[derive(Debug, Error)]
pub enum ConvertError {
    /// The input could not be read.
    #[error("cannot read input: {0}")]
    Read(#[source] std::io::Error),
    /// The output could not be written.
    #[error("cannot write output: {0}")]
    Write(#[source] std::io::Error),
    /// Hex input holds a non-hex character.
    #[error("at hex character {position}: {message}")]
    Hex { position: usize, message: String },
    /// Binary TTLV is malformed.
    #[error("{0}")]
    Decode(#[from] DecodeError),
    /// XML input is malformed.
    #[error("{0}")]
    Xml(#[from] xml::XmlError),
    /// JSON input is malformed.
    #[error("{0}")]
    Json(#[from] json::JsonError),
    /// The item tree can't be encoded.
    #[error("{0}")]
    Encode(#[from] ttlv::EncodeError),
    /// Text input is not UTF-8.
    #[error("input is not UTF-8 text")]
    NotText,
}

/// Runs a conversion, reading the file or `input`, writing to `output`.
pub fn run(
    args: &ConvertArgs,
    default_from: Format,
    default_to: Format,
    input: &mut dyn Read,
    output: &mut dyn Write,
) -> Result<(), ConvertError> {
    let mut raw = Vec::new();
    match &args.file {
        Some(path) => raw = std::fs::read(path).map_err(ConvertError::Read)?,
        None => {
            input.read_to_end(&mut raw).map_err(ConvertError::Read)?;
        }
    }
    let items = read_items(&raw, args.from.unwrap_or(default_from), args.max_bytes)?;
    let out = write_items(&items, args.to.unwrap_or(default_to))?;
    output.write_all(&out).map_err(ConvertError::Write)?;
    output.flush().map_err(ConvertError::Write)
}

/// Parses every message of the input.
pub fn read_items(raw: &[u8], from: Format, max_bytes: usize) -> Result<Vec<Ttlv>, ConvertError> {
    let text = || std::str::from_utf8(raw).map_err(|_| ConvertError::NotText);
    match from {
        Format::Binary => read_binary(raw, max_bytes),
        Format::Hex => read_binary(&parse_hex(text()?)?, max_bytes),
        Format::Xml => Ok(xml::parse_test_case(text()?, &Placeholders::default())?),
        Format::Json => {
            let t = text()?.trim();
            match serde_json::from_str::<serde_json::Value>(t) {
                Ok(serde_json::Value::Array(items)) => items
                    .iter()
                    .map(|v| json::from_json_str(&v.to_string()).map_err(ConvertError::from))
                    .collect(),
                _ => Ok(vec![json::from_json_str(t)?]),
            }
        }
    }
}

/// Decodes consecutive binary messages.
fn read_binary(bytes: &[u8], max_bytes: usize) -> Result<Vec<Ttlv>, ConvertError> {
    let limits = DecodeLimits { max_bytes, ..DecodeLimits::default() };
    if bytes.is_empty() {
        return Err(DecodeError::Empty.into());
    }
    let mut items = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = bytes.get(pos..).unwrap_or_default();
        let header: [u8; HEADER_LEN] = match rest.get(..HEADER_LEN).and_then(|h| h.try_into().ok()) {
            Some(h) => h,
            None => {
                return Err(DecodeError::Truncated { offset: pos, needed: HEADER_LEN, available: rest.len() }.into())
            }
        };
        let len = frame_len(&header, max_bytes).map_err(|e| e.shifted(pos))?;
        let frame = rest.get(..len).ok_or_else(|| {
            DecodeError::LengthPastEnd {
                offset: pos + 4,
                length: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
                available: rest.len() - HEADER_LEN,
            }
        })?;
        items.push(ttlv::decode(frame, &limits).map_err(|e| e.shifted(pos))?);
        pos += len;
    }
    Ok(items)
}

fn parse_hex(text: &str) -> Result<Vec<u8>, ConvertError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    for (position, c) in text.char_indices() {
        if c.is_whitespace() || c == '|' {
            continue;
        }
        let nibble = c.to_digit(16).ok_or_else(|| ConvertError::Hex {
            position,
            message: format!("{c:?} is not a hex digit"),
        })? as u8;
        match high.take() {
            Some(h) => out.push(h << 4 | nibble),
            None => high = Some(nibble),
        }
    }
    if high.is_some() {
        return Err(ConvertError::Hex { position: text.len(), message: "odd number of hex digits".into() });
    }
    Ok(out)
}

/// Renders every message in the output encoding.
pub fn write_items(items: &[Ttlv], to: Format) -> Result<Vec<u8>, ConvertError> {
    let mut out = Vec::new();
    match to {
        Format::Binary => {
            for item in items {
                ttlv::binary::encode_into(item, &mut out)?;
            }
        }
        Format::Hex => {
            for item in items {
                out.extend_from_slice(hex::encode(ttlv::encode(item)?).as_bytes());
                out.push(b'\n');
            }
        }
        Format::Xml => {
            for item in items {
                out.extend_from_slice(xml::to_xml(item).as_bytes());
            }
        }
        Format::Json => {
            let docs: Vec<String> = items.iter().map(json::to_json_string).collect();
            let text = if docs.len() == 1 { docs.concat() } else { format!("[\n{}\n]", docs.join(",\n")) };
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_to_xml_and_back() {
        let hex = "42002002000000040000000800000000";
        let items = read_items(hex.as_bytes(), Format::Hex, 1 << 20).unwrap();
        let xml = write_items(&items, Format::Xml).unwrap();
        assert_eq!(String::from_utf8(xml.clone()).unwrap(), "<CompromiseDate type=\"Integer\" value=\"8\"/>\n");
        let back = read_items(&xml, Format::Xml, 1 << 20).unwrap();
        assert_eq!(write_items(&back, Format::Hex).unwrap(), format!("{hex}\n").into_bytes());
    }

    #[test]
    fn errors_name_the_offset() {
        let two = "42002002000000040000000800000000 42002002000000040000000800000001";
        let err = read_items(two.as_bytes(), Format::Hex, 1 << 20).unwrap_err();
        assert_eq!(err.to_string(), "at byte 31: non-zero padding byte");
        let err = read_items(b"zz", Format::Hex, 1 << 20).unwrap_err();
        assert!(err.to_string().starts_with("at hex character 0"));
    }
}
