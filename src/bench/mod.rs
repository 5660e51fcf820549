//! `smelter bench`: the end-to-end benchmark built into the product. It
//! starts synthetic load, a decoding remote-write receiver and the
//! collector under test (smelter or a peer) on loopback ports, measures the
//! collector's process tree, and reports throughput, CPU per million
//! samples, memory, disk, loss and order.
//!
//! The data flow of one run:
//!
//! ```text
//! targets (scrape)  ─┐                                  ┌─▶ measure (/proc, disk)
//!                    ├─▶ collector (smelter | peer) ────┤
//! ingest (push)     ─┘        remote write              └─▶ receiver (decode, count, order)
//!                                                                 │
//!                                      scenario timeline ─▶ run result ─▶ report (table, JSON, SVG)
//! ```
//!
//! One file per concern: [`series`] (label shapes), [`targets`],
//! [`ingest`], [`receiver`] with [`order`], [`collector`] (one file per
//! collector), [`process`] (child ownership), [`measure`], [`scenario`]
//! (one run's timeline), [`report`] and [`plot`].

pub mod collector;
mod http;
pub mod ingest;
pub mod measure;
pub mod order;
pub mod plot;
pub mod process;
pub mod receiver;
pub mod report;
pub mod scenario;
pub mod series;
pub mod targets;

use std::path::PathBuf;
use std::time::Duration;

use collector::{Collector, Kind};
use ingest::IngestSpec;
use scenario::{Progress, Scenario};
use targets::TargetSpec;

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("peer {peer} needs the `{binary}` executable on PATH: install the Debian package `{package}` (apt-get install -y {package})")]
    MissingPeer {
        peer: &'static str,
        binary: &'static str,
        package: &'static str,
    },
    #[error("collector: {0}")]
    Collector(String),
    #[error("writing the report: {0}")]
    Report(String),
}

impl BenchError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        BenchError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Wall-clock time in milliseconds since the Unix epoch, the unit of
/// remote-write timestamps.
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Every knob of a benchmark.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub collectors: Vec<Kind>,
    pub scenarios: Vec<Scenario>,
    pub targets: TargetSpec,
    pub interval: Duration,
    pub ingest: IngestSpec,
    /// Time before the measured window (start-up, first scrapes).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// How long the receiver is down in `outage`.
    pub outage: Duration,
    /// 1: A B; 2: A B B A; more repeats the alternation.
    pub rounds: u32,
    /// How long to wait after the load stops for the last samples.
    pub drain_timeout: Duration,
    pub output: PathBuf,
    pub progress: Progress,
}

/// The order of runs of one scenario: the collectors forwards, then
/// backwards (A B B A …), so slow drifts of machine load fall on all alike.
pub fn alternation(collectors: &[Kind], rounds: u32) -> Vec<(Kind, u32)> {
    let mut order = Vec::new();
    for round in 0..rounds {
        let mut these: Vec<Kind> = collectors.to_vec();
        if round % 2 == 1 {
            these.reverse();
        }
        order.extend(these.into_iter().map(|k| (k, round + 1)));
    }
    order
}

/// Runs every scenario for every collector and writes the report.
pub async fn run(config: &BenchConfig, command_line: String) -> Result<report::Report, BenchError> {
    for kind in &config.collectors {
        Collector::check(*kind)?;
    }
    std::fs::create_dir_all(&config.output)
        .map_err(|e| BenchError::io(format!("creating {}", config.output.display()), e))?;
    let mut report = report::Report::new(config, command_line);
    for scenario in &config.scenarios {
        for (kind, round) in alternation(&config.collectors, config.rounds) {
            let dir = config.output.join("runs").join(format!(
                "{}-{}-{round}",
                scenario.name(),
                kind.name()
            ));
            // A previous run's data directory would be replayed: start clean.
            let _ = std::fs::remove_dir_all(&dir);
            let result = scenario::run(config, *scenario, kind, round, &dir).await?;
            report.push(result);
        }
    }
    report.finish();
    report.write(&config.output)?;
    plot::write_all(&report, &config.output)?;
    Ok(report)
}
