//! The `smelter` command line: the entry point that turns arguments into one
//! of the program's operations (formatting now; validating and running
//! configurations are added as further [`Command`] variants).
//!
//! Each subcommand lives in its own module and returns an exit code, so that
//! `main` stays a one-liner and the commands can be tested by running the
//! binary.

pub mod fmt;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A telemetry pipeline that runs Grafana Alloy configuration files.
#[derive(Debug, Parser)]
#[command(name = "smelter", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Format a configuration file as `alloy fmt` does.
    #[command(visible_alias = "format")]
    Fmt(fmt::FmtArgs),
}

/// Parse the process arguments and run the chosen command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Fmt(args) => fmt::run(&args),
    }
}
