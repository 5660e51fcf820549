//! One run: a scenario's timeline for one collector, and what it measured.
//!
//! Place in the data flow: [`super::run`] calls [`run`] once per
//! (scenario, collector, round). A run starts fresh targets (or ingest
//! clients) and a fresh receiver, starts the collector, samples its process
//! tree and the receiver's counts every [`TICK`], applies the scenario's
//! event (receiver outage, SIGKILL + restart), stops the load at the end of
//! the measured window, waits for the last samples to arrive, and stops the
//! collector. Everything it started is owned here and dropped on every exit
//! path, so an error or Ctrl-C kills the collector too.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::collector::{Collector, Kind, Role};
use super::ingest::Ingest;
use super::measure::{disk_bytes, tree_usage};
use super::receiver::{Receiver, Snapshot};
use super::targets::Targets;
use super::{wall_ms, BenchConfig, BenchError};

/// How often the collector and the receiver are sampled.
pub const TICK: Duration = Duration::from_millis(500);

/// After the load stops: how long the received count may stand still
/// before the run gives up waiting for more (longer than the peers' send
/// deadlines, e.g. Prometheus' 5 s batch deadline).
const QUIET: Duration = Duration::from_secs(12);

/// The scenarios of the issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// scrape → relabel → remote write.
    Steady,
    /// Remote-write clients push into the collector, which forwards.
    Ingest,
    /// The receiver is unreachable for a while, then back.
    Outage,
    /// The collector is SIGKILLed mid-run and restarted.
    Restart,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Steady => "steady",
            Scenario::Ingest => "ingest",
            Scenario::Outage => "outage",
            Scenario::Restart => "restart",
        }
    }

    pub fn parse(s: &str) -> Result<Scenario, String> {
        match s {
            "steady" => Ok(Scenario::Steady),
            "ingest" => Ok(Scenario::Ingest),
            "outage" => Ok(Scenario::Outage),
            "restart" => Ok(Scenario::Restart),
            other => Err(format!(
                "unknown scenario {other:?}; expected steady, ingest, outage or restart"
            )),
        }
    }
}

/// How progress is shown while running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// One line rewritten in place (a terminal).
    Live,
    /// A line every few seconds (a log).
    Lines,
    Quiet,
}

/// One sample of a run's time series.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Point {
    /// Seconds since the collector started.
    pub t: f64,
    pub cpu_seconds: f64,
    pub rss_bytes: u64,
    pub disk_bytes: u64,
    /// Benchmark samples received so far.
    pub received: u64,
}

/// What the outage scenario measured.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct OutageResult {
    /// Samples produced but not yet delivered when the receiver came back.
    pub backlog_samples: u64,
    /// Growth of the collector's data directory during the outage.
    pub backlog_disk_bytes: u64,
    /// Backlog samples delivered per second after the receiver came back.
    pub drain_samples_per_second: Option<f64>,
    /// From the receiver's return until a sample stamped after it arrived.
    pub fresh_after_seconds: Option<f64>,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub scenario: Scenario,
    pub collector: Kind,
    pub round: u32,
    pub window_seconds: f64,
    /// Benchmark samples delivered to the receiver during the window.
    pub window_samples: u64,
    pub samples_per_second: f64,
    /// utime + stime of the collector's process tree during the window.
    pub cpu_seconds: f64,
    pub cpu_seconds_per_million: Option<f64>,
    pub rss_peak_bytes: u64,
    pub rss_mean_bytes: u64,
    pub disk_peak_bytes: u64,
    /// Samples scraped from the targets, or acknowledged to ingest clients.
    pub produced: u64,
    /// Benchmark samples received (re-deliveries included).
    pub received: u64,
    pub duplicates: u64,
    /// produced − distinct received; negative when more arrived than was
    /// acknowledged (a push delivered whose answer was lost).
    pub lost: i64,
    pub out_of_order: u64,
    /// Ingest requests the collector refused or failed.
    pub failed_pushes: u64,
    pub outage: Option<OutageResult>,
    pub points: Vec<Point>,
}

/// The load of a run: scrape targets or ingest clients.
enum Load {
    Scrape(Targets),
    Push(Ingest),
}

impl Load {
    fn produced(&self) -> u64 {
        match self {
            Load::Scrape(t) => t.produced(),
            Load::Push(i) => i.acked(),
        }
    }

    async fn stop(&mut self) {
        match self {
            Load::Scrape(t) => t.close(),
            Load::Push(i) => i.stop().await,
        }
    }
}

/// State of an outage as the timeline goes.
#[derive(Default)]
struct OutageTrack {
    down_at: Option<Instant>,
    disk_before: u64,
    back_at: Option<(Instant, i64)>,
    target: u64,
    result: OutageResult,
}

/// Runs `scenario` for `kind` with its files under `dir`.
pub async fn run(
    config: &BenchConfig,
    scenario: Scenario,
    kind: Kind,
    round: u32,
    dir: &Path,
) -> Result<RunResult, BenchError> {
    let mut receiver = Receiver::start().await?;
    let (mut load, role) = match scenario {
        Scenario::Ingest => (None, Role::Ingest),
        _ => {
            let targets = Targets::start(config.targets).await?;
            let role = Role::Scrape {
                targets: targets.addrs().to_vec(),
                interval: config.interval,
            };
            (Some(Load::Scrape(targets)), role)
        }
    };
    let mut collector = Collector::start(kind, &role, &receiver.url(), dir).await?;
    if load.is_none() {
        let url = collector.push_url().ok_or_else(|| {
            BenchError::Collector(format!("{} has no push endpoint", kind.name()))
        })?;
        load = Some(Load::Push(Ingest::start(config.ingest, url)?));
    }
    let Some(mut load) = load else {
        return Err(BenchError::Collector("no load started".into()));
    };

    let started = Instant::now();
    let label = format!("{} {} #{round}", scenario.name(), kind.name());
    let window_start = config.warmup;
    let window_end = config.warmup + config.duration;
    let outage_at = config.warmup + config.duration / 4;
    let restart_at = config.warmup + config.duration / 2;
    let mut restarted = false;
    // CPU time of collector processes already killed (restart scenario), so
    // the tree's CPU time stays cumulative across a restart.
    let mut cpu_before = 0.0;
    let mut outage = OutageTrack::default();
    let mut points = Vec::new();
    let mut at_start: Option<(Point, Snapshot)> = None;
    let mut at_end: Option<(Point, Snapshot)> = None;
    let mut quiet_since: Option<(Instant, u64)> = None;
    let mut last_report = Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        ticker.tick().await;
        collector.check_alive()?;
        let elapsed = started.elapsed();
        let snap = receiver.snapshot();
        let usage = tree_usage(collector.pid()).unwrap_or_default();
        let point = Point {
            t: elapsed.as_secs_f64(),
            cpu_seconds: cpu_before + usage.cpu_seconds,
            rss_bytes: usage.rss_bytes,
            disk_bytes: disk_bytes(collector.data_dir()),
            received: snap.samples,
        };
        points.push(point);

        if at_start.is_none() && elapsed >= window_start {
            at_start = Some((point, snap));
        }
        match scenario {
            Scenario::Outage => {
                track_outage(
                    &mut outage,
                    &mut receiver,
                    &load,
                    elapsed,
                    outage_at,
                    config.outage,
                    point,
                    snap,
                )
                .await?
            }
            Scenario::Restart if !restarted && elapsed >= restart_at => {
                restarted = true;
                // The last reading before the kill: up to one tick of the old
                // process' CPU time is not counted.
                cpu_before = point.cpu_seconds;
                collector.kill_and_restart().await?;
            }
            _ => {}
        }
        if at_end.is_none() && elapsed >= window_end {
            at_end = Some((point, snap));
            load.stop().await;
        }
        if at_end.is_some() {
            // Draining: done when everything arrived, when nothing has
            // arrived for a while, or at the drain timeout.
            let produced = load.produced();
            let distinct = snap.samples.saturating_sub(snap.duplicates);
            let quiet = match quiet_since {
                Some((since, count)) if count == snap.samples => since.elapsed() >= QUIET,
                _ => {
                    quiet_since = Some((Instant::now(), snap.samples));
                    false
                }
            };
            let outage_done = scenario != Scenario::Outage || outage.back_at.is_some();
            if outage_done
                && (distinct >= produced || quiet || elapsed >= window_end + config.drain_timeout)
            {
                break;
            }
        }
        show_progress(config, &label, elapsed, window_end, point, &mut last_report);
    }
    if config.progress == Progress::Live {
        eprint!("\r\x1b[2K");
    }
    collector.stop().await;

    let final_snap = receiver.snapshot();
    let produced = load.produced();
    let failed_pushes = match &load {
        Load::Push(i) => i.failed_requests(),
        Load::Scrape(_) => 0,
    };
    let (Some((p0, s0)), Some((p1, s1))) = (at_start, at_end) else {
        return Err(BenchError::Collector(
            "the run ended before its window".into(),
        ));
    };
    let window_seconds = p1.t - p0.t;
    let window_samples = s1.samples.saturating_sub(s0.samples);
    let cpu_seconds = (p1.cpu_seconds - p0.cpu_seconds).max(0.0);
    let in_window: Vec<&Point> = points
        .iter()
        .filter(|p| p.t >= p0.t && p.t <= p1.t)
        .collect();
    let rss_mean_bytes = if in_window.is_empty() {
        0
    } else {
        in_window.iter().map(|p| p.rss_bytes).sum::<u64>() / in_window.len() as u64
    };
    let distinct = final_snap.samples.saturating_sub(final_snap.duplicates);
    Ok(RunResult {
        scenario,
        collector: kind,
        round,
        window_seconds,
        window_samples,
        samples_per_second: if window_seconds > 0.0 {
            window_samples as f64 / window_seconds
        } else {
            0.0
        },
        cpu_seconds,
        cpu_seconds_per_million: (window_samples > 0)
            .then(|| cpu_seconds / (window_samples as f64 / 1e6)),
        rss_peak_bytes: points.iter().map(|p| p.rss_bytes).max().unwrap_or(0),
        rss_mean_bytes,
        disk_peak_bytes: points.iter().map(|p| p.disk_bytes).max().unwrap_or(0),
        produced,
        received: final_snap.samples,
        duplicates: final_snap.duplicates,
        lost: i64::try_from(produced).unwrap_or(i64::MAX)
            - i64::try_from(distinct).unwrap_or(i64::MAX),
        out_of_order: final_snap.out_of_order,
        failed_pushes,
        outage: (scenario == Scenario::Outage).then_some(outage.result),
        points,
    })
}

/// Takes the receiver down at `at`, brings it back `length` later, and
/// measures backlog, drain rate and the delay until fresh data arrives.
#[allow(clippy::too_many_arguments)]
async fn track_outage(
    o: &mut OutageTrack,
    receiver: &mut Receiver,
    load: &Load,
    elapsed: Duration,
    at: Duration,
    length: Duration,
    point: Point,
    snap: Snapshot,
) -> Result<(), BenchError> {
    if o.down_at.is_none() && elapsed >= at {
        receiver.go_down();
        o.down_at = Some(Instant::now());
        o.disk_before = point.disk_bytes;
        return Ok(());
    }
    if let (Some(down), None) = (o.down_at, o.back_at) {
        if down.elapsed() >= length {
            receiver.come_back().await?;
            o.back_at = Some((Instant::now(), wall_ms()));
            o.target = load.produced();
            o.result.backlog_samples = o
                .target
                .saturating_sub(snap.samples.saturating_sub(snap.duplicates));
            o.result.backlog_disk_bytes = point.disk_bytes.saturating_sub(o.disk_before);
        }
        return Ok(());
    }
    if let Some((back, back_ms)) = o.back_at {
        let since = back.elapsed().as_secs_f64();
        if o.result.fresh_after_seconds.is_none() && snap.newest_ms >= back_ms {
            o.result.fresh_after_seconds = Some(since);
        }
        let distinct = snap.samples.saturating_sub(snap.duplicates);
        if o.result.drain_samples_per_second.is_none() && distinct >= o.target && since > 0.0 {
            o.result.drain_samples_per_second = Some(o.result.backlog_samples as f64 / since);
        }
    }
    Ok(())
}

fn show_progress(
    config: &BenchConfig,
    label: &str,
    elapsed: Duration,
    window_end: Duration,
    point: Point,
    last: &mut Instant,
) {
    let line = format!(
        "{label}: {:>4.0}s/{}s  received {:>10}  rss {:>6.1} MB  cpu {:>6.2} s  disk {:>7.1} MB",
        elapsed.as_secs_f64(),
        window_end.as_secs(),
        point.received,
        point.rss_bytes as f64 / 1e6,
        point.cpu_seconds,
        point.disk_bytes as f64 / 1e6,
    );
    match config.progress {
        Progress::Live => {
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
        }
        Progress::Lines if last.elapsed() >= Duration::from_secs(5) => {
            *last = Instant::now();
            eprintln!("{line}");
        }
        _ => {}
    }
}
