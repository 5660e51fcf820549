//! The scrape loop of one target: a tokio task that scrapes on the target's
//! schedule and appends one batch per scrape.
//!
//! In the data flow this is the source end of the data plane: fetch
//! ([`fetch`](super::fetch)), turn the page into samples
//! ([`ingest`](super::ingest), through the target's
//! [`ScrapeCache`](super::cache)), add staleness markers (from the same
//! cache) and the report series
//! ([`report`](super::report)), and hand the batch to the [`Appender`].
//!
//! Schedule: the first scrape waits for [`Target::offset`] (Prometheus'
//! hash-based spread), then one scrape per interval on a fixed grid. If the
//! appender answers [`Backpressure`](super::Backpressure), the same batch is
//! retried after a pause and scrapes that fall due meanwhile are skipped and
//! counted (`delayed_scrapes`), as Prometheus' ticker drops missed ticks.
//! New settings for the same target arrive on a `watch` channel and apply
//! from the next scrape; only a changed interval re-phases the schedule.
//! When the target is removed the loop appends staleness markers for every
//! series it wrote (report series included); on shutdown it stops quietly,
//! as Prometheus does. Either way the cache goes with the loop.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::header::{HeaderName, HeaderValue};
use smelter_storage::exposition::Format;
use smelter_storage::{Batch, Labels};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use super::appender::Appender;
use super::arguments::Limits;
use super::cache::ScrapeCache;
use super::fetch::{fetch, FetchError, FetchRequest, HttpClient};
use super::ingest::{ingest, IngestError, PageSettings};
use super::report::{report_labels, stale_report, Report};
use super::stats::ScrapeStats;
use super::target::Target;
use crate::components::common::http_client::{authorization_header, Auth};

/// Everything one loop needs to scrape its target.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopConfig {
    pub target: Target,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    pub limits: Limits,
    pub auth: Auth,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub compression: bool,
    pub accept: HeaderValue,
    pub fallback_format: Format,
}

/// What every loop of one engine shares.
pub(crate) struct Shared {
    pub client: HttpClient,
    pub appender: Arc<dyn Appender>,
    pub stats: Arc<ScrapeStats>,
}

/// The engine's handle on a running loop.
pub(crate) struct LoopHandle {
    pub config: watch::Sender<Arc<LoopConfig>>,
    pub removed: CancellationToken,
    pub join: JoinHandle<()>,
}

/// Starts the loop of `config.target`. `shutdown` stops it without markers;
/// cancelling the handle's `removed` stops it with markers.
pub(crate) fn spawn(
    config: LoopConfig,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) -> LoopHandle {
    let (tx, rx) = watch::channel(Arc::new(config));
    let removed = CancellationToken::new();
    let join = tokio::spawn(run(rx, shared, removed.clone(), shutdown));
    LoopHandle {
        config: tx,
        removed,
        join,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

enum Stop {
    Removed,
    Shutdown,
}

async fn run(
    mut config_rx: watch::Receiver<Arc<LoopConfig>>,
    shared: Arc<Shared>,
    removed: CancellationToken,
    shutdown: CancellationToken,
) {
    let mut config = config_rx.borrow_and_update().clone();
    let mut reports = report_labels(&config.target.labels);
    let mut state = ScrapeCache::default();
    let mut next = Instant::now() + config.target.offset(SystemTime::now());
    tracing::debug!(target_labels = %config.target.labels, url = %config.target.url, "scrape loop started");
    let stop = loop {
        tokio::select! {
            _ = sleep_until(next) => {}
            _ = removed.cancelled() => break Stop::Removed,
            _ = shutdown.cancelled() => break Stop::Shutdown,
            changed = config_rx.changed() => {
                if changed.is_err() {
                    // The engine dropped the handle: the target was removed
                    // (a shutdown cancels `shutdown` first).
                    break if shutdown.is_cancelled() { Stop::Shutdown } else { Stop::Removed };
                }
                let new = config_rx.borrow_and_update().clone();
                if new.target.interval != config.target.interval {
                    next = Instant::now() + new.target.offset(SystemTime::now());
                }
                if new.target.labels != config.target.labels {
                    reports = report_labels(&new.target.labels);
                }
                config = new;
                continue;
            }
        }
        let batch = scrape(&config, &shared, &mut state, &reports).await;
        if let Some(stop) = deliver(&shared, batch, &config, &removed, &shutdown).await {
            break stop;
        }
        next += config.target.interval;
        let now = Instant::now();
        if next <= now {
            let behind =
                now.duration_since(next).as_nanos() / config.target.interval.as_nanos().max(1) + 1;
            ScrapeStats::add(&shared.stats.delayed_scrapes, behind as u64);
            next += config.target.interval * (behind as u32);
        }
    };
    if let Stop::Removed = stop {
        let ts = now_ms();
        let mut series = state.fail(ts);
        series.extend(stale_report(&reports, ts));
        let never = CancellationToken::new();
        let batch = Batch {
            series,
            metadata: Vec::new(),
        };
        // Removed targets still get their markers unless shutting down.
        let _ = deliver(&shared, batch, &config, &never, &shutdown).await;
    }
    tracing::debug!(target_labels = %config.target.labels, "scrape loop stopped");
}

/// Appends `batch`, retrying on backpressure; `Some` if told to stop first.
async fn deliver(
    shared: &Shared,
    mut batch: Batch,
    config: &LoopConfig,
    removed: &CancellationToken,
    shutdown: &CancellationToken,
) -> Option<Stop> {
    let default_pause =
        (config.target.interval / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        let samples = batch.sample_count() as u64;
        let stale = batch
            .series
            .iter()
            .flat_map(|s| &s.samples)
            .filter(|s| s.is_stale())
            .count() as u64;
        let result = tokio::select! {
            r = shared.appender.append(batch) => r,
            _ = shutdown.cancelled() => return Some(Stop::Shutdown),
        };
        match result {
            Ok(()) => {
                ScrapeStats::add(&shared.stats.samples_appended, samples);
                ScrapeStats::add(&shared.stats.stale_markers, stale);
                return None;
            }
            Err(bp) => {
                ScrapeStats::add(&shared.stats.backpressure, 1);
                tracing::debug!(target_labels = %config.target.labels, "appender backpressure; delaying scrape");
                batch = bp.batch;
                tokio::select! {
                    _ = sleep(bp.retry_after.unwrap_or(default_pause)) => {}
                    _ = removed.cancelled() => return Some(Stop::Removed),
                    _ = shutdown.cancelled() => return Some(Stop::Shutdown),
                }
            }
        }
    }
}

/// Why one scrape failed.
#[derive(Debug, thiserror::Error)]
enum ScrapeError {
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("scrape timed out after {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Auth(String),
}

/// One scrape: the batch to append (samples or markers, then the report).
async fn scrape(
    config: &LoopConfig,
    shared: &Shared,
    state: &mut ScrapeCache,
    reports: &[Labels; 5],
) -> Batch {
    ScrapeStats::add(&shared.stats.scrapes, 1);
    let ts = now_ms();
    let start = Instant::now();
    let fetched = tokio::time::timeout(config.target.timeout, async {
        let authorization = authorization_header(&config.auth)
            .await
            .map_err(ScrapeError::Auth)?;
        let req = FetchRequest {
            url: &config.target.url,
            accept: &config.accept,
            compression: config.compression,
            timeout_seconds: config.target.timeout.as_secs_f64(),
            authorization,
            headers: &config.headers,
            body_size_limit: config.limits.body_size_limit,
            fallback_format: config.fallback_format,
        };
        Ok::<_, ScrapeError>(fetch(&shared.client, req).await?)
    })
    .await
    .unwrap_or(Err(ScrapeError::Timeout(config.target.timeout)));

    let settings = PageSettings {
        target_labels: &config.target.labels,
        honor_labels: config.honor_labels,
        honor_timestamps: config.honor_timestamps,
        track_timestamps_staleness: config.track_timestamps_staleness,
        limits: &config.limits,
    };
    let (mut series, report, error) = match fetched {
        Ok(page) => match ingest(&page.body, page.format, &settings, state, ts) {
            Ok(ingested) => {
                let report = Report {
                    up: true,
                    duration_seconds: 0.0,
                    samples_scraped: ingested.total,
                    samples_post_metric_relabeling: ingested.added,
                    series_added: state.series_added(),
                };
                let mut series = ingested.series;
                series.extend(state.commit(ts));
                (series, report, None)
            }
            Err(failure) => {
                let report = Report {
                    samples_scraped: failure.total,
                    ..Report::default()
                };
                (
                    state.fail(ts),
                    report,
                    Some(ScrapeError::from(failure.error)),
                )
            }
        },
        Err(e) => (state.fail(ts), Report::default(), Some(e)),
    };
    if let Some(err) = &error {
        ScrapeStats::add(&shared.stats.failed_scrapes, 1);
        match err {
            ScrapeError::Ingest(IngestError::SampleLimit { .. }) => {
                ScrapeStats::add(&shared.stats.sample_limit_exceeded, 1)
            }
            ScrapeError::Fetch(FetchError::BodySizeLimit(_)) => {
                ScrapeStats::add(&shared.stats.body_size_limit_exceeded, 1)
            }
            _ => {}
        }
        tracing::debug!(target_labels = %config.target.labels, url = %config.target.url, %err, "scrape failed");
    }
    let report = Report {
        duration_seconds: start.elapsed().as_secs_f64(),
        ..report
    };
    series.extend(report.series(reports, ts));
    Batch {
        series,
        metadata: Vec::new(),
    }
}
