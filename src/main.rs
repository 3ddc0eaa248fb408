//! The `kmipd` binary: command-line parsing and error reporting; the work is in `kmipd::cli`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kmipd::cli;

#[derive(Parser)]
#[command(name = "kmipd", version, about = "KMIP key server fronting a PKCS#11 HSM")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert KMIP messages between binary TTLV, hex, XML and JSON.
    #[command(subcommand)]
    Ttlv(TtlvCommand),
}

#[derive(Subcommand)]
enum TtlvCommand {
    /// Decode KMIP messages (default: binary TTLV to XML).
    Decode(cli::ttlv::ConvertArgs),
    /// Encode KMIP messages (default: XML to binary TTLV).
    Encode(cli::ttlv::ConvertArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {
        Command::Ttlv(cmd) => {
            use cli::ttlv::Format;
            let (args, from, to) = match &cmd {
                TtlvCommand::Decode(a) => (a, Format::Binary, Format::Xml),
                TtlvCommand::Encode(a) => (a, Format::Xml, Format::Binary),
            };
            cli::ttlv::run(args, from, to, &mut std::io::stdin().lock(), &mut std::io::stdout().lock())
                .map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kmipd: {e}");
            ExitCode::FAILURE
        }
    }
}
