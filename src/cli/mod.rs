//! Logic of the `kmipd` subcommands.

pub mod hsm;
