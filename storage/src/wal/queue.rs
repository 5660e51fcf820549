//! One named queue of the WAL: appends, reads, read positions, truncation and
//! the size cap. See the parent module for its place in the data flow.

use std::sync::{Arc, Mutex};

use super::entry::{self, Header};
use super::error::{EntrySeq, Result, WalError};
use super::layout::{self, ShardState};
use super::reader::{EncodedEntries, EncodedEntry, Entries};
use crate::model::Batch;
use crate::remote_write::EncodedBatch;

pub(crate) const ENTRIES_PREFIX: &str = "entries:";
const META_PREFIX: &str = "meta:";
/// Meta key: no sequence number below it will be handed out again, even if
/// the entries tree is empty (after truncation) when the queue reopens.
const FLOOR_KEY: &[u8] = b"floor";
/// Meta key of the shard layout: every shard's read position and request
/// mark in one value (`layout.rs`).
const LAYOUT_KEY: &[u8] = b"layout";
/// Meta key prefix of per-shard read positions before the layout key, followed
/// by the shard `u32` big-endian; read once at open and moved into the layout.
const POSITION_PREFIX: &[u8] = b"pos/";
/// The same for request marks.
const MARK_PREFIX: &[u8] = b"req/";

/// Where a shard's request starts and how many samples it holds, stored
/// before the request is sent: after a crash the shard sends exactly that
/// request again, so a strict receiver that already has it refuses only it
/// (see the sender's shard loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestMark {
    /// The WAL entry the request starts in.
    pub seq: u64,
    /// The series it starts with: its index among the shard's series of
    /// that entry, in entry order.
    pub index: u32,
    /// Samples of that series sent by earlier requests.
    pub sent: u32,
    /// Samples in the request.
    pub samples: u32,
}

/// What a size cap dropped; the caller counts it in its drop metrics and logs
/// it with the reason, as the design requires for every dropped sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DropReport {
    pub entries: u64,
    pub samples: u64,
    pub bytes: u64,
}

/// Handle to one queue; cheap to clone, clones share state.
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

struct Inner {
    name: String,
    db: sled::Db,
    entries: sled::Tree,
    meta: sled::Tree,
    append: Mutex<AppendState>,
    /// Held while the layout is read, changed and stored again.
    layout: Mutex<()>,
}

/// The stored backlog, computed from its first and last entries.
struct Span {
    entries: u64,
    samples: u64,
    bytes: u64,
}

/// What the next append continues from.
#[derive(Debug, Clone, Copy)]
struct AppendState {
    next_seq: u64,
    cum_bytes: u64,
    cum_samples: u64,
}

impl Queue {
    pub(super) fn open(db: &sled::Db, name: &str) -> Result<Queue> {
        let entries = db.open_tree(format!("{ENTRIES_PREFIX}{name}"))?;
        let meta = db.open_tree(format!("{META_PREFIX}{name}"))?;
        let floor = match meta.get(FLOOR_KEY)? {
            Some(v) => read_u64(&v).ok_or_else(|| corrupt_meta(name))?,
            None => 0,
        };
        let mut state = AppendState {
            next_seq: floor,
            cum_bytes: 0,
            cum_samples: 0,
        };
        let q = Queue {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                db: db.clone(),
                entries,
                meta,
                append: Mutex::new(state),
                layout: Mutex::new(()),
            }),
        };
        q.migrate_layout()?;
        if let Some((seq, header, _)) = q.edge(true)? {
            state.next_seq = state.next_seq.max(seq + 1);
            state.cum_bytes = header.cum_bytes;
            state.cum_samples = header.cum_samples;
            *q.inner.append.lock().unwrap_or_else(|e| e.into_inner()) = state;
        }
        Ok(q)
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Stores `batch` and returns its sequence number. The batch is durable
    /// only after the next [`flush`](Self::flush): acknowledge producers then.
    pub fn append(&self, batch: &Batch) -> Result<u64> {
        self.append_encoded(&EncodedBatch::from_batch(batch))
    }

    /// [`Queue::append`] for a batch already in wire form (what the sender
    /// also keeps in memory, so it encodes once).
    pub fn append_encoded(&self, batch: &EncodedBatch) -> Result<u64> {
        let samples = batch.sample_count() as u64;
        // Encode and compress outside the lock: only numbering and the
        // in-memory sled insert are serialized.
        let mut value = entry::encode(batch, samples)?;
        let mut state = self.inner.append.lock().unwrap_or_else(|e| e.into_inner());
        let next = AppendState {
            next_seq: state.next_seq + 1,
            cum_bytes: state.cum_bytes + value.len() as u64,
            cum_samples: state.cum_samples + samples,
        };
        entry::set_cumulative(&mut value, next.cum_bytes, next.cum_samples);
        let seq = state.next_seq;
        self.inner.entries.insert(entry::key(seq), value)?;
        *state = next;
        drop(state);
        release_deferred();
        Ok(seq)
    }

    /// Makes every append so far (to any queue of this WAL) and every
    /// position set so far durable. One flush serves many appends.
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush()?;
        release_deferred();
        Ok(())
    }

    /// Reads entries with sequence number `>= seq`, lazily and in order,
    /// decoded into the model.
    pub fn read_from(&self, seq: u64) -> Entries {
        Entries {
            inner: self.read_encoded_from(seq),
        }
    }

    /// Reads entries with sequence number `>= seq`, lazily and in order, in
    /// wire form: the sender's read, which decodes no label set.
    pub fn read_encoded_from(&self, seq: u64) -> EncodedEntries {
        EncodedEntries {
            queue: self.inner.name.clone(),
            iter: self.inner.entries.range(entry::key(seq)..),
            scratch: Vec::new(),
        }
    }

    /// Up to `max` entries from `seq` on, in wire form: the sender's read
    /// of a backlog, one blocking trip at a time. Reading pulls pages into
    /// sled's cache and evicts others, so the chunk ends like a write does,
    /// with the thread's deferred frees handed over ([`release_deferred`]).
    pub fn read_encoded_chunk(&self, seq: u64, max: usize) -> Vec<Result<EncodedEntry>> {
        let chunk = self.read_encoded_from(seq).take(max).collect();
        release_deferred();
        chunk
    }

    /// The sequence number the next append will get.
    pub fn next_seq(&self) -> u64 {
        self.inner
            .append
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_seq
    }

    /// Sequence number of the oldest stored entry.
    pub fn first_seq(&self) -> Result<Option<u64>> {
        Ok(self.edge(false)?.map(|(seq, _, _)| seq))
    }

    /// Number of stored entries (the backlog), from the first and last keys.
    pub fn len(&self) -> Result<u64> {
        Ok(self.span()?.map_or(0, |s| s.entries))
    }

    /// Whether no entry is stored.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.inner.entries.first()?.is_none())
    }

    /// Samples in the stored entries.
    pub fn backlog_samples(&self) -> Result<u64> {
        Ok(self.span()?.map_or(0, |s| s.samples))
    }

    /// Logical size of the stored entries in bytes (compressed values as
    /// handed to sled), the quantity [`enforce_size_cap`](Self::enforce_size_cap)
    /// bounds. Disk usage is higher; see [`super::Wal::size_on_disk`].
    pub fn backlog_bytes(&self) -> Result<u64> {
        Ok(self.span()?.map_or(0, |s| s.bytes))
    }

    /// Approximate bytes on disk of the whole WAL database (sled keeps one
    /// file set for all queues).
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.inner.db.size_on_disk()?)
    }

    /// Records that `shard` has delivered every entry below `seq`. Durable
    /// with the next flush, so a sender group-commits positions too.
    pub fn set_position(&self, shard: u32, seq: u64) -> Result<()> {
        let _layout = self.inner.layout.lock().unwrap_or_else(|e| e.into_inner());
        let mut shards = self.layout()?;
        match shards.binary_search_by_key(&shard, |s| s.shard) {
            Ok(i) => shards[i].position = seq,
            Err(i) => shards.insert(
                i,
                ShardState {
                    shard,
                    position: seq,
                    mark: None,
                },
            ),
        }
        self.store_layout(&shards)
    }

    /// The recorded position of `shard`, if it ever recorded one.
    pub fn position(&self, shard: u32) -> Result<Option<u64>> {
        Ok(self
            .layout()?
            .iter()
            .find(|s| s.shard == shard)
            .map(|s| s.position))
    }

    /// Every recorded `(shard, position)`, by shard.
    pub fn positions(&self) -> Result<Vec<(u32, u64)>> {
        Ok(self
            .layout()?
            .iter()
            .map(|s| (s.shard, s.position))
            .collect())
    }

    /// Records the positions of shards `0..positions.len()` and forgets any
    /// recorded for a shard beyond them, and every request mark, in one
    /// atomic write: what is stored is always one shard layout, never a mix
    /// of an old and a new one (a restart reads the layout from the shards
    /// present, and a stale shard of a larger layout would make it resume
    /// shards from positions of others).
    pub fn store_positions(&self, positions: &[u64]) -> Result<()> {
        self.store_positions_and_marks(positions, &[])
    }

    /// [`Queue::store_positions`], with the request mark of each shard that
    /// has one (`marks[i]` for shard `i`; missing or `None`: no mark).
    pub fn store_positions_and_marks(
        &self,
        positions: &[u64],
        marks: &[Option<RequestMark>],
    ) -> Result<()> {
        let shards: Vec<ShardState> = positions
            .iter()
            .enumerate()
            .map(|(shard, &position)| ShardState {
                shard: u32::try_from(shard).unwrap_or(u32::MAX),
                position,
                mark: marks.get(shard).copied().flatten(),
            })
            .collect();
        let _layout = self.inner.layout.lock().unwrap_or_else(|e| e.into_inner());
        self.store_layout(&shards)
    }

    /// Every recorded `(shard, request mark)`, by shard.
    pub fn marks(&self) -> Result<Vec<(u32, RequestMark)>> {
        Ok(self
            .layout()?
            .iter()
            .filter_map(|s| Some((s.shard, s.mark?)))
            .collect())
    }

    /// The stored layout; none stored is an empty one.
    fn layout(&self) -> Result<Vec<ShardState>> {
        match self.inner.meta.get(LAYOUT_KEY)? {
            Some(v) => layout::decode(&v).ok_or_else(|| corrupt_meta(&self.inner.name)),
            None => Ok(Vec::new()),
        }
    }

    /// Stores `shards` as the layout; the caller holds `inner.layout`.
    fn store_layout(&self, shards: &[ShardState]) -> Result<()> {
        self.inner.meta.insert(LAYOUT_KEY, layout::encode(shards))?;
        release_deferred();
        Ok(())
    }

    /// A WAL written before the layout key kept one meta key per shard
    /// position and mark: they become the layout, in one batch that also
    /// removes them (at open, so the batch's extra buffer writes do not
    /// matter).
    fn migrate_layout(&self) -> Result<()> {
        let positions = self.per_shard(POSITION_PREFIX, read_u64)?;
        let marks = self.per_shard(MARK_PREFIX, RequestMark::decode)?;
        if positions.is_empty() && marks.is_empty() {
            return Ok(());
        }
        let shards: Vec<ShardState> = positions
            .iter()
            .map(|&(shard, position)| ShardState {
                shard,
                position,
                mark: marks.iter().find(|(s, _)| *s == shard).map(|(_, m)| *m),
            })
            .collect();
        let mut batch = sled::Batch::default();
        batch.insert(LAYOUT_KEY, layout::encode(&shards));
        for prefix in [POSITION_PREFIX, MARK_PREFIX] {
            for kv in self.inner.meta.scan_prefix(prefix) {
                batch.remove(kv?.0);
            }
        }
        self.inner.meta.apply_batch(batch)?;
        Ok(())
    }

    /// Every `(shard, value)` recorded under `prefix` + shard, by shard.
    fn per_shard<T>(
        &self,
        prefix: &[u8],
        decode: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<Vec<(u32, T)>> {
        let mut out = Vec::new();
        for kv in self.inner.meta.scan_prefix(prefix) {
            let (k, v) = kv?;
            let shard = k
                .get(prefix.len()..)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes);
            match (shard, decode(&v)) {
                (Some(shard), Some(value)) => out.push((shard, value)),
                _ => return Err(corrupt_meta(&self.inner.name)),
            }
        }
        Ok(out)
    }

    /// The lowest position among shards `0..shards`; a shard that never
    /// recorded one counts as 0 (it has delivered nothing).
    pub fn min_position(&self, shards: u32) -> Result<u64> {
        let stored = self.layout()?;
        let position = |shard| stored.iter().find(|s| s.shard == shard);
        Ok((0..shards)
            .map(|shard| position(shard).map_or(0, |s| s.position))
            .min()
            .unwrap_or(0))
    }

    /// Removes every entry every shard of `0..shards` has delivered; returns
    /// how many entries went.
    pub fn truncate_acknowledged(&self, shards: u32) -> Result<u64> {
        let min = self.min_position(shards)?;
        self.truncate_below(min)
    }

    /// Removes every entry with a sequence number below `seq`; returns how
    /// many entries went.
    pub fn truncate_below(&self, seq: u64) -> Result<u64> {
        // The floor first: if we crash midway, reopening must still not hand
        // out sequence numbers at or below positions already recorded.
        let floor = seq.min(self.next_seq());
        let old_floor = match self.inner.meta.get(FLOOR_KEY)? {
            Some(v) => read_u64(&v).ok_or_else(|| corrupt_meta(&self.inner.name))?,
            None => 0,
        };
        if floor > old_floor {
            self.inner.meta.insert(FLOOR_KEY, &floor.to_be_bytes())?;
        }
        let mut removed = 0;
        // Key by key, not in a `sled::Batch`: no atomicity is needed (the
        // floor is stored first), and sled writes out and syncs its current
        // I/O buffer twice for every batch (`layout.rs`). Keys are gathered
        // in bounded chunks, so memory stays flat however long the backlog.
        loop {
            let mut keys = Vec::new();
            for kv in self.inner.entries.range(..entry::key(seq)).take(1024) {
                keys.push(kv?.0);
            }
            if keys.is_empty() {
                return Ok(removed);
            }
            for k in &keys {
                self.inner.entries.remove(k)?;
            }
            release_deferred();
            removed += keys.len() as u64;
        }
    }

    /// Drops the oldest entries until the logical backlog is at most
    /// `max_bytes`, and reports what was dropped so the caller can count and
    /// log it. A shard whose position falls below the new first entry simply
    /// resumes at the first entry.
    pub fn enforce_size_cap(&self, max_bytes: u64) -> Result<DropReport> {
        let total = self.backlog_bytes()?;
        if total <= max_bytes {
            return Ok(DropReport::default());
        }
        let mut report = DropReport::default();
        let mut cut = None;
        for kv in self.inner.entries.iter() {
            let (k, v) = kv?;
            let seq = entry::parse_key(&k).map_err(|e| self.corrupt(None, e))?;
            let header = entry::header(&v).map_err(|e| self.corrupt(Some(seq), e))?;
            report.entries += 1;
            report.samples += header.samples;
            report.bytes += v.len() as u64;
            cut = Some(seq + 1);
            if total - report.bytes <= max_bytes {
                break;
            }
        }
        if let Some(cut) = cut {
            self.truncate_below(cut)?;
        }
        Ok(report)
    }

    /// First (`last == false`) or last entry's sequence number and header.
    fn edge(&self, last: bool) -> Result<Option<(u64, Header, u64)>> {
        let kv = if last {
            self.inner.entries.last()?
        } else {
            self.inner.entries.first()?
        };
        let Some((k, v)) = kv else { return Ok(None) };
        let seq = entry::parse_key(&k).map_err(|e| self.corrupt(None, e))?;
        let header = entry::header(&v).map_err(|e| self.corrupt(Some(seq), e))?;
        Ok(Some((seq, header, v.len() as u64)))
    }

    /// First and last entries, if any.
    fn span(&self) -> Result<Option<Span>> {
        let (Some((first, f, first_len)), Some((last, l, _))) =
            (self.edge(false)?, self.edge(true)?)
        else {
            return Ok(None);
        };
        Ok(Some(Span {
            entries: last - first + 1,
            samples: l.cum_samples - f.cum_samples + f.samples,
            bytes: l.cum_bytes - f.cum_bytes + first_len,
        }))
    }

    fn corrupt(&self, seq: Option<u64>, source: super::EntryError) -> WalError {
        WalError::Corrupt {
            queue: self.inner.name.clone(),
            seq: EntrySeq(seq),
            source,
        }
    }
}

/// Hands the calling thread's deferred frees over to be collected.
///
/// sled replaces a tree node on every write and frees the old one through
/// crossbeam-epoch, deferred into a bag per thread that is handed over for
/// freeing only once 64 deferrals fill it. A thread writing the WAL a few
/// times a second so keeps up to 64 replaced leaf nodes — each holding the
/// values of up to 16 entries — alive for many seconds: a ≈ 15 MB sawtooth of
/// RSS in `smelter bench --scenario steady` (`benches/MEMORY.md`). After the
/// hand-over they go at the next epoch advance. `sled::pin` is sled's handle
/// on the crossbeam-epoch collector it frees through (public, though left out
/// of its docs; sled is pinned at 0.34), so this reaches the same bag.
fn release_deferred() {
    sled::pin().flush();
}

fn read_u64(v: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(v).ok().map(u64::from_be_bytes)
}

fn corrupt_meta(queue: &str) -> WalError {
    WalError::CorruptMeta {
        queue: queue.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Batch, Labels, Sample, Series};
    use crate::wal::{entry, RequestMark, Wal, WalError};

    fn batch(v: f64) -> Batch {
        Batch {
            series: vec![Series::new(
                Labels::from_pairs([("__name__", "m")]),
                vec![Sample::new(v, 1)],
            )],
            metadata: vec![],
        }
    }

    #[test]
    fn a_corrupt_entry_is_reported_and_reading_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let wal = Wal::open(dir.path()).unwrap();
        let q = wal.queue("q").unwrap();
        for v in 0..3 {
            q.append(&batch(v as f64)).unwrap();
        }
        q.inner
            .entries
            .insert(entry::key(1), &b"\x01garbage that is no entry at all"[..])
            .unwrap();
        let got: Vec<_> = q.read_from(0).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].as_ref().unwrap().batch, batch(0.0));
        match &got[1] {
            Err(WalError::Corrupt { queue, seq, .. }) => {
                assert_eq!(queue, "q");
                assert_eq!(seq.0, Some(1));
            }
            other => panic!("expected a corrupt entry, got {other:?}"),
        }
        assert_eq!(got[2].as_ref().unwrap().batch, batch(2.0));
    }

    #[test]
    fn corrupt_positions_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let wal = Wal::open(dir.path()).unwrap();
        let q = wal.queue("q").unwrap();
        q.inner
            .meta
            .insert(super::LAYOUT_KEY, &b"\x01short"[..])
            .unwrap();
        assert!(matches!(q.position(0), Err(WalError::CorruptMeta { .. })));
        assert!(matches!(q.positions(), Err(WalError::CorruptMeta { .. })));
        assert!(matches!(q.marks(), Err(WalError::CorruptMeta { .. })));
    }

    /// A WAL from before the layout key: its per-shard keys are read once
    /// at open, moved into the layout and removed.
    #[test]
    fn per_shard_keys_of_an_older_wal_become_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        let key = |prefix: &[u8], shard: u32| [prefix, &shard.to_be_bytes()[..]].concat();
        let mark = RequestMark {
            seq: 4,
            index: 2,
            sent: 0,
            samples: 500,
        };
        {
            let wal = Wal::open(dir.path()).unwrap();
            let q = wal.queue("q").unwrap();
            let meta = &q.inner.meta;
            meta.insert(key(super::POSITION_PREFIX, 0), &4u64.to_be_bytes())
                .unwrap();
            meta.insert(key(super::POSITION_PREFIX, 1), &6u64.to_be_bytes())
                .unwrap();
            meta.insert(key(super::MARK_PREFIX, 0), &mark.encode()[..])
                .unwrap();
            wal.flush().unwrap();
        }
        let wal = Wal::open(dir.path()).unwrap();
        let q = wal.queue("q").unwrap();
        assert_eq!(q.positions().unwrap(), vec![(0, 4), (1, 6)]);
        assert_eq!(q.marks().unwrap(), vec![(0, mark)]);
        for prefix in [super::POSITION_PREFIX, super::MARK_PREFIX] {
            assert_eq!(q.inner.meta.scan_prefix(prefix).count(), 0);
        }
    }
}
