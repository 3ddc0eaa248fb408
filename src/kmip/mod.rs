//! The KMIP message model: typed requests, responses, payloads and attributes for protocol
//! versions 1.0–2.1, converted to and from the [`crate::ttlv`] tree. Knows nothing of PKCS#11.
//!
//! - [`message`]: [`RequestMessage`] / [`ResponseMessage`], headers, batch items, credentials.
//! - [`payloads`]: typed payloads of the 1.4/2.1 mandatory-profile operations; other
//!   operations keep their payload tree in an `Other` variant ("not modelled", never dropped).
//! - [`attributes`]: the one internal [`Attribute`] model and its 1.x and 2.x wire forms.
//! - [`objects`]: managed objects, Key Block, and shared structures.
//! - [`codec`]: the strict decoding machinery and [`ModelError`].
//!
//! Decoding is strict: a Structure's children are read in the specification's order, and an
//! unknown or out-of-place child, a wrong item type, a missing required field or an unknown
//! (non-extension) enumeration value is a [`ModelError`] naming the tag path. Encoding writes
//! exactly what was decoded, so TTLV → model → TTLV is the identity on valid messages.
//!
//! Decoding accepts both the 1.x and the 2.x form of every payload (the model carries both),
//! so the rules that depend on the protocol version are a separate step. A server:
//!
//! 1. decodes with [`RequestMessage::from_ttlv`]; on error it answers
//!    [`ModelError::result_reason`] using what [`RequestMessage::salvage`] could still read;
//! 2. checks [`RequestMessage::check_rules`] (tags and attributes of the header's version,
//!    each version's required form, Batch Count);
//! 3. builds a [`ResponseMessage`], filters attributes with
//!    [`attributes::Attributes::for_version`] (or converts forms with
//!    [`attributes::TemplateAttribute::to_attributes`] / `to_template_attribute`), and may
//!    assert [`ResponseMessage::check_rules`] before encoding.

#![warn(missing_docs)]
pub mod attributes;
pub mod codec;
pub mod enums;
pub mod message;
pub mod objects;
pub mod payloads;

pub use attributes::{Attribute, AttributeReference, Attributes, CustomAttribute, TemplateAttribute};
pub use codec::{FromTtlv, ModelError, ToTtlv};
pub use message::{RequestBatchItem, RequestMessage, ResponseBatchItem, ResponseMessage};
pub use payloads::{RequestPayload, ResponsePayload};

/// A KMIP enumeration with a typed Rust form.
pub trait KmipEnum: Sized + Copy {
    /// The enumeration's specification name.
    const NAME: &'static str;
    /// The typed value for a wire value, `None` when it is neither listed nor an extension.
    fn from_u32(v: u32) -> Option<Self>;
    /// The wire value.
    fn to_u32(self) -> u32;
}
