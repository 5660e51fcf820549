//! The benchmark's report: every run's result, a summary per scenario and
//! collector, the terminal table (Markdown, so it pastes into the README
//! unchanged) and `report.json` for machines.
//!
//! Place in the data flow: scenario runs → **report** → terminal, JSON,
//! and [`super::plot`] for the SVG plots.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::collector::Kind;
use super::scenario::{RunResult, Scenario};
use super::{BenchConfig, BenchError};

/// The knobs a report was measured with.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub targets: u32,
    pub series_per_target: u32,
    pub interval_seconds: f64,
    pub churn_per_minute: u32,
    pub ingest_clients: u32,
    pub ingest_series: u32,
    pub ingest_batch: u32,
    pub warmup_seconds: f64,
    pub duration_seconds: f64,
    pub outage_seconds: f64,
    pub rounds: u32,
}

/// The machine the report was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    /// `/proc/loadavg`'s 1-minute load at the start and the end.
    pub load_start: Option<f64>,
    pub load_end: Option<f64>,
}

/// One collector in one scenario, over its rounds.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: Scenario,
    pub collector: Kind,
    pub runs: usize,
    pub samples_per_second: f64,
    /// Best and worst round.
    pub cpu_seconds_per_million: Option<(f64, f64)>,
    pub rss_peak_bytes: u64,
    pub rss_mean_bytes: u64,
    pub disk_peak_bytes: u64,
    pub produced: u64,
    pub lost: i64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub drain_samples_per_second: Option<f64>,
    pub fresh_after_seconds: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: String,
    pub settings: Settings,
    pub machine: Machine,
    pub summary: Vec<Summary>,
    pub runs: Vec<RunResult>,
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

impl Report {
    pub fn new(config: &BenchConfig, command: String) -> Report {
        Report {
            command,
            settings: Settings {
                targets: config.targets.targets,
                series_per_target: config.targets.series,
                interval_seconds: config.interval.as_secs_f64(),
                churn_per_minute: config.targets.churn_per_minute,
                ingest_clients: config.ingest.clients,
                ingest_series: config.ingest.series,
                ingest_batch: config.ingest.batch,
                warmup_seconds: config.warmup.as_secs_f64(),
                duration_seconds: config.duration.as_secs_f64(),
                outage_seconds: config.outage.as_secs_f64(),
                rounds: config.rounds,
            },
            machine: Machine {
                cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
                load_start: load_average(),
                load_end: None,
            },
            summary: Vec::new(),
            runs: Vec::new(),
        }
    }

    pub fn push(&mut self, run: RunResult) {
        self.runs.push(run);
    }

    /// Summarises the runs, in the order scenarios and collectors first ran.
    pub fn finish(&mut self) {
        self.machine.load_end = load_average();
        let mut keys: Vec<(Scenario, Kind)> = Vec::new();
        for r in &self.runs {
            if !keys.contains(&(r.scenario, r.collector)) {
                keys.push((r.scenario, r.collector));
            }
        }
        self.summary = keys
            .into_iter()
            .map(|(scenario, collector)| {
                let runs: Vec<&RunResult> = self
                    .runs
                    .iter()
                    .filter(|r| r.scenario == scenario && r.collector == collector)
                    .collect();
                summarise(scenario, collector, &runs)
            })
            .collect();
    }

    /// Writes `report.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), BenchError> {
        let path = dir.join("report.json");
        let text =
            serde_json::to_string_pretty(self).map_err(|e| BenchError::Report(e.to_string()))?;
        std::fs::write(&path, text)
            .map_err(|e| BenchError::io(format!("writing {}", path.display()), e))
    }

    /// The summary as a Markdown table.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| scenario | collector | samples/s | CPU-s per 1 M samples | peak RSS | mean RSS | disk peak | produced | lost | out of order | duplicates | drain/s | fresh after |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for s in &self.summary {
            let cpu = match s.cpu_seconds_per_million {
                Some((lo, hi)) if (hi - lo).abs() < 0.005 => format!("{lo:.2}"),
                Some((lo, hi)) => format!("{lo:.2}–{hi:.2}"),
                None => "–".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {cpu} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.scenario.name(),
                s.collector.name(),
                s.samples_per_second,
                mb(s.rss_peak_bytes),
                mb(s.rss_mean_bytes),
                mb(s.disk_peak_bytes),
                s.produced,
                s.lost,
                s.out_of_order,
                s.duplicates,
                s.drain_samples_per_second
                    .map_or("–".into(), |d| format!("{d:.0}")),
                s.fresh_after_seconds
                    .map_or("–".into(), |f| format!("{f:.1} s")),
            );
        }
        out
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn summarise(scenario: Scenario, collector: Kind, runs: &[&RunResult]) -> Summary {
    let cpu: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.cpu_seconds_per_million)
        .collect();
    let outages = || runs.iter().filter_map(|r| r.outage);
    Summary {
        scenario,
        collector,
        runs: runs.len(),
        samples_per_second: mean(runs.iter().map(|r| r.samples_per_second)).unwrap_or(0.0),
        cpu_seconds_per_million: (!cpu.is_empty()).then(|| {
            (
                cpu.iter().copied().fold(f64::INFINITY, f64::min),
                cpu.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        }),
        rss_peak_bytes: runs.iter().map(|r| r.rss_peak_bytes).max().unwrap_or(0),
        rss_mean_bytes: mean(runs.iter().map(|r| r.rss_mean_bytes as f64)).unwrap_or(0.0) as u64,
        disk_peak_bytes: runs.iter().map(|r| r.disk_peak_bytes).max().unwrap_or(0),
        produced: runs.iter().map(|r| r.produced).sum(),
        lost: runs.iter().map(|r| r.lost).sum(),
        duplicates: runs.iter().map(|r| r.duplicates).sum(),
        out_of_order: runs.iter().map(|r| r.out_of_order).sum(),
        drain_samples_per_second: mean(outages().filter_map(|o| o.drain_samples_per_second)),
        fresh_after_seconds: mean(outages().filter_map(|o| o.fresh_after_seconds)),
    }
}
