//! `smelter bench [flags]`: the end-to-end benchmark against the peers
//! (see [`crate::bench`]). This file turns flags into a
//! [`BenchConfig`], runs it on its own tokio runtime, and makes Ctrl-C
//! stop every process the benchmark started before exiting.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::bench::collector::Kind;
use crate::bench::ingest::IngestSpec;
use crate::bench::scenario::{Progress, Scenario};
use crate::bench::targets::TargetSpec;
use crate::bench::BenchConfig;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A peer to run beside smelter: prometheus-agent (Debian `prometheus`)
    /// or vmagent (Debian `victoria-metrics`). Repeatable.
    #[arg(long = "peer", value_parser = Kind::peer)]
    pub peers: Vec<Kind>,

    /// Leave smelter out: benchmark only the peers.
    #[arg(long)]
    pub no_smelter: bool,

    /// Scenarios to run, comma-separated: steady, ingest, outage, restart.
    #[arg(long = "scenario", value_delimiter = ',', default_value = "steady", value_parser = Scenario::parse)]
    pub scenarios: Vec<Scenario>,

    /// Scrape targets.
    #[arg(long, default_value_t = 100)]
    pub targets: u32,

    /// Series per target.
    #[arg(long, default_value_t = 1000)]
    pub series: u32,

    /// Scrape interval (`10s`, `500ms`, `1m`).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub interval: Duration,

    /// Series replaced per minute on each target.
    #[arg(long, default_value_t = 10)]
    pub churn: u32,

    /// Ingest: clients pushing remote-write requests.
    #[arg(long, default_value_t = 4)]
    pub clients: u32,

    /// Ingest: series over all clients.
    #[arg(long, default_value_t = 100_000)]
    pub ingest_series: u32,

    /// Ingest: samples per request.
    #[arg(long, default_value_t = 2000)]
    pub batch: u32,

    /// Time before the measured window.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// The measured window of each run.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Outage: how long the receiver is unreachable.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub outage: Duration,

    /// Rounds of alternation: 1 runs A B, 2 runs A B B A.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,

    /// After the load stops, how long to wait at most for the last samples.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub drain_timeout: Duration,

    /// Where the report (report.json, SCENARIO.svg) and each run's files go.
    #[arg(long, default_value = "bench-out")]
    pub output: PathBuf,

    /// Progress display; `auto` rewrites one line on a terminal.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Live,
    Lines,
    Quiet,
}

/// `10s`, `500ms`, `2m`, or bare seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {s:?}; expected e.g. 10s, 500ms, 2m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("invalid duration unit in {s:?}; use ms, s or m")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("invalid duration {s:?}: {e}"))
}

impl BenchArgs {
    fn config(&self) -> BenchConfig {
        let mut collectors = Vec::new();
        if !self.no_smelter {
            collectors.push(Kind::Smelter);
        }
        for peer in &self.peers {
            if !collectors.contains(peer) {
                collectors.push(*peer);
            }
        }
        let progress = match self.progress {
            ProgressArg::Auto if std::io::IsTerminal::is_terminal(&std::io::stderr()) => {
                Progress::Live
            }
            ProgressArg::Auto | ProgressArg::Lines => Progress::Lines,
            ProgressArg::Live => Progress::Live,
            ProgressArg::Quiet => Progress::Quiet,
        };
        BenchConfig {
            collectors,
            scenarios: self.scenarios.clone(),
            targets: TargetSpec {
                targets: self.targets.max(1),
                series: self.series.max(1),
                churn_per_minute: self.churn,
            },
            interval: self.interval.max(Duration::from_secs(1)),
            ingest: IngestSpec {
                clients: self.clients,
                series: self.ingest_series,
                batch: self.batch,
            },
            warmup: self.warmup,
            duration: self.duration,
            outage: self.outage,
            rounds: self.rounds,
            drain_timeout: self.drain_timeout,
            output: self.output.clone(),
            progress,
        }
    }
}

pub fn run(args: &BenchArgs) -> ExitCode {
    let config = args.config();
    if config.collectors.is_empty() {
        eprintln!("Error: nothing to benchmark: --no-smelter needs at least one --peer");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    let outcome = runtime.block_on(async {
        tokio::select! {
            // Dropping the run kills every process it started.
            result = crate::bench::run(&config, command_line) => Some(result),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    match outcome {
        Some(Ok(report)) => {
            println!("{}", report.table());
            println!(
                "report: {}, plots: {}/SCENARIO.svg",
                config.output.join("report.json").display(),
                config.output.display()
            );
            ExitCode::SUCCESS
        }
        Some(Err(e)) => {
            eprintln!("\nError: {e}");
            ExitCode::FAILURE
        }
        None => {
            eprintln!("\ninterrupted: every collector started was stopped");
            ExitCode::from(130)
        }
    }
}
