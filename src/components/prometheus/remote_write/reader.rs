//! The reader of one remote-write queue: `WAL (or hot tail) ─▶ reader ─▶
//! shards`.
//!
//! It reads *flushed* entries incrementally from the lowest shard position
//! — taken from the hot tail (`tail.rs`) when still held there, else a few
//! at a time from the WAL on the blocking pool — splits each entry's series
//! by `stable_hash() % shards` and hands every shard its part (see
//! `shard.rs` for why every shard gets a part of every entry and how an
//! entry becomes "done"). Backpressure: a part needs permits of its shard's
//! semaphore (`capacity` samples), so the reader stops reading when shards
//! are full; what is in memory is what is in flight, never the backlog.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use smelter_storage::wal::{self, WalError};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use super::metrics::reason;
use super::queue::{Shared, TICK};
use super::shard::Part;

/// Entries the reader decodes per trip to the blocking pool. Small: a
/// chunk is decoded in memory before the shards' permits are asked for,
/// so it adds to what a replay holds (2 000-sample entries: 4 are a fifth
/// of the default in-flight budget), and one trip per few entries costs
/// nothing next to reading them.
const READ_CHUNK: usize = 4;

/// The reader (see the module docs). `between_entries` stops it at an
/// entry boundary, so that every shard got its part of every entry read
/// (resharding needs one common position); `cancel` stops it anywhere
/// (a close: positions stay per shard, which a restart with the same count
/// resumes exactly).
pub(super) async fn read_loop(
    shared: Arc<Shared>,
    shards: Vec<(mpsc::Sender<Part>, Arc<Semaphore>)>,
    capacity: u32,
    initial: Vec<u64>,
    between_entries: CancellationToken,
    cancel: CancellationToken,
) {
    let n = shards.len() as u64;
    let positions = shared.positions();
    let mut next = initial.iter().min().copied().unwrap_or(0);
    loop {
        if between_entries.is_cancelled() {
            return;
        }
        let durable = shared.durable_next.load(Ordering::Acquire);
        if next >= durable {
            tokio::select! {
                _ = between_entries.cancelled() => return,
                _ = shared.flushed.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
            continue;
        }
        let chunk = match shared.tail.take_or_next_held(next) {
            Ok(batch) => vec![Ok(wal::EncodedEntry { seq: next, batch })],
            Err(held) => {
                // Not in memory (a backlog, a restart): read the WAL up to
                // the next entry the tail holds (above `next`, so at least
                // entry `next` is read).
                let s = shared.clone();
                let from = next;
                let until = held.unwrap_or(u64::MAX);
                let take = READ_CHUNK.min(usize::try_from(until - from).unwrap_or(usize::MAX));
                let chunk =
                    tokio::task::spawn_blocking(move || s.q.read_encoded_chunk(from, take)).await;
                let Ok(chunk) = chunk else { return };
                chunk
            }
        };
        let mut progressed = false;
        let mut read_failed = false;
        for item in chunk {
            let entry = match item {
                Ok(e) => e,
                Err(WalError::Corrupt { seq, source, .. }) => {
                    // The sample count of an unreadable entry is unknown:
                    // counted as one dropped sample per corrupt entry.
                    shared.metrics.dropped(reason::CORRUPT, 1);
                    tracing::error!(
                        remote_name = %shared.cfg.name, seq = %seq,
                        "skipping a corrupt WAL entry: {source}"
                    );
                    if let Some(seq) = seq.0 {
                        next = next.max(seq + 1);
                        progressed = true;
                    }
                    continue;
                }
                Err(e) => {
                    tracing::error!(remote_name = %shared.cfg.name, "reading the WAL: {e}");
                    read_failed = true;
                    break;
                }
            };
            if entry.seq >= durable || between_entries.is_cancelled() {
                break;
            }
            let seq = entry.seq;
            let mut parts: Vec<Vec<_>> = (0..n).map(|_| Vec::new()).collect();
            for series in entry.batch.series {
                let i = (series.hash % n) as usize;
                parts[i].push(series);
            }
            for (i, (series, (tx, sem))) in parts.into_iter().zip(&shards).enumerate() {
                if seq < positions.get(i) {
                    // This shard delivered the entry before a restart.
                    continue;
                }
                let samples: usize = series.iter().map(|s| s.samples as usize).sum();
                let want = (samples as u32).min(capacity);
                let permit = if want == 0 {
                    None
                } else {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        p = sem.clone().acquire_many_owned(want) => match p {
                            Ok(p) => Some(p),
                            Err(_) => return,
                        },
                    }
                };
                let part = Part {
                    seq,
                    series,
                    permit,
                };
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = tx.send(part) => if r.is_err() { return },
                }
            }
            next = seq + 1;
            progressed = true;
        }
        if !progressed {
            if read_failed {
                tokio::time::sleep(TICK).await;
                continue;
            }
            match shared.q.first_seq() {
                Ok(first) => {
                    let resumed = resume_after_nothing_read(next, durable, first);
                    if resumed == next {
                        // Stored but not read: retry, without spinning.
                        tokio::time::sleep(TICK).await;
                    }
                    next = resumed;
                }
                Err(e) => {
                    tracing::error!(remote_name = %shared.cfg.name, "reading the WAL: {e}");
                    tokio::time::sleep(TICK).await;
                }
            }
        }
    }
}

/// Where the reader goes on when a read at `next` (below `durable`) gave
/// nothing, given the WAL's first entry now. Entries are contiguous from the
/// first to the last, and nothing at or above the lowest shard position is
/// truncated except by the size cap, which removes from the front: so only a
/// front that moved past `next`, or an empty WAL, means entries are gone. A
/// WAL that still holds `next` never makes the reader skip: it reads again
/// (the entry may have just reached the tail).
fn resume_after_nothing_read(next: u64, durable: u64, first: Option<u64>) -> u64 {
    match first {
        Some(first) => next.max(first),
        None => next.max(durable),
    }
}

#[cfg(test)]
mod tests {
    use super::resume_after_nothing_read;

    #[test]
    fn skips_only_what_the_wal_no_longer_holds() {
        // The size cap removed entries 5..8: go on at the new front.
        assert_eq!(resume_after_nothing_read(5, 20, Some(8)), 8);
        // Entry 5 is still stored: read it again, never jump to `durable`.
        assert_eq!(resume_after_nothing_read(5, 20, Some(3)), 5);
        assert_eq!(resume_after_nothing_read(5, 20, Some(5)), 5);
        // Everything below `durable` was removed.
        assert_eq!(resume_after_nothing_read(5, 20, None), 20);
    }
}
