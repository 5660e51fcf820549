//! One shard's send loop: `reader ─▶ shard i ─▶ sender`.
//!
//! The reader gives shard `i` the part of every WAL entry whose series hash
//! to `i` (`labels.stable_hash() % shards`), in sequence order, so the
//! samples of one series reach the endpoint in the order they were
//! appended: a series always lands in the same shard, and a shard sends one
//! request at a time.
//!
//! The shard buffers parts, cuts requests of at most `max_samples_per_send`
//! samples (or whatever has waited `batch_send_deadline`) and hands them to
//! the [`Sender`]. Series arrive in wire form and are copied into the request
//! as they are; only a series that something must change on the way out
//! (`write_relabel_config`, external labels, `sample_age_limit`) is decoded,
//! changed and encoded again. A series in wire form is never split: a
//! request ends before one that does not fit. After each delivered
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
//! series of a shard that already delivered an entry are skipped.
//!
//! Crash safety against a strict receiver (one without an out-of-order
//! window refuses a whole request if any sample in it is older than what it
//! has of that series): before each request the shard persists a *request
//! mark* — the entry, series and sample it starts at, and its size — and
//! waits for a flush; after a delivered request it records where the next
//! one starts. A restarted shard skips to its mark and sends exactly the
//! marked request again, which the receiver has all of (refused as out of
//! order, counted as neither sent nor dropped) or none of, then cuts only
//! full requests — which depend only on where they start, so they are the
//! ones cut before the crash — until entries appended after the restart
//! arrive (details on [`Shard::run`]). Requests are re-delivered whole,
//! never mixed with new samples; only a request cut short by the deadline
//! waits for a flush of its mark before it is sent.
//!
//! Memory: each part holds permits of the shard's semaphore (`capacity`
//! samples, `queue_config.capacity`), released when the part is fully sent,
//! so a shard holds at most `capacity` samples (or one entry, if larger)
//! however large the backlog on disk is.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::body::Bytes;
use smelter_storage::model::{Labels, Series};
use smelter_storage::remote_write::{EncodeError, EncodedSeries, Encoder};
use smelter_storage::wal::RequestMark;
use tokio::sync::{mpsc, watch, Notify, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::args::EndpointConfig;
use super::metrics::{reason, EndpointMetrics};
use super::sender::{Outcome, Sender};
use crate::components::common::relabel::{self, LabelSet, Scratch, SortedLabels};

/// The series of one WAL entry that belong to one shard.
pub(super) struct Part {
    pub seq: u64,
    pub series: Vec<EncodedSeries>,
    /// Semaphore permits for the samples of this part; released when the
    /// part is fully sent.
    pub permit: Option<OwnedSemaphorePermit>,
}

/// Positions shared between the shards (writers) and the flusher (reader),
/// and the shards' request marks, which the flusher persists and the
/// shards wait for.
pub(super) struct Positions {
    pub shards: Vec<AtomicU64>,
    /// Wakes the flusher when a position moved or a mark was set.
    pub moved: Notify,
    marks: Vec<Mutex<Option<RequestMark>>>,
    /// Bumped after every mark set; the flusher persists the marks of the
    /// version it read and then publishes it in `durable`.
    marks_version: AtomicU64,
    durable: watch::Sender<u64>,
}

impl Positions {
    pub fn new(initial: &[u64]) -> Positions {
        Positions::with_marks(initial, &[])
    }

    /// Positions and the marks stored with them (a restart keeps them until
    /// each shard sets a new one).
    pub fn with_marks(initial: &[u64], marks: &[Option<RequestMark>]) -> Positions {
        Positions {
            shards: initial.iter().map(|p| AtomicU64::new(*p)).collect(),
            moved: Notify::new(),
            marks: (0..initial.len())
                .map(|i| Mutex::new(marks.get(i).copied().flatten()))
                .collect(),
            marks_version: AtomicU64::new(0),
            durable: watch::Sender::new(0),
        }
    }

    /// The version of the marks and the marks (read in that order, so the
    /// marks are at least that version's).
    pub fn marks(&self) -> (u64, Vec<Option<RequestMark>>) {
        let version = self.marks_version.load(Ordering::Acquire);
        let marks = self
            .marks
            .iter()
            .map(|m| *m.lock().unwrap_or_else(|e| e.into_inner()))
            .collect();
        (version, marks)
    }

    /// The marks of `version` are durable.
    pub fn marks_durable(&self, version: u64) {
        self.durable.send_if_modified(|d| {
            let newer = version > *d;
            if newer {
                *d = version;
            }
            newer
        });
    }

    /// Whether a mark was set since the last one made durable.
    pub fn marks_pending(&self) -> bool {
        self.marks_version.load(Ordering::Acquire) > *self.durable.borrow()
    }

    /// Sets shard `shard`'s mark and waits until a flush made it durable.
    async fn mark(&self, shard: usize, mark: RequestMark) {
        let version = self.set_mark(shard, mark);
        let mut durable = self.durable.subscribe();
        self.moved.notify_one();
        let _ = durable.wait_for(|d| *d >= version).await;
    }

    /// Sets shard `shard`'s mark (persisted with the next flush).
    fn set_mark(&self, shard: usize, mark: RequestMark) -> u64 {
        *self.marks[shard].lock().unwrap_or_else(|e| e.into_inner()) = Some(mark);
        self.marks_version.fetch_add(1, Ordering::AcqRel) + 1
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
    /// Its index among the series of its entry that hash to this shard
    /// (before any was dropped on the way out): what a request mark names.
    index: u32,
    series: Pending,
    /// Samples of `series` already sent (only a decoded series is split).
    sent: usize,
}

impl Waiting {
    /// A request mark starting here (its size still to be set).
    fn mark(&self) -> RequestMark {
        RequestMark {
            seq: self.seq,
            index: self.index,
            sent: u32::try_from(self.sent).unwrap_or(u32::MAX),
            samples: 0,
        }
    }
}

/// A series as it will be sent.
enum Pending {
    /// Unchanged since the WAL: copied into the request.
    Encoded(EncodedSeries),
    /// Changed on the way out: encoded when the request is built.
    Decoded(Series),
}

impl Pending {
    fn samples(&self) -> usize {
        match self {
            Pending::Encoded(e) => e.samples as usize,
            Pending::Decoded(s) => s.samples.len(),
        }
    }
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

    /// Whether every series leaves as it came (no rules, no external
    /// labels): then series are not decoded at all.
    pub fn is_identity(&self) -> bool {
        self.rules.is_empty() && self.external.is_empty()
    }

    /// The labels to send, or `None` when a rule drops the series.
    pub fn rewrite(&mut self, labels: &Labels) -> Option<Labels> {
        if self.is_identity() {
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
    /// After a restart: the request this shard had marked last, which it
    /// sends again first, exactly (see [`Shard::run`]), and the first entry
    /// appended after the restart.
    pub resume: Option<(RequestMark, u64)>,
}

/// How long a resumed shard waits for the rest of its marked request
/// before sending what it has (only when its samples can no longer all
/// come: a changed `sample_age_limit` or relabeling).
const RESUME_STALL: Duration = Duration::from_secs(2);

impl Shard {
    /// Runs until the reader closes the channel, `stop` fires between two
    /// requests, or `cancel` fires. A request in flight is finished on
    /// `stop`: cut off, it may or may not have been delivered, and sending
    /// it again could make a strict receiver refuse the whole next request
    /// as out of order.
    ///
    /// Crash safety against a strict receiver, which refuses a whole
    /// request when any sample in it is older than what it has of that
    /// series: every request is sent again after a crash exactly as it was
    /// cut before, so the receiver has all of it (refused as out of order:
    /// nothing is lost) or none of it, never a mix. The shard records where
    /// each request starts and how many samples it holds (its *mark*), and
    /// where the next one starts once it is done; the flusher persists the
    /// marks with the positions. A *full* request (cut at
    /// `max_samples_per_send`, or before a series that does not fit) is
    /// determined by where it starts, so a restart that cuts only full
    /// requests from an older mark cuts the same ones again; a request cut
    /// short (by `batch_send_deadline`) is not, so the shard waits until its
    /// mark is durable before sending it. After a restart the shard skips
    /// to its stored mark, sends the marked request again when it held one,
    /// and cuts only full requests until entries appended after the restart
    /// arrive (or none can come: 2 s without any).
    pub async fn run(mut self) {
        let max = self.cfg.queue.max_samples_per_send;
        let deadline_after = self.cfg.queue.batch_send_deadline;
        let age_limit = self.cfg.queue.sample_age_limit;
        let mut rewriter = LabelRewriter::new(&self.cfg);
        let mut waiting: VecDeque<Waiting> = VecDeque::new();
        let mut permits: VecDeque<(u64, OwnedSemaphorePermit)> = VecDeque::new();
        let mut buffered = 0usize;
        let mut last_seq: Option<u64> = None;
        let mut deadline: Option<Instant> = None;
        let mut open = true;
        // Resuming after a restart: where the first request starts, and
        // its size when one was in flight.
        let mut skip = self.resume.map(|(m, _)| (m.seq, m.index, m.sent));
        // Entries below this existed before the restart: cut only full
        // requests from them (0: not resuming).
        let mut replay_below = self.resume.map_or(0, |(_, below)| below);
        let mut resume = self.resume.take().map(|(m, _)| m).filter(|m| m.samples > 0);
        let mut last_part = Instant::now();
        loop {
            let due = deadline.is_some_and(|d| d <= Instant::now());
            // Resuming: the marked request, whole (its samples are all in
            // the WAL), then only full requests, unless no more can come.
            let replaying = resume.is_some() || replay_below > 0;
            let want = resume.map_or(max, |m| (m.samples as usize).max(1));
            let ready = if replaying {
                let stalled = last_part.elapsed() >= RESUME_STALL;
                buffered >= want || (buffered > 0 && (!open || stalled))
            } else {
                buffered >= max || (buffered > 0 && (due || !open))
            };
            if ready {
                let start = waiting.front().map(Waiting::mark);
                // The stored marked request, sent again: its mark stands.
                let exact = resume.take().is_some();
                // Cut from entries that existed before the restart: the
                // receiver may have this request already.
                let resent = exact || replay_below > 0;
                // Cut before a series that does not fit: as determined by the
                // start as a request of `max` samples.
                let full = buffered >= want;
                let request = build_request(&mut waiting, &mut buffered, want);
                if let (Some(mut mark), false, Ok(_)) = (start, exact, &request.2) {
                    mark.samples = u32::try_from(request.0).unwrap_or(u32::MAX);
                    if !full {
                        tokio::select! {
                            biased;
                            _ = self.cancel.cancelled() => return,
                            _ = self.positions.mark(self.index, mark) => {}
                        }
                    } else {
                        self.positions.set_mark(self.index, mark);
                    }
                }
                match request {
                    (n, _, Err(e)) => {
                        // Only inputs of 4 GiB and more; max_samples_per_send
                        // keeps requests far below that.
                        tracing::error!(remote_name = %self.cfg.name, "encoding a request: {e}");
                        self.metrics.failed.inc_by(n);
                        self.metrics.dropped("encode", n);
                    }
                    (n, highest, Ok(body)) => {
                        let outcome = self
                            .sender
                            .send(body, n, resent, &self.stop, &self.cancel)
                            .await;
                        match outcome {
                            Outcome::Cancelled => return,
                            Outcome::Delivered => {
                                EndpointMetrics::raise(&self.metrics.highest_sent_ts, highest);
                            }
                            Outcome::AlreadyThere => tracing::info!(
                                remote_name = %self.cfg.name, shard = self.index, samples = n,
                                "a request sent again after the restart was at the receiver already"
                            ),
                            Outcome::Dropped => {}
                        }
                    }
                }
                let pos = match waiting.front() {
                    Some(w) => w.seq,
                    None => last_seq.map_or(0, |s| s + 1),
                };
                while permits.front().is_some_and(|(seq, _)| *seq < pos) {
                    permits.pop_front();
                }
                // Where the next request starts, exactly (nothing in
                // flight), before the position moves: see `Positions`.
                let next = waiting.front().map_or(
                    RequestMark {
                        seq: pos,
                        index: 0,
                        sent: 0,
                        samples: 0,
                    },
                    Waiting::mark,
                );
                self.positions.set_mark(self.index, next);
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
                _ = sleep_until_opt(if replaying {
                    Some(last_part + RESUME_STALL)
                } else {
                    deadline
                }) => continue,
            };
            let Some(part) = part else {
                open = false;
                continue;
            };
            last_seq = Some(part.seq);
            last_part = Instant::now();
            if part.seq >= replay_below {
                replay_below = 0;
            }
            // Resuming: everything before the mark was delivered.
            let skip_before = match skip {
                Some((seq, _, _)) if part.seq < seq => Some((u32::MAX, 0)),
                Some((seq, index, sent)) if part.seq == seq => {
                    skip = None;
                    Some((index, sent))
                }
                Some(_) => {
                    // The mark lay wholly below this shard's position: what
                    // it named was delivered.
                    skip = None;
                    resume = None;
                    None
                }
                None => None,
            };
            let cutoff = (!age_limit.is_zero()).then(|| now_ms() - age_limit.as_millis() as i64);
            for (index, encoded) in part.series.into_iter().enumerate() {
                let index = u32::try_from(index).unwrap_or(u32::MAX);
                let mut sent = 0usize;
                if let Some((first, first_sent)) = skip_before {
                    if index < first {
                        continue;
                    }
                    if index == first {
                        sent = first_sent as usize;
                    }
                }
                let fast = sent == 0
                    && rewriter.is_identity()
                    && self.cfg.send_exemplars
                    && cutoff.is_none_or(|c| encoded.min_ts >= c)
                    && encoded.samples as usize <= max;
                let series = if fast {
                    Pending::Encoded(encoded)
                } else {
                    match self.change(encoded, &mut rewriter, cutoff) {
                        Some(series) => Pending::Decoded(series),
                        None => continue,
                    }
                };
                if series.samples() <= sent {
                    continue;
                }
                buffered += series.samples() - sent;
                waiting.push_back(Waiting {
                    seq: part.seq,
                    index,
                    series,
                    sent,
                });
            }
            if let Some(p) = part.permit {
                permits.push_back((part.seq, p));
            }
            if buffered == 0 {
                // Nothing of this entry to send: the shard is done with it.
                permits.clear();
                if skip.is_none() && resume.is_none() {
                    self.positions.set_mark(
                        self.index,
                        RequestMark {
                            seq: part.seq + 1,
                            index: 0,
                            sent: 0,
                            samples: 0,
                        },
                    );
                }
                self.positions.advance(self.index, part.seq + 1);
            } else if deadline.is_none() {
                deadline = Some(Instant::now() + deadline_after);
            }
        }
    }
}

impl Shard {
    /// Decodes a series and applies what changes it on the way out: label
    /// rewriting and `sample_age_limit`. `None` when nothing of it is left
    /// to send (every drop counted).
    fn change(
        &self,
        encoded: EncodedSeries,
        rewriter: &mut LabelRewriter,
        cutoff: Option<i64>,
    ) -> Option<Series> {
        let mut series = match encoded.decode() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(remote_name = %self.cfg.name, "skipping a corrupt series from the WAL: {e}");
                self.metrics
                    .dropped(reason::CORRUPT, u64::from(encoded.samples).max(1));
                return None;
            }
        };
        let Some(labels) = rewriter.rewrite(&series.labels) else {
            self.metrics
                .dropped(reason::RELABEL, series.samples.len() as u64);
            return None;
        };
        series.labels = labels;
        if !self.cfg.send_exemplars {
            series.exemplars.clear();
        }
        if let Some(cutoff) = cutoff {
            let before = series.samples.len();
            series.samples.retain(|s| s.timestamp_ms >= cutoff);
            self.metrics
                .dropped(reason::TOO_OLD, (before - series.samples.len()) as u64);
        }
        (!series.samples.is_empty()).then_some(series)
    }
}

thread_local! {
    /// One encoder per runtime thread rather than per shard: its buffers
    /// hold a whole request twice (protobuf and compressed) plus snappy's
    /// table, and a scaled-up endpoint runs up to `max_shards` shards, while
    /// only as many requests are encoded at once as there are threads.
    static ENCODER: RefCell<Encoder> = RefCell::new(Encoder::default());
}

/// Cuts the next request (up to `max` samples) from the front of `waiting`
/// and compresses it: the body, its sample count and the highest timestamp
/// in seconds. Runs without an await, so the thread's encoder is never
/// shared between two shards' requests.
fn build_request(
    waiting: &mut VecDeque<Waiting>,
    buffered: &mut usize,
    max: usize,
) -> (u64, f64, Result<Bytes, EncodeError>) {
    ENCODER.with(|encoder| {
        let mut encoder = encoder.borrow_mut();
        let (n, highest) = cut(waiting, buffered, max, &mut encoder);
        let body = encoder.finish().map(Bytes::copy_from_slice);
        (n, highest, body)
    })
}

/// Adds up to `max` samples from the front of `waiting` to the request
/// `encoder` holds. Returns the sample count and the highest timestamp in
/// seconds.
fn cut(
    waiting: &mut VecDeque<Waiting>,
    buffered: &mut usize,
    max: usize,
    encoder: &mut Encoder,
) -> (u64, f64) {
    encoder.begin();
    let mut n = 0usize;
    let mut highest = i64::MIN;
    while n < max {
        let Some(w) = waiting.front_mut() else { break };
        let samples = match &mut w.series {
            Pending::Encoded(e) => {
                let k = e.samples as usize;
                if n > 0 && k > max - n {
                    // Not split: the next request starts with it.
                    break;
                }
                encoder.push_encoded(e);
                highest = highest.max(e.max_ts);
                n += k;
                waiting.pop_front();
                continue;
            }
            Pending::Decoded(series) => series,
        };
        let left = samples.samples.len() - w.sent;
        let take = left.min(max - n);
        if let Some(last) = samples.samples[..w.sent + take].last() {
            highest = highest.max(last.timestamp_ms);
        }
        n += take;
        if w.sent == 0 && take == left {
            encoder.push_series(samples);
            waiting.pop_front();
            continue;
        }
        let part = Series::new(
            samples.labels.clone(),
            samples.samples[w.sent..w.sent + take].to_vec(),
        );
        encoder.push_series(&part);
        w.sent += take;
        if w.sent == samples.samples.len() {
            waiting.pop_front();
        }
    }
    *buffered -= n;
    (n as u64, highest as f64 / 1000.0)
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
    use smelter_storage::remote_write::decode;

    fn series(name: &str, n: usize) -> Series {
        Series::new(
            Labels::from_pairs([("__name__", name)]),
            (0..n)
                .map(|i| Sample::new(i as f64, i as i64 * 1000))
                .collect(),
        )
    }

    fn decoded(seq: u64, name: &str, n: usize) -> Waiting {
        Waiting {
            seq,
            index: 0,
            series: Pending::Decoded(series(name, n)),
            sent: 0,
        }
    }

    fn encoded(seq: u64, name: &str, n: usize) -> Waiting {
        Waiting {
            seq,
            index: 0,
            series: Pending::Encoded(EncodedSeries::from_series(&series(name, n))),
            sent: 0,
        }
    }

    fn request(enc: &mut Encoder) -> Vec<Series> {
        decode(enc.finish().unwrap(), 1 << 20).unwrap().series
    }

    #[test]
    fn cut_splits_decoded_series_and_keeps_order() {
        let mut w: VecDeque<Waiting> =
            [decoded(1, "a", 3), decoded(1, "b", 4), decoded(2, "a", 2)].into();
        let mut buffered = 9;
        let mut enc = Encoder::default();
        let (n, highest) = cut(&mut w, &mut buffered, 5, &mut enc);
        assert_eq!(n, 5);
        assert_eq!(buffered, 4);
        let got = request(&mut enc);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].samples.len(), 3);
        assert_eq!(got[1].samples.len(), 2);
        assert_eq!(highest, 2.0);
        // The rest of "b" (entry 1) is still first: the shard's position
        // stays at entry 1 until it is sent.
        assert_eq!(w.front().map(|x| (x.seq, x.sent)), Some((1, 2)));
        let (n, highest) = cut(&mut w, &mut buffered, 5, &mut enc);
        assert_eq!((n, buffered), (4, 0));
        assert_eq!(request(&mut enc)[0].samples[0].timestamp_ms, 2000);
        assert_eq!(highest, 3.0);
        assert!(w.is_empty());
    }

    #[test]
    fn cut_never_splits_an_encoded_series() {
        let mut w: VecDeque<Waiting> =
            [encoded(1, "a", 3), encoded(1, "b", 4), encoded(2, "c", 2)].into();
        let mut buffered = 9;
        let mut enc = Encoder::default();
        let (n, highest) = cut(&mut w, &mut buffered, 5, &mut enc);
        assert_eq!((n, buffered, highest), (3, 6, 2.0));
        assert_eq!(request(&mut enc), vec![series("a", 3)]);
        let (n, _) = cut(&mut w, &mut buffered, 5, &mut enc);
        assert_eq!((n, buffered), (4, 2));
        let (n, _) = cut(&mut w, &mut buffered, 5, &mut enc);
        assert_eq!((n, buffered), (2, 0));
        assert_eq!(request(&mut enc), vec![series("c", 2)]);
    }
}
