//! kmipd: a KMIP key server whose key material lives in a PKCS#11 HSM.
//!
//! # Layout
//!
//! - [`ttlv`]: the TTLV item tree and its binary, XML and JSON encodings; the tag registry.
//!   Knows nothing of KMIP semantics.
//! - [`kmip`]: typed KMIP messages, payloads, enumerations and the attribute model.
//!   Knows nothing of PKCS#11.
//! - [`ops`]: the batch processor, protocol-version negotiation and the KMIP operations.
//! - [`hsm`]: the `Hsm` trait and its PKCS#11 implementation (session pool, templates,
//!   profiles), KMIP-neutral.
//! - [`store`]: the metadata store (object records, Locate indexes, grants) on sled, and the
//!   start-up reconciler.
//! - [`cli`]: the `kmipd` subcommands' logic, kept out of `main.rs` so that tests can call it.

#![deny(unsafe_code)]

pub mod audit;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod hsm;
pub mod kmip;
pub mod ops;
pub mod pki;
pub mod server;
pub mod store;
pub mod ttlv;
