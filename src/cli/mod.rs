//! Logic of the `kmipd` subcommands.
