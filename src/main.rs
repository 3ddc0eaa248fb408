//! The `kmipd` binary.

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kmipd", version, about = "KMIP key server fronting a PKCS#11 HSM")]
enum Cli {
    /// HSM tools.
    #[command(subcommand)]
    Hsm(HsmCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum HsmCommand {
    /// Check an HSM against a profile: lists the module's mechanisms, exercises every capability, and exits
    /// non-zero when the profile promises something the HSM cannot do.
    Probe(kmipd::cli::hsm::ProbeArgs),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Session pool versus direct single-session cryptoki calls.
    Hsm(kmipd::cli::hsm::BenchArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli {
        Cli::Hsm(HsmCommand::Probe(args)) => {
            if !kmipd::cli::hsm::probe(&args, &mut std::io::stdout())? {
                std::process::exit(1);
            }
        }
        Cli::Bench(BenchCommand::Hsm(args)) => kmipd::cli::hsm::bench(&args, &mut std::io::stdout())?,
    }
    Ok(())
}
