//! Shard scaling: more send loops while an endpoint is behind, back to the
//! configured count once it has caught up.
//!
//! Place in the data flow: between the WAL and the endpoint, this task runs
//! the reader and the shards of one [`super::Queue`] (`queue.rs`,
//! `shard.rs`) and replaces them when the shard count should change.
//!
//! Every `reshard_interval` (5 s; Prometheus: 10 s) it compares the backlog with what the shards hold in
//! flight: behind (more than [`BEHIND_REQUESTS`] full requests per shard
//! waiting) while the endpoint accepts samples → twice the shards, up to
//! `max_shards`; caught up for [`IDLE_CHECKS`] checks in a row → half, down
//! to the configured count. Alloy and Prometheus size shards from measured
//! send latency and ingest rate; a backlog rule is simpler to explain and
//! does what matters here: drain an outage's backlog faster.
//!
//! Changing the count changes which shard a series belongs to, so it is
//! done at a point where every shard has the same position: the reader
//! stops at an entry boundary, the shards send everything they hold and
//! exit, and the new shards all start from that entry. No sample is sent
//! twice and the order per series holds even for a strict receiver. If the
//! endpoint stops answering during the drain the change waits (nothing can
//! be sent anyway); a close cuts it short like any other sending.

use smelter_storage::wal;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::args::QueueConfig;
use super::queue::{commit, initial_positions, read_loop, QueueError, Shared, SHARD_CHANNEL};
use super::sender::Sender;
use super::shard::{Positions, Shard};

/// Behind: more than this many full requests per shard in the backlog.
const BEHIND_REQUESTS: u64 = 4;
/// Caught-up checks in a row before scaling down.
const IDLE_CHECKS: u32 = 3;

/// The shard count to resume with: the persisted one when it is still
/// allowed (so a restart during a scaled-up drain keeps every shard's
/// exact position), else the configured one.
pub(super) fn resume_shards(q: &wal::Queue, cfg: &QueueConfig) -> Result<usize, QueueError> {
    let stored = q.positions()?.len();
    Ok(if (cfg.min_shards..=cfg.max_shards).contains(&stored) {
        stored
    } else {
        cfg.shards()
    })
}

/// What the backlog says about the shard count.
#[derive(Debug, Default)]
pub(super) struct Scaler {
    idle_checks: u32,
    last_sent: u64,
}

impl Scaler {
    /// The shard count wanted after a check with `backlog` samples stored
    /// and `sent` delivered in total so far.
    pub fn want(&mut self, cfg: &QueueConfig, shards: usize, backlog: u64, sent: u64) -> usize {
        let accepting = sent > self.last_sent;
        self.last_sent = sent;
        let per_request = cfg.max_samples_per_send as u64;
        if accepting && backlog > shards as u64 * per_request * BEHIND_REQUESTS {
            self.idle_checks = 0;
            return (shards * 2).min(cfg.max_shards);
        }
        let base = cfg.shards();
        if shards > base && backlog < shards as u64 * per_request {
            self.idle_checks += 1;
            if self.idle_checks >= IDLE_CHECKS {
                self.idle_checks = 0;
                return (shards / 2).max(base);
            }
        } else {
            self.idle_checks = 0;
        }
        shards
    }
}

/// The reader and shards of one shard count.
struct Sending {
    reader_stop: CancellationToken,
    reader: JoinHandle<()>,
    shards: Vec<JoinHandle<()>>,
}

fn start(
    shared: &Arc<Shared>,
    sender: &Arc<Sender>,
    initial: Vec<u64>,
    stop: &CancellationToken,
    cancel: &CancellationToken,
) -> Sending {
    let positions = Arc::new(Positions::new(&initial));
    shared.set_positions(positions.clone());
    let cfg = &shared.cfg;
    let capacity = cfg.queue.capacity.min(Semaphore::MAX_PERMITS) as u32;
    let mut txs = Vec::new();
    let mut shards = Vec::new();
    for index in 0..initial.len() {
        let (tx, rx) = mpsc::channel(SHARD_CHANNEL);
        txs.push((tx, Arc::new(Semaphore::new(capacity as usize))));
        let shard = Shard {
            index,
            cfg: cfg.clone(),
            rx,
            sender: sender.clone(),
            positions: positions.clone(),
            metrics: shared.metrics.clone(),
            stop: stop.clone(),
            cancel: cancel.clone(),
        };
        shards.push(tokio::spawn(shard.run()));
    }
    let reader_stop = stop.child_token();
    let reader = tokio::spawn(read_loop(
        shared.clone(),
        txs,
        capacity,
        initial,
        reader_stop.clone(),
        stop.clone(),
    ));
    Sending {
        reader_stop,
        reader,
        shards,
    }
}

impl Sending {
    /// Stops reading and waits until every shard has sent what it holds
    /// (or `stop` ended them).
    async fn drain(self) {
        self.reader_stop.cancel();
        let _ = self.reader.await;
        for s in self.shards {
            let _ = s.await;
        }
    }
}

/// Runs the sending side of a queue until `stop`, rescaling as the backlog
/// asks.
pub(super) async fn supervise(
    shared: Arc<Shared>,
    sender: Arc<Sender>,
    mut shards: usize,
    stop: CancellationToken,
    cancel: CancellationToken,
) {
    let mut initial = shared.positions().snapshot();
    let mut scaler = Scaler::default();
    loop {
        let sending = start(&shared, &sender, initial, &stop, &cancel);
        let want = loop {
            tokio::select! {
                _ = stop.cancelled() => {
                    sending.drain().await;
                    return;
                }
                _ = tokio::time::sleep(shared.cfg.queue.reshard_interval) => {}
            }
            let m = &shared.metrics;
            let backlog = m.backlog_samples().max(0) as u64;
            let want = scaler.want(&shared.cfg.queue, shards, backlog, m.samples_total());
            if want != shards {
                break want;
            }
        };
        tracing::info!(
            remote_name = %shared.cfg.name, from = shards, to = want,
            backlog_samples = shared.metrics.backlog_samples(),
            "resharding: draining the shards to a common position"
        );
        sending.drain().await;
        if stop.is_cancelled() {
            return;
        }
        let s = shared.clone();
        let next = tokio::task::spawn_blocking(move || {
            // Persist the drained positions, then lay them out for `want`.
            commit(&s)?;
            initial_positions(&s.q, want)
        })
        .await
        .unwrap_or_else(|e| Err(QueueError::Wal(e.to_string())));
        match next {
            Ok(positions) => {
                shards = want;
                initial = positions;
                shared.metrics.shards.set(shards as i64);
            }
            Err(e) => {
                tracing::error!(remote_name = %shared.cfg.name, "resharding, keeping {shards} shards: {e}");
                initial = shared.positions().snapshot();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_while_behind_and_halves_once_caught_up() {
        let cfg = QueueConfig::default();
        let base = cfg.shards();
        let per = cfg.max_samples_per_send as u64;
        let mut s = Scaler::default();
        // Behind but the endpoint accepts nothing: stay.
        assert_eq!(s.want(&cfg, base, 1_000_000, 0), base);
        // Behind and delivering: double, up to max_shards.
        assert_eq!(s.want(&cfg, base, 1_000_000, 10), base * 2);
        assert_eq!(s.want(&cfg, cfg.max_shards, 1_000_000, 20), cfg.max_shards);
        // Caught up: halve after IDLE_CHECKS checks, never below the base.
        let n = base * 4;
        assert_eq!(s.want(&cfg, n, per, 30), n);
        assert_eq!(s.want(&cfg, n, per, 40), n);
        assert_eq!(s.want(&cfg, n, per, 50), n / 2);
        for _ in 0..IDLE_CHECKS {
            assert_eq!(s.want(&cfg, base, 0, 60), base);
        }
    }
}
