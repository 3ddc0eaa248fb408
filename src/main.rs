//! The `kmipd` binary.

use anyhow::Result;
use clap::Parser;

#[derive(Parser)]
#[command(name = "kmipd", version, about = "KMIP key server fronting a PKCS#11 HSM")]
enum Cli {}

fn main() -> Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
