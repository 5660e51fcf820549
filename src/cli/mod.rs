//! The `smelter` command line: the entry point that turns arguments into one
//! of the program's operations (formatting and validating now; running
//! configurations is added as a further [`Command`] variant).
//!
//! Each subcommand lives in its own module and returns an exit code, so that
//! `main` stays a one-liner and the commands can be tested by running the
//! binary.

pub mod bench;
pub mod fmt;
pub mod memory;
pub mod run;
pub mod validate;

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
    /// Benchmark smelter against its peers: throughput, CPU, memory, loss, order.
    Bench(bench::BenchArgs),
    /// Format a configuration file as `alloy fmt` does.
    #[command(visible_alias = "format")]
    Fmt(fmt::FmtArgs),
    /// Run a configuration until stopped, reloading it on SIGHUP or `/-/reload`.
    Run(run::RunArgs),
    /// Check configuration files without running them, as `alloy validate` does.
    Validate(validate::ValidateArgs),
}

/// Parse the process arguments and run the chosen command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Fmt(args) => fmt::run(&args),
        Command::Bench(args) => {
            init_logging();
            bench::run(&args)
        }
        Command::Validate(args) => validate::run_args(&args),
        Command::Run(args) => {
            init_logging();
            run::run(&args)
        }
    }
}

/// Logs go to stderr through `tracing`; `RUST_LOG` filters them (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
