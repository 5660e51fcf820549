//! Shard scaling: more send loops while an endpoint is behind, back to the
//! configured count once it has caught up.
//!
//! Place in the data flow: between the WAL and the endpoint, this task runs
//! the reader and the shards of one [`super::Queue`] (`queue.rs`,
//! `shard.rs`) and replaces them when the shard count should change.
//!
//! Every `reshard_interval` (5 s; Prometheus: 10 s) it looks at the
//! backlog and at what was delivered since the last check. Behind (more
//! than [`BEHIND_REQUESTS`] full requests per shard stored) while the
//! endpoint accepts samples → twice the shards, up to `max_shards`; a
//! scale-up that does not deliver [`GAIN`]× more by the next check is
//! undone and not tried again for a minute (more shards only add contention
//! when the machine or the receiver is the bottleneck). Caught up for
//! [`IDLE_CHECKS`] checks in a row → half, down to the configured count.
//! Alloy and Prometheus size shards from measured send latency and ingest
//! rate; this rule is simpler to explain and does what matters here: drain
//! a backlog faster where more connections help. The samples in flight
//! (`capacity` per shard at the configured count) are spread over the
//! shards, so memory does not grow with the count — and no more shards run
//! than that budget keeps busy with a full request each ([`useful_shards`]):
//! a shard beyond it would hold a request's worth of samples above the
//! budget and add a connection, nothing else.
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
use super::queue::{commit_persisting, initial_positions, QueueError, Shared, SHARD_CHANNEL};
use super::reader::read_loop;
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

/// What the backlog and the delivery rate say about the shard count.
#[derive(Debug, Default)]
pub(super) struct Scaler {
    idle_checks: u32,
    last_sent: u64,
    /// A scale-up being tried: the count before and what it delivered per
    /// check.
    trial: Option<(usize, u64)>,
    /// No scale-up above this count for this many more checks: the last
    /// try did not deliver faster (on a busy machine or towards a receiver
    /// that is the bottleneck, more shards only add contention).
    ceiling: Option<(usize, u32)>,
}

/// A scale-up must deliver this much more per check to be kept.
const GAIN: f64 = 1.1;
/// Checks a failed scale-up is not tried again (1 minute at 5 s).
const CEILING_CHECKS: u32 = 12;

impl Scaler {
    /// The shard count wanted after a check with `backlog` samples stored
    /// and `sent` delivered in total so far.
    pub fn want(&mut self, cfg: &QueueConfig, shards: usize, backlog: u64, sent: u64) -> usize {
        let delivered = sent.saturating_sub(self.last_sent);
        self.last_sent = sent;
        if let Some((from, before)) = self.trial.take() {
            if (delivered as f64) < before as f64 * GAIN {
                self.ceiling = Some((from, CEILING_CHECKS));
                return from;
            }
        }
        let cap = match &mut self.ceiling {
            Some((_, 0)) | None => {
                self.ceiling = None;
                useful_shards(cfg)
            }
            Some((c, left)) => {
                *left -= 1;
                (*c).min(useful_shards(cfg))
            }
        };
        let per_request = cfg.max_samples_per_send as u64;
        if delivered > 0 && shards < cap && backlog > shards as u64 * per_request * BEHIND_REQUESTS
        {
            self.idle_checks = 0;
            self.trial = Some((shards, delivered));
            return (shards * 2).min(cap);
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

/// The most shards a scale-up goes to: `max_shards`, or fewer when the
/// in-flight budget (`capacity` × the configured count) does not fill a
/// request for each. Never below the configured count.
fn useful_shards(cfg: &QueueConfig) -> usize {
    let budget = cfg.capacity.saturating_mul(cfg.shards());
    let busy = budget / cfg.max_samples_per_send.max(1);
    busy.min(cfg.max_shards).max(cfg.shards())
}

/// Samples in flight per shard when `shards` run: the configured
/// `capacity` per shard at the configured count, the same total spread
/// over more shards (never below one request), so that memory does not
/// grow with the shard count.
fn shard_capacity(cfg: &QueueConfig, shards: usize) -> u32 {
    let total = cfg.capacity * cfg.shards();
    let per_shard = (total / shards.max(1)).max(cfg.max_samples_per_send);
    per_shard.min(Semaphore::MAX_PERMITS) as u32
}

/// The reader and shards of one shard count.
struct Sending {
    reader_stop: CancellationToken,
    reader: JoinHandle<()>,
    shards: Vec<JoinHandle<()>>,
}

/// Starts the reader and the shards of the installed positions' layout.
fn start(
    shared: &Arc<Shared>,
    sender: &Arc<Sender>,
    stop: &CancellationToken,
    cancel: &CancellationToken,
) -> Sending {
    let positions = shared.positions();
    let initial = positions.snapshot();
    // Only the first shards after an open resume from stored marks: the
    // marks their positions were installed with.
    let replay_below = shared
        .replay_below
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let resume = match replay_below {
        Some(below) => positions
            .marks()
            .1
            .into_iter()
            .map(|m| m.map(|m| (m, below)))
            .collect(),
        None => Vec::new(),
    };
    let cfg = &shared.cfg;
    let capacity = shard_capacity(&cfg.queue, initial.len());
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
            resume: resume.get(index).copied().flatten(),
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
    let mut scaler = Scaler::default();
    loop {
        let sending = start(&shared, &sender, &stop, &cancel);
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
            // Persist the drained positions, lay them out for `want` and
            // install the new layout, with no flush round in between.
            let _persisting = s.persisting.lock().unwrap_or_else(|e| e.into_inner());
            commit_persisting(&s)?;
            let (positions, _) = initial_positions(&s.q, want)?;
            s.set_positions(Arc::new(Positions::new(&positions)));
            Ok::<_, QueueError>(())
        })
        .await
        .unwrap_or_else(|e| Err(QueueError::Wal(e.to_string())));
        match next {
            Ok(()) => {
                shards = want;
                shared.metrics.shards.set(shards as i64);
            }
            // The old shards' positions stay installed: they start again.
            Err(e) => {
                tracing::error!(remote_name = %shared.cfg.name, "resharding, keeping {shards} shards: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_while_behind_and_faster_then_halves_once_caught_up() {
        let cfg = QueueConfig::default();
        let base = cfg.shards();
        let per = cfg.max_samples_per_send as u64;
        let mut s = Scaler::default();
        // Behind but the endpoint accepts nothing: stay.
        assert_eq!(s.want(&cfg, base, 1_000_000, 0), base);
        // Behind and delivering: double ...
        assert_eq!(s.want(&cfg, base, 1_000_000, 1000), base * 2);
        // ... kept when it delivers more, and tried again.
        assert_eq!(s.want(&cfg, base * 2, 1_000_000, 3000), base * 4);
        // No gain: back, and no new try for CEILING_CHECKS checks.
        assert_eq!(s.want(&cfg, base * 4, 1_000_000, 5000), base * 2);
        let mut sent = 5000;
        for _ in 0..CEILING_CHECKS {
            sent += 2000;
            assert_eq!(s.want(&cfg, base * 2, 1_000_000, sent), base * 2);
        }
        assert_eq!(s.want(&cfg, base * 2, 1_000_000, sent + 2000), base * 4);
        // Caught up: halve after IDLE_CHECKS checks, never below the base.
        let mut s = Scaler::default();
        let n = base * 4;
        assert_eq!(s.want(&cfg, n, per, 30), n);
        assert_eq!(s.want(&cfg, n, per, 40), n);
        assert_eq!(s.want(&cfg, n, per, 50), n / 2);
        for _ in 0..IDLE_CHECKS {
            assert_eq!(s.want(&cfg, base, 0, 60), base);
        }
    }

    #[test]
    fn memory_in_flight_does_not_grow_with_shards() {
        let cfg = QueueConfig::default();
        let base = cfg.shards();
        assert_eq!(shard_capacity(&cfg, base) as usize, cfg.capacity);
        assert_eq!(
            shard_capacity(&cfg, base * 2) as usize * base * 2,
            cfg.capacity * base
        );
        // Never below one full request ...
        assert_eq!(
            shard_capacity(&cfg, cfg.max_shards) as usize,
            cfg.max_samples_per_send
        );
        // ... and no more shards than the budget fills: 4 × 10 000 samples
        // in requests of 2 000.
        let useful = useful_shards(&cfg);
        assert_eq!(useful, 20);
        assert_eq!(
            shard_capacity(&cfg, useful) as usize * useful,
            cfg.capacity * base
        );
    }

    #[test]
    fn scales_up_only_to_the_shards_the_budget_keeps_busy() {
        let cfg = QueueConfig::default();
        let mut s = Scaler::default();
        let mut sent = 0;
        let mut shards = cfg.shards();
        for _ in 0..6 {
            sent += 1_000_000;
            sent *= 2;
            shards = s.want(&cfg, shards, 10_000_000, sent);
        }
        assert_eq!(shards, 20);
        // A small max_shards still wins; the configured count is the floor.
        let small = QueueConfig {
            max_shards: 6,
            ..QueueConfig::default()
        };
        assert_eq!(useful_shards(&small), 6);
        let tiny_budget = QueueConfig {
            capacity: 100,
            ..QueueConfig::default()
        };
        assert_eq!(useful_shards(&tiny_budget), tiny_budget.shards());
    }
}
