//! The scrape engine of one `prometheus.scrape` component: it owns one
//! scrape loop per target and reconciles them with each new [`Arguments`].
//!
//! In the data flow the engine is the component's running body: arguments
//! arrive from the control plane on a `watch` channel, batches leave through
//! the [`Appender`] the data plane provides. It is independent of the data
//! plane on purpose, so it can be tested against real HTTP targets alone.
//!
//! Reconciling: loops are keyed by the target's final labels (the series
//! they write). A target still present keeps its loop and schedule; if its
//! settings changed (URL, interval, limits, …) the loop gets them for its
//! next scrape. A new target starts a loop; a vanished target's loop stops
//! and writes staleness markers. Two targets with the same final labels
//! would write the same series: the first wins, the other is logged.

use std::collections::HashMap;
use std::sync::Arc;

use hyper::header::HeaderValue;
use smelter_storage::Labels;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::appender::Appender;
use super::arguments::Arguments;
use super::fetch::http_client;
use super::stats::{ScrapeStats, StatsSnapshot};
use super::target::targets;
use super::target_loop::{spawn, LoopConfig, LoopHandle, Shared};

/// Runs the scrape loops of one component.
pub struct ScrapeEngine {
    shared: Arc<Shared>,
    loops: HashMap<Labels, LoopHandle>,
}

impl ScrapeEngine {
    /// An engine appending to `appender`.
    pub fn new(appender: Arc<dyn Appender>) -> Self {
        ScrapeEngine {
            shared: Arc::new(Shared {
                client: http_client(),
                appender,
                stats: Arc::new(ScrapeStats::default()),
            }),
            loops: HashMap::new(),
        }
    }

    /// The engine's counters (shared; stays valid after `run` returns).
    pub fn stats(&self) -> Arc<ScrapeStats> {
        self.shared.stats.clone()
    }

    /// Counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// Scrapes the targets of the latest arguments until `cancel` fires,
    /// following every update of `args`. On cancellation the loops stop
    /// without staleness markers (as Prometheus on shutdown) and this
    /// returns once they have.
    pub async fn run(mut self, mut args: watch::Receiver<Arguments>, cancel: CancellationToken) {
        let shutdown = cancel.child_token();
        let current = args.borrow_and_update().clone();
        self.apply(&current, &shutdown);
        let mut updates_open = true;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                changed = args.changed(), if updates_open => {
                    if changed.is_err() {
                        // No more updates: keep scraping until cancelled.
                        updates_open = false;
                        continue;
                    }
                    let current = args.borrow_and_update().clone();
                    self.apply(&current, &shutdown);
                }
            }
        }
        shutdown.cancel();
        for (_, handle) in self.loops.drain() {
            let _ = handle.join.await;
        }
        ScrapeStats::set(&self.shared.stats.active_targets, 0);
    }

    /// Starts, updates and stops loops to match `args`.
    fn apply(&mut self, args: &Arguments, shutdown: &CancellationToken) {
        let accept = match HeaderValue::from_str(&args.accept_header()) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(job = %args.job_name, %e, "invalid Accept header; keeping previous targets");
                return;
            }
        };
        let mut wanted: HashMap<Labels, LoopConfig> = HashMap::new();
        for target in targets(args) {
            if wanted.contains_key(&target.labels) {
                tracing::warn!(job = %args.job_name, labels = %target.labels, url = %target.url,
                    "two targets with the same labels; scraping only the first");
                continue;
            }
            let config = LoopConfig {
                target,
                honor_labels: args.honor_labels,
                honor_timestamps: args.honor_timestamps,
                track_timestamps_staleness: args.track_timestamps_staleness,
                limits: args.limits.clone(),
                auth: args.auth.clone(),
                headers: args.http_headers.clone(),
                compression: args.enable_compression,
                accept: accept.clone(),
                fallback_format: args.fallback_format,
            };
            wanted.insert(config.target.labels.clone(), config);
        }
        self.loops.retain(|labels, handle| {
            if wanted.contains_key(labels) {
                return true;
            }
            handle.removed.cancel();
            false
        });
        for (labels, config) in wanted {
            match self.loops.get(&labels) {
                Some(handle) => {
                    handle.config.send_if_modified(|current| {
                        if **current == config {
                            false
                        } else {
                            *current = Arc::new(config);
                            true
                        }
                    });
                }
                None => {
                    let handle = spawn(config, self.shared.clone(), shutdown.clone());
                    self.loops.insert(labels, handle);
                }
            }
        }
        ScrapeStats::set(&self.shared.stats.active_targets, self.loops.len() as u64);
        tracing::debug!(job = %args.job_name, targets = self.loops.len(), "scrape targets updated");
    }
}
