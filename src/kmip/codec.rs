//! The machinery that turns TTLV trees into typed values and back: the [`FromTtlv`] /
//! [`ToTtlv`] traits, their implementations for the primitive item types, the strict
//! [`Reader`] that walks a Structure's children in specification order, [`ModelError`]
//! with the tag path of the offending item, and the `kmip_struct!` macro that declares a
//! typed Structure from its field list.

use std::fmt;

use thiserror::Error;
use zeroize::Zeroizing;

use super::KmipEnum;
use crate::ttlv::{BigInt, Tag, Ttlv, Value};

/// Where an item sits in the message, for error reports: `RequestMessage/BatchItem[1]/...`.
///
/// Built on the stack while decoding (each level borrows its parent), rendered only when
/// an error is reported. Indexes count from 0 among the items of one repeated field.
#[derive(Clone, Copy)]
pub struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    tag: Tag,
    index: Option<usize>,
}

impl<'a> Path<'a> {
    /// The path of a top-level item.
    pub fn root(tag: Tag) -> Path<'static> {
        Path { parent: None, tag, index: None }
    }

    /// The path of a child item; `index` is its position within a repeated field.
    pub fn child(&'a self, tag: Tag, index: Option<usize>) -> Path<'a> {
        Path { parent: Some(self), tag, index }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            write!(f, "{parent}/")?;
        }
        match self.tag.xml_name() {
            Some(name) => write!(f, "{name}")?,
            None => write!(f, "0x{:06X}", self.tag.0)?,
        }
        if let Some(i) = self.index {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a TTLV tree is not a valid KMIP message (or part of one). Every variant carries the
/// tag path of the item at fault, e.g. `RequestMessage/BatchItem[2]/RequestPayload/KeyFormatType`
/// (`[n]` counts from 0 among the items of one repeated field).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    /// The item has another tag than the one the model expects here.
    #[error("{path}: expected {expected}, found {found}")]
    WrongTag {
        /// Where.
        path: String,
        /// The tag the model expects.
        expected: Tag,
        /// The tag found.
        found: Tag,
    },
    /// The item has an item type the model does not accept for this tag.
    #[error("{path}: item type {found} where {expected} is required")]
    WrongType {
        /// Where.
        path: String,
        /// The item type(s) accepted.
        expected: &'static str,
        /// The item type found.
        found: &'static str,
    },
    /// A required field is absent (or not where the specification puts it).
    #[error("{path}: required field {field} is missing")]
    MissingField {
        /// The Structure missing the field.
        path: String,
        /// The field's tag.
        field: Tag,
    },
    /// A child that is unknown in this Structure or out of the specification's order.
    #[error("{path}: unknown or out-of-place field")]
    UnexpectedField {
        /// The offending child.
        path: String,
    },
    /// An enumeration value that is neither listed by the specification nor an extension.
    #[error("{path}: 0x{value:08X} is not a value of {enumeration}")]
    UnknownEnumValue {
        /// Where.
        path: String,
        /// The enumeration's name.
        enumeration: &'static str,
        /// The wire value.
        value: u32,
    },
    /// A KMIP 1.x Attribute Name that is neither a standard attribute nor an `x-`/`y-` name.
    #[error("{path}: unknown attribute name {name:?}")]
    UnknownAttribute {
        /// Where.
        path: String,
        /// The name sent.
        name: String,
    },
    /// A tag or attribute that the message's protocol version does not define (too new, or
    /// removed).
    #[error("{path}: not defined in KMIP {version}")]
    NotInVersion {
        /// Where.
        path: String,
        /// The message's protocol version.
        version: crate::ttlv::registry::Version,
    },
    /// A value that is well-typed but breaks a rule of the specification.
    #[error("{path}: {reason}")]
    InvalidValue {
        /// Where.
        path: String,
        /// The rule broken.
        reason: &'static str,
    },
}

impl ModelError {
    /// The Result Reason a server answers with when a request fails to decode: a value the
    /// server cannot accept is an Invalid Field, an attribute it does not know an Invalid
    /// Attribute (2.x name; 1.x servers may prefer Invalid Field), anything structural an
    /// Invalid Message.
    pub fn result_reason(&self) -> super::enums::ResultReason {
        use super::enums::ResultReason;
        match self {
            ModelError::UnknownEnumValue { .. } | ModelError::InvalidValue { .. } => {
                ResultReason::InvalidField
            }
            ModelError::UnknownAttribute { .. } => ResultReason::InvalidAttribute,
            ModelError::WrongTag { .. }
            | ModelError::WrongType { .. }
            | ModelError::MissingField { .. }
            | ModelError::UnexpectedField { .. }
            | ModelError::NotInVersion { .. } => ResultReason::InvalidMessage,
        }
    }
}

/// A typed value decoded from one TTLV item. The item's tag is the container's business
/// (it may be the field's own tag or `Attribute Value`); only the type and value are checked.
pub trait FromTtlv: Sized {
    /// Decodes `item`; `path` is where it sits, for error reports.
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError>;
}

/// A typed value encoded as one TTLV item under the tag the container chooses.
pub trait ToTtlv {
    /// Encodes `self` as an item tagged `tag`.
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv;
}

/// A value whose tag says which variant it is (a managed object, a 2.x attribute): it
/// decides for itself which tags it accepts and which tag it is written with.
pub trait Choice: FromTtlv {
    /// Whether an item with this tag decodes to a variant of `Self`.
    fn accepts(tag: Tag) -> bool;
    /// The tag this value is written with.
    fn tag(&self) -> Tag;
    /// Encodes `self` under its own tag.
    fn to_ttlv(&self) -> Ttlv;
}

pub(crate) fn wrong_type(item: &Ttlv, path: &Path<'_>, expected: &'static str) -> ModelError {
    ModelError::WrongType { path: path.to_string(), expected, found: item.item_type().name() }
}

macro_rules! primitive {
    ($ty:ty, $variant:ident, $name:literal, |$v:ident| $from:expr, |$s:ident| $to:expr) => {
        impl FromTtlv for $ty {
            fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
                match &item.value {
                    Value::$variant($v) => Ok($from),
                    _ => Err(wrong_type(item, path, $name)),
                }
            }
        }
        impl ToTtlv for $ty {
            fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
                let $s = self;
                Ttlv::new(tag, Value::$variant($to))
            }
        }
    };
}

primitive!(i32, Integer, "Integer", |v| *v, |s| *s);
primitive!(i64, LongInteger, "LongInteger", |v| *v, |s| *s);
primitive!(BigInt, BigInteger, "BigInteger", |v| v.clone(), |s| s.clone());
primitive!(bool, Boolean, "Boolean", |v| *v, |s| *s);
primitive!(String, TextString, "TextString", |v| v.clone(), |s| s.clone());
primitive!(Vec<u8>, ByteString, "ByteString", |v| v.clone(), |s| s.clone());
primitive!(u32, Interval, "Interval", |v| *v, |s| *s);
primitive!(DateTime, DateTime, "DateTime", |v| DateTime(*v), |s| s.0);
primitive!(DateTimeExtended, DateTimeExtended, "DateTimeExtended", |v| DateTimeExtended(*v), |s| s.0);
primitive!(SecretBytes, ByteString, "ByteString", |v| SecretBytes::new(v.clone()), |s| s.expose().to_vec());
primitive!(SecretText, TextString, "TextString", |v| SecretText::new(v.clone()), |s| s.expose().to_owned());
primitive!(SecretBigInt, BigInteger, "BigInteger", |v| SecretBigInt::new(v), |s| s.to_big_int());

impl<E: KmipEnum> FromTtlv for E {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        match item.value {
            Value::Enumeration(v) => E::from_u32(v).ok_or_else(|| ModelError::UnknownEnumValue {
                path: path.to_string(),
                enumeration: E::NAME,
                value: v,
            }),
            _ => Err(wrong_type(item, path, "Enumeration")),
        }
    }
}

impl<E: KmipEnum> ToTtlv for E {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        Ttlv::enumeration(tag, self.to_u32())
    }
}

/// A raw item kept as it came (vendor extensions, free-form vendor structures).
impl FromTtlv for Ttlv {
    fn from_ttlv_item(item: &Ttlv, _path: &Path<'_>) -> Result<Self, ModelError> {
        Ok(item.clone())
    }
}

impl ToTtlv for Ttlv {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        Ttlv::new(tag, self.value.clone())
    }
}

/// A Structure whose content is vendor-defined (Vendor Extension, Server Information,
/// Defaults Information): its children are kept as sent, but it must be a Structure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawStructure(pub Vec<Ttlv>);

impl FromTtlv for RawStructure {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        match &item.value {
            Value::Structure(children) => Ok(RawStructure(children.clone())),
            _ => Err(wrong_type(item, path, "Structure")),
        }
    }
}

impl ToTtlv for RawStructure {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        Ttlv::structure(tag, self.0.clone())
    }
}

/// A KMIP Date-Time: seconds since the Unix epoch, exactly as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub i64);

impl DateTime {
    /// The time as an `OffsetDateTime`, when it is within the range `time` can represent.
    pub fn to_offset_date_time(self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::from_unix_timestamp(self.0).ok()
    }
}

/// A KMIP 2.x Date-Time Extended: microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTimeExtended(pub i64);

/// Secret bytes (key material, plaintext, passwords as bytes): zeroized when dropped and
/// never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of the bytes.
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// The secret bytes; callers must not log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (safe to log).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

/// Secret text (passwords): zeroized when dropped and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Takes ownership of the text.
    pub fn new(text: String) -> SecretText {
        SecretText(Zeroizing::new(text))
    }

    /// The secret text; callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretText(..)")
    }
}

/// A secret Big Integer (private exponent, CRT parts, EC/DSA/DH private value), kept as its
/// two's-complement wire bytes so that it re-encodes identically; zeroized when dropped.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretBigInt(SecretBytes);

impl SecretBigInt {
    /// Copies the wire bytes of `v`.
    pub fn new(v: &BigInt) -> SecretBigInt {
        SecretBigInt(SecretBytes::new(v.as_bytes().to_vec()))
    }

    /// A non-negative value from its unsigned big-endian magnitude, encoded straight into the
    /// wiped buffer: going through [`BigInt`] would leave an unwiped copy of the secret behind.
    pub fn from_unsigned(magnitude: &[u8]) -> SecretBigInt {
        let start = magnitude.iter().position(|&b| b != 0).unwrap_or(magnitude.len());
        let digits = &magnitude[start..];
        let sign = usize::from(digits.first().is_some_and(|b| b & 0x80 != 0));
        let len = (digits.len() + sign).div_ceil(8).max(1) * 8;
        // Sized up front so the buffer never reallocates (which would strand a copy).
        let mut v = Vec::with_capacity(len);
        v.resize(len - digits.len(), 0);
        v.extend_from_slice(digits);
        SecretBigInt(SecretBytes::new(v))
    }

    /// The two's-complement big-endian bytes (a multiple of 8 long).
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }

    /// A Big Integer copy for the wire. The wire bytes are already a multiple of 8, so
    /// sign extension adds nothing and the value round-trips exactly.
    pub fn to_big_int(&self) -> BigInt {
        BigInt::from_signed_bytes(self.0.expose())
    }
}

impl fmt::Debug for SecretBigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBigInt({} bytes)", self.0.len())
    }
}

/// Walks the children of a Structure in order, taking each field where the specification
/// puts it; anything left over (unknown or out of order) is an error in [`Reader::finish`].
pub struct Reader<'a, 'p> {
    children: &'a [Ttlv],
    pos: usize,
    path: &'p Path<'p>,
}

impl<'a, 'p> Reader<'a, 'p> {
    /// A reader over the children of `item`, which must be a Structure.
    pub fn structure(item: &'a Ttlv, path: &'p Path<'p>) -> Result<Reader<'a, 'p>, ModelError> {
        match &item.value {
            Value::Structure(children) => Ok(Reader { children, pos: 0, path }),
            _ => Err(wrong_type(item, path, "Structure")),
        }
    }

    /// The path of the Structure being read.
    pub fn path(&self) -> &Path<'p> {
        self.path
    }

    /// The next child, without taking it.
    pub fn peek(&self) -> Option<&'a Ttlv> {
        self.children.get(self.pos)
    }

    fn next_if(&mut self, accept: impl Fn(Tag) -> bool) -> Option<&'a Ttlv> {
        let item = self.children.get(self.pos).filter(|c| accept(c.tag))?;
        self.pos += 1;
        Some(item)
    }

    /// Takes the next child as a required field tagged `tag`.
    pub fn required<T: FromTtlv>(&mut self, tag: Tag) -> Result<T, ModelError> {
        match self.next_if(|t| t == tag) {
            Some(item) => T::from_ttlv_item(item, &self.path.child(tag, None)),
            None => Err(ModelError::MissingField { path: self.path.to_string(), field: tag }),
        }
    }

    /// Takes the next child if it is tagged `tag`.
    pub fn optional<T: FromTtlv>(&mut self, tag: Tag) -> Result<Option<T>, ModelError> {
        match self.next_if(|t| t == tag) {
            Some(item) => T::from_ttlv_item(item, &self.path.child(tag, None)).map(Some),
            None => Ok(None),
        }
    }

    /// Takes every consecutive child tagged `tag`.
    pub fn repeated<T: FromTtlv>(&mut self, tag: Tag) -> Result<Vec<T>, ModelError> {
        let mut out = Vec::new();
        while let Some(item) = self.next_if(|t| t == tag) {
            out.push(T::from_ttlv_item(item, &self.path.child(tag, Some(out.len())))?);
        }
        Ok(out)
    }

    /// Takes every consecutive child tagged `tag`; at least one must be there.
    pub fn repeated_nonempty<T: FromTtlv>(&mut self, tag: Tag) -> Result<Vec<T>, ModelError> {
        let out = self.repeated(tag)?;
        if out.is_empty() {
            return Err(ModelError::MissingField { path: self.path.to_string(), field: tag });
        }
        Ok(out)
    }

    /// Takes the next child as a required [`Choice`] (its tag picks the variant).
    pub fn required_choice<T: Choice>(&mut self, what: Tag) -> Result<T, ModelError> {
        match self.next_if(T::accepts) {
            Some(item) => T::from_ttlv_item(item, &self.path.child(item.tag, None)),
            None => Err(ModelError::MissingField { path: self.path.to_string(), field: what }),
        }
    }

    /// Takes the next child if it is a variant of the [`Choice`] `T`.
    pub fn optional_choice<T: Choice>(&mut self) -> Result<Option<T>, ModelError> {
        match self.next_if(T::accepts) {
            Some(item) => T::from_ttlv_item(item, &self.path.child(item.tag, None)).map(Some),
            None => Ok(None),
        }
    }

    /// Takes every consecutive child that is a variant of the [`Choice`] `T`.
    pub fn repeated_choice<T: Choice>(&mut self) -> Result<Vec<T>, ModelError> {
        let mut out = Vec::new();
        while let Some(item) = self.next_if(T::accepts) {
            out.push(T::from_ttlv_item(item, &self.path.child(item.tag, Some(out.len())))?);
        }
        Ok(out)
    }

    /// Ends the Structure: any child not taken is unknown here or out of order.
    pub fn finish(self) -> Result<(), ModelError> {
        match self.children.get(self.pos) {
            None => Ok(()),
            Some(extra) => {
                Err(ModelError::UnexpectedField { path: self.path.child(extra.tag, None).to_string() })
            }
        }
    }
}

/// Appends fields to a Structure being encoded, mirroring [`Reader`].
#[derive(Default)]
pub struct Writer {
    children: Vec<Ttlv>,
}

impl Writer {
    /// An empty Structure.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// Appends a required field.
    pub fn required<T: ToTtlv>(&mut self, tag: Tag, value: &T) {
        self.children.push(value.to_ttlv_item(tag));
    }

    /// Appends an optional field if present.
    pub fn optional<T: ToTtlv>(&mut self, tag: Tag, value: &Option<T>) {
        if let Some(v) = value {
            self.children.push(v.to_ttlv_item(tag));
        }
    }

    /// Appends every value of a repeated field.
    pub fn repeated<T: ToTtlv>(&mut self, tag: Tag, values: &[T]) {
        self.children.extend(values.iter().map(|v| v.to_ttlv_item(tag)));
    }

    /// Appends a [`Choice`] under its own tag.
    pub fn choice<T: Choice>(&mut self, value: &T) {
        self.children.push(value.to_ttlv());
    }

    /// Appends an optional [`Choice`].
    pub fn optional_choice<T: Choice>(&mut self, value: &Option<T>) {
        if let Some(v) = value {
            self.children.push(v.to_ttlv());
        }
    }

    /// Appends every value of a repeated [`Choice`].
    pub fn repeated_choice<T: Choice>(&mut self, values: &[T]) {
        self.children.extend(values.iter().map(Choice::to_ttlv));
    }

    /// Appends an already-encoded item.
    pub fn push(&mut self, item: Ttlv) {
        self.children.push(item);
    }

    /// The finished Structure item.
    pub fn finish(self, tag: Tag) -> Ttlv {
        Ttlv::structure(tag, self.children)
    }
}

/// The Rust type of a field of cardinality `req` / `opt` / `vec` / `vec1` / `choice` /
/// `optchoice` / `vecchoice`.
macro_rules! kmip_field_type {
    (req $ty:ty) => { $ty };
    (opt $ty:ty) => { Option<$ty> };
    (vec $ty:ty) => { Vec<$ty> };
    (vec1 $ty:ty) => { Vec<$ty> };
    (choice $ty:ty) => { $ty };
    (optchoice $ty:ty) => { Option<$ty> };
    (vecchoice $ty:ty) => { Vec<$ty> };
}

macro_rules! kmip_field_take {
    ($r:ident, req, $tag:expr) => {
        $r.required($tag)?
    };
    ($r:ident, opt, $tag:expr) => {
        $r.optional($tag)?
    };
    ($r:ident, vec, $tag:expr) => {
        $r.repeated($tag)?
    };
    ($r:ident, vec1, $tag:expr) => {
        $r.repeated_nonempty($tag)?
    };
    ($r:ident, choice, $tag:expr) => {
        $r.required_choice($tag)?
    };
    ($r:ident, optchoice, $tag:expr) => {
        $r.optional_choice()?
    };
    ($r:ident, vecchoice, $tag:expr) => {
        $r.repeated_choice()?
    };
}

macro_rules! kmip_field_put {
    ($w:ident, req, $v:expr, $tag:expr) => {
        $w.required($tag, $v)
    };
    ($w:ident, opt, $v:expr, $tag:expr) => {
        $w.optional($tag, $v)
    };
    ($w:ident, vec, $v:expr, $tag:expr) => {
        $w.repeated($tag, $v)
    };
    ($w:ident, vec1, $v:expr, $tag:expr) => {
        $w.repeated($tag, $v)
    };
    ($w:ident, choice, $v:expr, $tag:expr) => {
        $w.choice($v)
    };
    ($w:ident, optchoice, $v:expr, $tag:expr) => {
        $w.optional_choice($v)
    };
    ($w:ident, vecchoice, $v:expr, $tag:expr) => {
        $w.repeated_choice($v)
    };
}

/// Declares a KMIP Structure: a struct with one public field per entry and its
/// [`FromTtlv`]/[`ToTtlv`] implementations, which read and write the fields in the order
/// listed (the specification's order). Each entry is
/// `field: <cardinality> Type = TAG_CONSTANT`; for `choice` kinds the tag names the field in
/// "missing" errors only.
macro_rules! kmip_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $card:ident $ty:ty = $tag:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: kmip_field_type!($card $ty), )*
        }

        impl $crate::kmip::codec::FromTtlv for $name {
            #[allow(unused_mut)]
            fn from_ttlv_item(
                item: &$crate::ttlv::Ttlv,
                path: &$crate::kmip::codec::Path<'_>,
            ) -> Result<Self, $crate::kmip::codec::ModelError> {
                let mut r = $crate::kmip::codec::Reader::structure(item, path)?;
                $( let $field = kmip_field_take!(r, $card, $crate::ttlv::Tag::$tag); )*
                r.finish()?;
                Ok($name { $($field,)* })
            }
        }

        impl $crate::kmip::codec::ToTtlv for $name {
            #[allow(unused_mut)]
            fn to_ttlv_item(&self, tag: $crate::ttlv::Tag) -> $crate::ttlv::Ttlv {
                let mut w = $crate::kmip::codec::Writer::new();
                $( kmip_field_put!(w, $card, &self.$field, $crate::ttlv::Tag::$tag); )*
                w.finish(tag)
            }
        }
    };
}

pub(crate) use {kmip_field_put, kmip_field_take, kmip_field_type, kmip_struct};
