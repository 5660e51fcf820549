//! The durable queue of one remote-write endpoint: the sink end of the
//! data plane (`append` ─▶ WAL ─▶ group-committed flush ─▶ ack) and the
//! start of sending (WAL reader ─▶ shards ─▶ sender).
//!
//! Tasks of one [`Queue`], all on tokio:
//!
//! - **flusher** — group commit. [`Queue::append`] writes the batch into the
//!   WAL (an in-memory sled insert) and parks its acknowledgement; the
//!   flusher wakes, takes every parked ack, writes the shards' moved
//!   positions, flushes once (one fsync for all of them), then resolves the
//!   acks. So an append is acknowledged only after a flush that covers it,
//!   and many appends share one flush. After the flush it truncates the WAL
//!   below the lowest shard position (durable positions only), applies the
//!   size cap and refreshes the WAL gauges.
//! - **reader** — `reader.rs`: flushed entries, from the hot tail or the
//!   WAL, split among the shards.
//! - **shards** — `shard.rs`, one send loop each.
//!
//! Restart: [`Queue::open`] on the same WAL resumes from the persisted
//! positions and request marks (`shard.rs`: each shard re-sends exactly the
//! request it had in flight). A different shard count than last time moves
//! every shard to the lowest old position (series change shards), which
//! re-delivers what the slowest old shard had not confirmed — samples a
//! strict receiver has newer ones of are then refused with their request
//! (counted as `http_400`); `resume_shards` keeps the stored count whenever
//! the configuration allows it, so that happens only after a change of
//! `min_shards`/`max_shards` with a backlog.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use smelter_storage::model::Batch;
use smelter_storage::remote_write::{EncodedBatch, EncodedSeries};
use smelter_storage::wal::{self, Wal, WalError};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::args::EndpointConfig;
use super::metrics::{reason, EndpointMetrics};
use super::progress::Progress;
use super::scaling;
use super::sender::{self, Sender};
use super::shard::{now_ms, Positions};
use super::tail::Tail;

/// Removes the samples older than `cutoff` from `batch` (and the series
/// left empty), returning how many. Only series with such samples are
/// decoded; one that does not decode (a bug: wire form is checked where it
/// is made) is kept whole rather than lost.
fn drop_older_than(batch: &mut EncodedBatch, cutoff: i64) -> u64 {
    let mut dropped = 0u64;
    batch.series.retain_mut(|encoded| {
        if encoded.samples == 0 || encoded.min_ts >= cutoff {
            return true;
        }
        let mut series = match encoded.decode() {
            Ok(series) => series,
            Err(e) => {
                tracing::error!("ttl: a stored series does not decode, keeping it: {e}");
                return true;
            }
        };
        let before = series.samples.len();
        series.samples.retain(|x| x.timestamp_ms >= cutoff);
        dropped += (before - series.samples.len()) as u64;
        if series.samples.is_empty() {
            return false;
        }
        *encoded = EncodedSeries::from_series(&series);
        true
    });
    dropped
}

/// Errors of the queue.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueueError {
    #[error("WAL: {0}")]
    Wal(String),
    #[error("the queue is closed")]
    Closed,
}

impl From<WalError> for QueueError {
    fn from(e: WalError) -> Self {
        QueueError::Wal(e.to_string())
    }
}

/// Component-wide settings that apply to a queue.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueOptions {
    /// Samples older than this at append are dropped (reason `ttl`); zero
    /// keeps everything.
    pub ttl: Duration,
    /// Cap on the logical backlog in bytes (reason `wal_size_cap`).
    pub max_wal_size: Option<u64>,
}

/// Resolves when the appended batch is durable (flushed) — the moment a
/// sink may acknowledge its producers.
#[derive(Debug)]
pub struct Ack {
    seq: Option<u64>,
    rx: Option<oneshot::Receiver<Result<(), QueueError>>>,
    /// The WAL queue the batch was stored in, for [`Ack::durable`].
    wal: Option<wal::Queue>,
}

/// First and longest wait between two flushes of [`Ack::durable`].
const DURABLE_RETRY_MIN: Duration = Duration::from_millis(10);
const DURABLE_RETRY_MAX: Duration = Duration::from_secs(1);

impl Ack {
    /// The WAL sequence number of the batch (`None` when nothing was left to
    /// store after the TTL).
    pub fn seq(&self) -> Option<u64> {
        self.seq
    }

    /// Resolves once the batch is durable, whatever became of its queue:
    /// when the queue's own flush failed (a disk error at its last fsync) or
    /// the queue went away before a flush covered the batch, it flushes the
    /// WAL itself, retrying with backoff until that succeeds — the batch was
    /// stored before this `Ack` existed, so any later successful flush
    /// covers it. It never gives up: a sink that cannot persist keeps its
    /// producers waiting rather than acknowledge what may be lost.
    pub async fn durable(mut self, id: &str) {
        let wal = self.wal.take();
        let Err(e) = self.await else {
            return;
        };
        let Some(wal) = wal else {
            return;
        };
        tracing::warn!(component = %id, "the queue did not confirm a flush ({e}): flushing the WAL");
        let mut wait = DURABLE_RETRY_MIN;
        loop {
            let q = wal.clone();
            match tokio::task::spawn_blocking(move || q.flush()).await {
                Ok(Ok(())) => return,
                failed => {
                    tracing::error!(component = %id, "flushing the WAL, retrying: {failed:?}")
                }
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(DURABLE_RETRY_MAX);
        }
    }
}

impl Future for Ack {
    type Output = Result<(), QueueError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.rx.as_mut() {
            None => Poll::Ready(Ok(())),
            Some(rx) => Pin::new(rx)
                .poll(cx)
                .map(|r| r.unwrap_or(Err(QueueError::Closed))),
        }
    }
}

/// Depth of each shard's channel, in parts (memory is bounded by the
/// semaphore; this only bounds the count of tiny/empty parts).
pub(super) const SHARD_CHANNEL: usize = 256;
/// How often the flusher runs without being woken (positions, truncation,
/// gauges).
pub(super) const TICK: Duration = Duration::from_millis(200);
/// How long a close waits for requests in flight before cutting them off.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

pub(super) struct Shared {
    pub(super) cfg: Arc<EndpointConfig>,
    wal: Wal,
    pub(super) q: wal::Queue,
    opts: QueueOptions,
    pub(super) metrics: EndpointMetrics,
    /// Acks of appends waiting for the next flush.
    parked: Mutex<Vec<oneshot::Sender<Result<(), QueueError>>>>,
    /// Wakes the flusher.
    flush_wanted: Notify,
    /// Entries below this sequence number are flushed.
    pub(super) durable_next: AtomicU64,
    /// Wakes the reader after a flush.
    pub(super) flushed: Notify,
    /// The running shards' positions; replaced when the shard count changes.
    positions: Mutex<Arc<Positions>>,
    /// Held while positions are written: by a flush round's [`commit`] from
    /// its snapshot to its flush, and by a reshard from its last commit of
    /// the old layout until the new layout is stored *and* installed here,
    /// so that no commit writes the old shards' positions over the new
    /// layout (which a restart would then resume from, skipping entries).
    pub(super) persisting: Mutex<()>,
    /// Until the first shards start: the next sequence number at the open
    /// (entries below it may have been sent before), with which those
    /// shards resume from the marks stored with their positions.
    pub(super) replay_below: Mutex<Option<u64>>,
    /// Held (shared) by an append from its check of `stop` until its ack is
    /// parked; `close` takes it exclusively once after cancelling `stop`, so
    /// its last flush covers every append that got past the check.
    appending: RwLock<()>,
    /// The newest appended batches, so the reader need not read them back.
    pub(super) tail: Tail,
}

impl Shared {
    pub(super) fn positions(&self) -> Arc<Positions> {
        self.positions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Installs the positions of a new set of shards.
    pub(super) fn set_positions(&self, positions: Arc<Positions>) {
        *self.positions.lock().unwrap_or_else(|e| e.into_inner()) = positions;
    }
}

/// The durable, sharded queue of one endpoint.
pub struct Queue {
    shared: Arc<Shared>,
    /// Stops the reader and the shards between two requests (close).
    stop: CancellationToken,
    /// Stops everything at once (abort, drop); cancels `stop` too.
    cancel: CancellationToken,
    /// The sending side: the scaling supervisor, which runs the reader and
    /// the shards.
    tasks: Mutex<Vec<JoinHandle<()>>>,
    flusher: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("endpoint", &self.shared.cfg.name)
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// Opens the endpoint's queue (WAL queue named after the endpoint) in
    /// `wal` and starts its tasks on the current tokio runtime; resumes
    /// sending from the persisted positions.
    pub fn open(wal: &Wal, cfg: EndpointConfig, opts: QueueOptions) -> Result<Queue, QueueError> {
        let q = wal.queue(&cfg.name)?;
        let shards = scaling::resume_shards(&q, &cfg.queue)?;
        let stored_marks = q.marks()?;
        let (initial, same_layout) = initial_positions(&q, shards)?;
        // Each shard's last request mark, when the shards resume their own
        // positions: the first request after the restart is that one again.
        let mut marks = vec![None; shards];
        if same_layout {
            for (shard, mark) in stored_marks {
                if let Some(slot) = marks.get_mut(shard as usize) {
                    *slot = Some(mark);
                }
            }
        }
        let replay_below = q.next_seq();
        let metrics = EndpointMetrics::new(&cfg.name, &cfg.url);
        metrics.shards.set(shards as i64);
        let cfg = Arc::new(cfg);
        let shared = Arc::new(Shared {
            durable_next: AtomicU64::new(q.next_seq()),
            cfg: cfg.clone(),
            wal: wal.clone(),
            q,
            opts,
            metrics: metrics.clone(),
            parked: Mutex::default(),
            flush_wanted: Notify::new(),
            flushed: Notify::new(),
            positions: Mutex::new(Arc::new(Positions::with_marks(&initial, &marks))),
            replay_below: Mutex::new(Some(replay_below)),
            persisting: Mutex::new(()),
            appending: RwLock::new(()),
            tail: Tail::new(cfg.queue.capacity.saturating_mul(cfg.queue.shards())),
        });
        tracing::info!(
            remote_name = %cfg.name, url = %cfg.url, shards,
            resume_from = initial.iter().min().copied().unwrap_or(0),
            backlog_samples = shared.q.backlog_samples().unwrap_or(0),
            "remote write queue opened"
        );
        let cancel = CancellationToken::new();
        let stop = cancel.child_token();
        let sender = Arc::new(Sender::new(sender::client(), cfg.clone(), metrics.clone()));
        let tasks = vec![tokio::spawn(scaling::supervise(
            shared.clone(),
            sender,
            shards,
            stop.clone(),
            cancel.clone(),
        ))];
        let flusher = tokio::spawn(flush_loop(shared.clone(), cancel.clone()));
        Ok(Queue {
            shared,
            stop,
            cancel,
            tasks: Mutex::new(tasks),
            flusher: Mutex::new(Some(flusher)),
        })
    }

    /// Stores `batch` in the WAL; the returned [`Ack`] resolves once a flush
    /// covers it. Samples older than `ttl` are dropped first (counted).
    pub fn append(&self, batch: Batch) -> Result<Ack, QueueError> {
        self.append_shared(&mut Arc::new(EncodedBatch::from_batch(&batch)))
    }

    /// As [`Queue::append`], for a batch in wire form shared with other
    /// queues: a sink feeding several endpoints encodes a batch once and
    /// stores it in each, and keeps it to retry when the queue was closed
    /// under it (a reload). Samples older than `ttl` are removed from
    /// `batch` (copied first if it is shared).
    pub fn append_shared(&self, batch: &mut Arc<EncodedBatch>) -> Result<Ack, QueueError> {
        let _appending = self
            .shared
            .appending
            .read()
            .unwrap_or_else(|e| e.into_inner());
        if self.stop.is_cancelled() {
            return Err(QueueError::Closed);
        }
        let m = &self.shared.metrics;
        if !self.shared.opts.ttl.is_zero() {
            let cutoff = now_ms() - self.shared.opts.ttl.as_millis() as i64;
            if batch
                .series
                .iter()
                .any(|s| s.samples > 0 && s.min_ts < cutoff)
            {
                let dropped = drop_older_than(Arc::make_mut(batch), cutoff);
                if dropped > 0 {
                    m.dropped(reason::TTL, dropped);
                    tracing::warn!(
                        remote_name = %self.shared.cfg.name, samples = dropped,
                        "dropping samples older than ttl at append"
                    );
                }
            }
        }
        if batch.series.is_empty() {
            return Ok(Ack {
                seq: None,
                rx: None,
                wal: None,
            });
        }
        let highest = batch
            .series
            .iter()
            .filter(|s| s.samples > 0)
            .map(|s| s.max_ts)
            .max()
            .unwrap_or(0);
        let seq = self.shared.q.append_encoded(batch)?;
        self.shared
            .tail
            .push(seq, Arc::clone(batch), m.backlog_samples().max(0) as u64);
        EndpointMetrics::raise(&m.highest_ts, highest as f64 / 1000.0);
        let (tx, rx) = oneshot::channel();
        self.shared
            .parked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx);
        self.shared.flush_wanted.notify_one();
        Ok(Ack {
            seq: Some(seq),
            rx: Some(rx),
            wal: Some(self.shared.q.clone()),
        })
    }

    /// The endpoint's metric handles.
    pub fn metrics(&self) -> &EndpointMetrics {
        &self.shared.metrics
    }

    /// The endpoint configuration the queue runs with.
    pub fn config(&self) -> &EndpointConfig {
        &self.shared.cfg
    }

    /// Samples stored and not yet delivered by every shard.
    pub fn backlog_samples(&self) -> Result<u64, QueueError> {
        Ok(self.shared.q.backlog_samples()?)
    }

    /// Every shard's current (in-memory) position.
    pub fn positions(&self) -> Vec<u64> {
        self.shared.positions().snapshot()
    }

    /// Stops sending, persists the shards' positions with a last flush, and
    /// waits for every task. Appends acknowledged before are in the WAL and
    /// are sent after the next [`Queue::open`]; appends still waiting for a
    /// flush are resolved by this last one. Later appends fail with
    /// [`QueueError::Closed`].
    pub async fn close(&self) -> Result<(), QueueError> {
        self.stop.cancel();
        let mut senders = self.take_senders();
        let grace = self.shared.cfg.remote_timeout.min(CLOSE_GRACE);
        let mut finished = 0;
        let graceful = tokio::time::timeout(grace, async {
            for t in senders.iter_mut() {
                let _ = t.await;
                finished += 1;
            }
        })
        .await;
        if graceful.is_err() {
            tracing::warn!(remote_name = %self.shared.cfg.name, "requests still in flight after {grace:?}: cut off (they are sent again later)");
        }
        self.cancel.cancel();
        for t in senders
            .into_iter()
            .skip(finished)
            .chain(self.take_flusher())
        {
            let _ = t.await;
        }
        let shared = self.shared.clone();
        let res = tokio::task::spawn_blocking(move || {
            // Appends that passed the check of `stop` finish storing and
            // parking first; later ones see it cancelled.
            drop(shared.appending.write().unwrap_or_else(|e| e.into_inner()));
            commit(&shared)
        })
        .await
        .unwrap_or_else(|e| Err(QueueError::Wal(e.to_string())));
        for ack in self.shared.take_parked() {
            let _ = ack.send(res.clone());
        }
        res
    }

    /// Stops every task at once without a final flush — what a crash does to
    /// the sending side (tests use it to simulate restarts). Waits until the
    /// tasks are gone.
    pub async fn abort(&self) {
        self.cancel.cancel();
        for t in self.take_senders().into_iter().chain(self.take_flusher()) {
            t.abort();
            let _ = t.await;
        }
    }

    fn take_senders(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn take_flusher(&self) -> Option<JoinHandle<()>> {
        self.flusher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

impl Shared {
    fn take_parked(&self) -> Vec<oneshot::Sender<Result<(), QueueError>>> {
        std::mem::take(&mut *self.parked.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.cancel.cancel();
        for t in self
            .tasks
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            t.abort();
        }
    }
}

/// Positions to resume from: the persisted ones, or — when the shard count
/// changed — the lowest persisted one for every shard.
/// Also whether they are the stored ones of the same shard count.
pub(super) fn initial_positions(
    q: &wal::Queue,
    shards: usize,
) -> Result<(Vec<u64>, bool), QueueError> {
    let stored = q.positions()?;
    let same_layout = stored.is_empty()
        || (stored.len() == shards && stored.iter().all(|(s, _)| (*s as usize) < shards));
    if same_layout {
        let mut out = vec![0u64; shards];
        for (s, p) in stored {
            out[s as usize] = p;
        }
        return Ok((out, true));
    }
    let min = stored.iter().map(|(_, p)| *p).min().unwrap_or(0);
    tracing::info!(
        queue = q.name(),
        old_shards = stored.len(),
        shards,
        resume_from = min,
        "shard count changed: every shard resumes from the lowest old position"
    );
    let positions = vec![min; shards];
    q.store_positions(&positions)?;
    q.flush()?;
    Ok((positions, false))
}

/// Writes moved positions, flushes once, truncates below the (now durable)
/// lowest position, enforces the size cap and refreshes the gauges. Runs on
/// the blocking pool.
pub(super) fn commit(shared: &Shared) -> Result<(), QueueError> {
    let _persisting = shared.persisting.lock().unwrap_or_else(|e| e.into_inner());
    commit_persisting(shared)
}

/// [`commit`], for a caller that holds `shared.persisting`.
pub(super) fn commit_persisting(shared: &Shared) -> Result<(), QueueError> {
    let positions = shared.positions();
    // Positions first: a shard sets its mark before it moves its position,
    // so the marks read after are at least as new as the positions.
    let snapshot = positions.snapshot();
    let (version, marks) = positions.marks();
    shared.q.store_positions_and_marks(&snapshot, &marks)?;
    let next = shared.q.next_seq();
    shared.q.flush()?;
    shared.durable_next.fetch_max(next, Ordering::AcqRel);
    positions.marks_durable(version);
    Ok(())
}

fn maintain(shared: &Shared, positions: &[u64], disk: bool) -> Result<(), QueueError> {
    let m = &shared.metrics;
    if let Some(min) = positions.iter().min() {
        shared.q.truncate_below(*min)?;
    }
    if let Some(cap) = shared.opts.max_wal_size {
        let report = shared.q.enforce_size_cap(cap)?;
        if report.entries > 0 {
            // What the cap dropped (and counted) must not be sent from
            // memory either; an empty WAL means every entry stored so far.
            let first = match shared.q.first_seq()? {
                Some(first) => first,
                None => shared.q.next_seq(),
            };
            shared.tail.evict_below(first);
        }
        if report.samples > 0 {
            m.dropped(reason::WAL_SIZE_CAP, report.samples);
            tracing::warn!(
                remote_name = %shared.cfg.name,
                entries = report.entries, samples = report.samples, bytes = report.bytes,
                max_wal_size = cap,
                "WAL over max_wal_size: dropped the oldest entries"
            );
        }
    }
    m.wal_bytes.set(shared.q.backlog_bytes()? as i64);
    m.backlog_samples.set(shared.q.backlog_samples()? as i64);
    if disk {
        m.wal_disk_bytes.set(shared.wal.size_on_disk()? as i64);
    }
    Ok(())
}

async fn flush_loop(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut last_positions = shared.positions().snapshot();
    let mut rounds = 0u64;
    let mut progress = Progress::new();
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            _ = shared.flush_wanted.notified() => {}
            _ = moved(&shared) => {}
            _ = tokio::time::sleep(TICK) => {}
        }
        rounds += 1;
        let acks = shared.take_parked();
        let current = shared.positions();
        let positions = current.snapshot();
        // Marks pending in the positions installed now (a reshard replaces
        // them, and their versions start again).
        let work = !acks.is_empty() || positions != last_positions || current.marks_pending();
        let s = shared.clone();
        let p = positions.clone();
        let disk = rounds.is_multiple_of(5);
        let res = tokio::task::spawn_blocking(move || {
            if work {
                commit(&s)?;
            }
            // Housekeeping failures do not make the flush less durable.
            if let Err(e) = maintain(&s, &p, disk) {
                tracing::error!(remote_name = %s.cfg.name, "WAL maintenance: {e}");
            }
            Ok(())
        })
        .await
        .unwrap_or_else(|e| Err(QueueError::Wal(e.to_string())));
        match &res {
            Ok(()) => {
                last_positions = positions;
                for ack in acks {
                    let _ = ack.send(Ok(()));
                }
            }
            Err(e) => {
                // Not durable yet: the appends stay parked for the next
                // round, so an acknowledgement always means "flushed".
                tracing::error!(remote_name = %shared.cfg.name, "WAL flush: {e}");
                shared
                    .parked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(acks);
            }
        }
        if work {
            shared.flushed.notify_one();
        }
        let m = &shared.metrics;
        progress.observe(
            &shared.cfg.name,
            m.backlog_samples().max(0) as u64,
            m.samples_total(),
            std::time::Instant::now(),
        );
    }
}

/// A shard moved its position (of the shards running now).
async fn moved(shared: &Shared) {
    let positions = shared.positions();
    positions.moved.notified().await
}
