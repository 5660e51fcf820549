//! One shard's send loop: `reader ─▶ shard i ─▶ sender`.
//!
//! The reader gives shard `i` the part of every WAL entry whose series hash
//! to `i` (`labels.stable_hash() % shards`), in sequence order, so the
//! samples of one series reach the endpoint in the order they were
//! appended: a series always lands in the same shard, and a shard sends one
//! request at a time.
//!
//! The shard buffers parts, cuts requests of at most `max_samples_per_send`
//! samples (or whatever has waited `batch_send_deadline`), encodes them with
//! remote write 1.0 and hands them to the [`Sender`]. After each delivered
//! (or refused-for-good) request it publishes its *position*: the lowest
//! WAL sequence number it still holds samples of, or one past the last
//! entry it received when it holds nothing. Every entry below that position
//! is done as far as this shard is concerned; the flusher persists positions
//! with the next group commit and truncates the WAL below the lowest one.
//!
//! How a WAL entry spanning several shards is "done": the reader sends every
//! shard a part of every entry — an empty part when no series of the entry
//! is the shard's — so each shard's position moves past entries it had
//! nothing to do with; an entry is done when every shard's position is past
//! it. On restart the reader starts at the lowest persisted position and
//! gives each shard only the entries at or above *its own* position: the
//! series of a shard that already delivered an entry are skipped, so the
//! re-delivery window is, per shard, the samples of the entry it was in the
//! middle of (at most one request's worth plus the rest of that entry).
//!
//! Memory: each part holds permits of the shard's semaphore (`capacity`
//! samples, `queue_config.capacity`), released when the part is fully sent,
//! so a shard holds at most `capacity` samples (or one entry, if larger)
//! however large the backlog on disk is.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::body::Bytes;
use smelter_storage::model::{Batch, Labels, Series};
use smelter_storage::remote_write::Encoder;
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::args::EndpointConfig;
use super::metrics::{reason, EndpointMetrics};
use super::sender::{Outcome, Sender};
use crate::components::common::relabel::{self, LabelSet, Scratch, SortedLabels};

/// The series of one WAL entry that belong to one shard.
pub(super) struct Part {
    pub seq: u64,
    pub series: Vec<Series>,
    /// Semaphore permits for the samples of this part; released when the
    /// part is fully sent.
    pub permit: Option<OwnedSemaphorePermit>,
}

/// Positions shared between the shards (writers) and the flusher (reader).
pub(super) struct Positions {
    pub shards: Vec<AtomicU64>,
    /// Wakes the flusher when a position moved.
    pub moved: Notify,
}

impl Positions {
    pub fn new(initial: &[u64]) -> Positions {
        Positions {
            shards: initial.iter().map(|p| AtomicU64::new(*p)).collect(),
            moved: Notify::new(),
        }
    }

    pub fn get(&self, shard: usize) -> u64 {
        self.shards[shard].load(Ordering::Acquire)
    }

    pub fn snapshot(&self) -> Vec<u64> {
        self.shards
            .iter()
            .map(|p| p.load(Ordering::Acquire))
            .collect()
    }

    fn advance(&self, shard: usize, pos: u64) {
        if self.shards[shard].fetch_max(pos, Ordering::AcqRel) < pos {
            self.moved.notify_one();
        }
    }
}

/// A series waiting in a shard, with the entry it came from.
struct Waiting {
    seq: u64,
    series: Series,
    /// Samples of `series` already sent.
    sent: usize,
}

/// Rewrites series labels on the way out: external labels, then
/// `write_relabel_config`.
pub(super) struct LabelRewriter {
    rules: Vec<relabel::Rule>,
    external: BTreeMap<String, String>,
    scratch: Scratch,
    labels: SortedLabels,
}

impl LabelRewriter {
    pub fn new(cfg: &EndpointConfig) -> LabelRewriter {
        LabelRewriter {
            rules: cfg.write_relabel.clone(),
            external: cfg.external_labels.clone(),
            scratch: Scratch::default(),
            labels: SortedLabels::new(),
        }
    }

    /// The labels to send, or `None` when a rule drops the series.
    pub fn rewrite(&mut self, labels: &Labels) -> Option<Labels> {
        if self.rules.is_empty() && self.external.is_empty() {
            return Some(labels.clone());
        }
        self.labels.fill_sorted(labels.iter());
        for (k, v) in &self.external {
            if LabelSet::get(&self.labels, k).is_none() {
                self.labels.set(k, v);
            }
        }
        if !relabel::process_series(&self.rules, &mut self.labels, &mut self.scratch) {
            return None;
        }
        Some(Labels::from_pairs(self.labels.iter()))
    }
}

/// Everything one shard loop needs.
pub(super) struct Shard {
    pub index: usize,
    pub cfg: Arc<EndpointConfig>,
    pub rx: mpsc::Receiver<Part>,
    pub sender: Arc<Sender>,
    pub positions: Arc<Positions>,
    pub metrics: EndpointMetrics,
    /// Stop at the next request boundary (a graceful close).
    pub stop: CancellationToken,
    /// Stop at once, even with a request in flight (abort).
    pub cancel: CancellationToken,
}

impl Shard {
    /// Runs until the reader closes the channel, `stop` fires between two
    /// requests, or `cancel` fires. A request in flight is finished on
    /// `stop`: cut off, it may or may not have been delivered, and sending
    /// it again could make a strict receiver refuse the whole next request
    /// as out of order.
    pub async fn run(mut self) {
        let max = self.cfg.queue.max_samples_per_send;
        let deadline_after = self.cfg.queue.batch_send_deadline;
        let age_limit = self.cfg.queue.sample_age_limit;
        let mut rewriter = LabelRewriter::new(&self.cfg);
        let mut encoder = Encoder::default();
        let mut body = Vec::new();
        let mut waiting: VecDeque<Waiting> = VecDeque::new();
        let mut permits: VecDeque<(u64, OwnedSemaphorePermit)> = VecDeque::new();
        let mut buffered = 0usize;
        let mut last_seq: Option<u64> = None;
        let mut deadline: Option<Instant> = None;
        let mut open = true;
        loop {
            let due = deadline.is_some_and(|d| d <= Instant::now());
            if buffered >= max || (buffered > 0 && (due || !open)) {
                let (batch, n, highest) = cut(&mut waiting, &mut buffered, max);
                if let Err(e) = encoder.encode_into(&batch, &mut body) {
                    // Only inputs of 4 GiB and more; max_samples_per_send
                    // keeps requests far below that.
                    tracing::error!(remote_name = %self.cfg.name, "encoding a request: {e}");
                    self.metrics.failed.inc_by(n);
                    self.metrics.dropped("encode", n);
                } else {
                    let outcome = self
                        .sender
                        .send(Bytes::copy_from_slice(&body), n, &self.stop, &self.cancel)
                        .await;
                    match outcome {
                        Outcome::Cancelled => return,
                        Outcome::Delivered => {
                            EndpointMetrics::raise(&self.metrics.highest_sent_ts, highest);
                        }
                        Outcome::Dropped => {}
                    }
                }
                let pos = match waiting.front() {
                    Some(w) => w.seq,
                    None => last_seq.map_or(0, |s| s + 1),
                };
                while permits.front().is_some_and(|(seq, _)| *seq < pos) {
                    permits.pop_front();
                }
                self.positions.advance(self.index, pos);
                deadline = (buffered > 0).then(|| Instant::now() + deadline_after);
                continue;
            }
            if !open {
                return;
            }
            let part = tokio::select! {
                biased;
                _ = self.stop.cancelled() => return,
                p = self.rx.recv() => p,
                _ = sleep_until_opt(deadline) => continue,
            };
            let Some(part) = part else {
                open = false;
                continue;
            };
            last_seq = Some(part.seq);
            let cutoff = (!age_limit.is_zero()).then(|| now_ms() - age_limit.as_millis() as i64);
            for mut series in part.series {
                let Some(labels) = rewriter.rewrite(&series.labels) else {
                    self.metrics
                        .dropped(reason::RELABEL, series.samples.len() as u64);
                    continue;
                };
                series.labels = labels;
                if let Some(cutoff) = cutoff {
                    let before = series.samples.len();
                    series.samples.retain(|s| s.timestamp_ms >= cutoff);
                    self.metrics
                        .dropped(reason::TOO_OLD, (before - series.samples.len()) as u64);
                }
                if series.samples.is_empty() {
                    continue;
                }
                buffered += series.samples.len();
                waiting.push_back(Waiting {
                    seq: part.seq,
                    series,
                    sent: 0,
                });
            }
            if let Some(p) = part.permit {
                permits.push_back((part.seq, p));
            }
            if buffered == 0 {
                // Nothing of this entry to send: the shard is done with it.
                permits.clear();
                self.positions.advance(self.index, part.seq + 1);
            } else if deadline.is_none() {
                deadline = Some(Instant::now() + deadline_after);
            }
        }
    }
}

/// Takes up to `max` samples from the front of `waiting` into a request.
/// Returns the batch, its sample count and its highest timestamp in seconds.
fn cut(waiting: &mut VecDeque<Waiting>, buffered: &mut usize, max: usize) -> (Batch, u64, f64) {
    let mut batch = Batch::default();
    let mut n = 0usize;
    let mut highest = i64::MIN;
    while n < max {
        let Some(w) = waiting.front_mut() else { break };
        let left = w.series.samples.len() - w.sent;
        let take = left.min(max - n);
        if let Some(last) = w.series.samples[..w.sent + take].last() {
            highest = highest.max(last.timestamp_ms);
        }
        n += take;
        if w.sent == 0 && take == left {
            // The whole series fits: move it, no copy (the common case).
            if let Some(w) = waiting.pop_front() {
                batch
                    .series
                    .push(Series::new(w.series.labels, w.series.samples));
            }
            continue;
        }
        let samples = w.series.samples[w.sent..w.sent + take].to_vec();
        batch
            .series
            .push(Series::new(w.series.labels.clone(), samples));
        w.sent += take;
        if w.sent == w.series.samples.len() {
            waiting.pop_front();
        }
    }
    *buffered -= n;
    (batch, n as u64, highest as f64 / 1000.0)
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use smelter_storage::model::Sample;

    fn waiting(seq: u64, name: &str, n: usize) -> Waiting {
        Waiting {
            seq,
            series: Series::new(
                Labels::from_pairs([("__name__", name)]),
                (0..n)
                    .map(|i| Sample::new(i as f64, i as i64 * 1000))
                    .collect(),
            ),
            sent: 0,
        }
    }

    #[test]
    fn cut_splits_series_and_keeps_order() {
        let mut w: VecDeque<Waiting> =
            [waiting(1, "a", 3), waiting(1, "b", 4), waiting(2, "a", 2)].into();
        let mut buffered = 9;
        let (batch, n, highest) = cut(&mut w, &mut buffered, 5);
        assert_eq!(n, 5);
        assert_eq!(buffered, 4);
        assert_eq!(batch.series.len(), 2);
        assert_eq!(batch.series[0].samples.len(), 3);
        assert_eq!(batch.series[1].samples.len(), 2);
        assert_eq!(highest, 2.0);
        // The rest of "b" (entry 1) is still first: the shard's position
        // stays at entry 1 until it is sent.
        assert_eq!(w.front().map(|x| (x.seq, x.sent)), Some((1, 2)));
        let (batch, n, highest) = cut(&mut w, &mut buffered, 5);
        assert_eq!((n, buffered), (4, 0));
        assert_eq!(batch.series[0].samples[0].timestamp_ms, 2000);
        assert_eq!(highest, 3.0);
        assert!(w.is_empty());
    }
}
