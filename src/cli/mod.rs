//! Logic of the `kmipd` subcommands, kept apart from `main.rs` so that tests can call it.

pub mod bench;
pub mod conformance;
pub mod hsm;
pub mod serve;
pub mod ttlv;
