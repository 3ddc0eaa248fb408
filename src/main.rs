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
    /// Serve KMIP over mutual TLS with the configuration in FILE.
    Serve {
        /// The configuration file (see deploy/kmipd.toml).
        #[arg(long)]
        config: std::path::PathBuf,
    },
    /// Quick start: a SoftHSM2 token, dev certificates and a store under --state-dir, then serve.
    Dev(cli::serve::DevArgs),
    /// Convert KMIP messages between binary TTLV, hex, XML and JSON.
    #[command(subcommand)]
    Ttlv(TtlvCommand),
    /// HSM tools.
    #[command(subcommand)]
    Hsm(HsmCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Replay the OASIS KMIP test cases against kmipd on a fresh SoftHSM2 token and report
    /// (CONFORMANCE.md).
    Conformance(cli::conformance::ConformanceArgs),
}

#[derive(Subcommand)]
enum TtlvCommand {
    /// Decode KMIP messages (default: binary TTLV to XML).
    Decode(cli::ttlv::ConvertArgs),
    /// Encode KMIP messages (default: XML to binary TTLV).
    Encode(cli::ttlv::ConvertArgs),
}

#[derive(Subcommand)]
enum HsmCommand {
    /// Check an HSM against a profile: lists the module's mechanisms, exercises every capability, and exits
    /// non-zero when the profile promises something the HSM cannot do.
    Probe(cli::hsm::ProbeArgs),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Session pool versus direct single-session cryptoki calls.
    Hsm(cli::hsm::BenchArgs),
    /// KMIP load over mutual TLS against a built-in or running server: ops/s, latency percentiles, CPU per
    /// operation; with --baseline the same operation through the HSM pool in-process, and the ratio.
    Server(cli::bench::ServerBenchArgs),
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { config } => cli::serve::serve(&config)?,
        Command::Dev(args) => cli::serve::dev(&args)?,
        Command::Conformance(args) => return cli::conformance::run(&args),
        Command::Ttlv(cmd) => {
            use cli::ttlv::Format;
            let (args, from, to) = match &cmd {
                TtlvCommand::Decode(a) => (a, Format::Binary, Format::Xml),
                TtlvCommand::Encode(a) => (a, Format::Xml, Format::Binary),
            };
            cli::ttlv::run(args, from, to, &mut std::io::stdin().lock(), &mut std::io::stdout().lock())?;
        }
        Command::Hsm(HsmCommand::Probe(args)) => {
            if !cli::hsm::probe(&args, &mut std::io::stdout())? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Bench(BenchCommand::Hsm(args)) => cli::hsm::bench(&args, &mut std::io::stdout())?,
        Command::Bench(BenchCommand::Server(args)) => cli::bench::server(&args, &mut std::io::stdout())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kmipd: {e}");
            ExitCode::FAILURE
        }
    }
}
