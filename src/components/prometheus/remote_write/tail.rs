//! The hot tail of a queue: the newest appended batches (in wire form, as
//! stored), kept in memory so that a reader that keeps up does not read back
//! (sled read, snappy, msgpack) what was written a moment ago.
//!
//! Place in the data flow: `Queue::append` stores a batch in the WAL *and*
//! here; the reader takes entry `seq` from here when it is still held and
//! falls back to the WAL otherwise. The WAL stays the only source of truth —
//! an entry is read (from here or from disk) only once it is flushed, and
//! every entry held here is byte for byte the batch stored under its `seq` —
//! so a restart, a reshard or an eviction only makes the reader go to disk.
//!
//! Memory: at most `capacity` samples (the queue's total in-flight budget);
//! when the sender falls behind, the oldest entries are evicted and replay
//! reads them from the WAL, so a backlog never sits in memory. While the
//! backlog is more than twice that, nothing is held at all: the reader is
//! so far behind that every entry would be evicted before it is read, and
//! holding them would only add a full tail to the memory of a replay. In the
//! ingest benchmark reading back the WAL (format 1) was ≈ 18 % of the
//! process's CPU (`benches/REMOTE_WRITE.md`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use smelter_storage::remote_write::EncodedBatch as Batch;

/// Newest entries of one queue, by sequence number.
///
/// A map rather than a ring: two timely workers append concurrently, so
/// entries may arrive here slightly out of sequence order; a sequence
/// number missing here is simply read from the WAL.
#[derive(Debug)]
pub(super) struct Tail {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    /// Shared with the sink that appended them, so holding one copies
    /// nothing; by the time the reader takes it the sink has let go, and
    /// taking it copies nothing either (unless another endpoint's tail
    /// still holds the same batch).
    entries: BTreeMap<u64, (Arc<Batch>, usize)>,
    samples: usize,
}

impl Tail {
    /// A tail holding at most `capacity` samples; a batch larger than that
    /// is not kept.
    pub fn new(capacity: usize) -> Tail {
        Tail {
            inner: Mutex::default(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the batch stored in the WAL under `seq`, given the queue's
    /// backlog in samples; evicts the oldest entries beyond the capacity.
    pub fn push(&self, seq: u64, batch: Arc<Batch>, backlog: u64) {
        let samples = batch.sample_count();
        if backlog > 2 * self.capacity as u64 {
            let mut inner = self.lock();
            inner.entries.clear();
            inner.samples = 0;
            return;
        }
        if samples > self.capacity {
            return;
        }
        let mut inner = self.lock();
        inner.samples += samples;
        if let Some((_, old)) = inner.entries.insert(seq, (batch, samples)) {
            inner.samples -= old;
        }
        while inner.samples > self.capacity {
            match inner.entries.pop_first() {
                Some((_, (_, n))) => inner.samples -= n,
                None => break,
            }
        }
    }

    /// Takes entry `seq` if held, dropping every older one (the reader has
    /// moved past them); otherwise the lowest sequence number held above
    /// `seq`, up to which the reader reads the WAL. One decision under one
    /// lock: asked in two steps, an append landing between them made the
    /// tail hold `seq` after all, the reader saw nothing to read from the
    /// WAL below it, and skipped the entry (the crash test's lost entry).
    pub fn take_or_next_held(&self, seq: u64) -> Result<Batch, Option<u64>> {
        let mut inner = self.lock();
        inner.evict_below(seq);
        match inner.entries.remove(&seq) {
            Some((batch, n)) => {
                inner.samples -= n;
                drop(inner);
                Ok(Arc::unwrap_or_clone(batch))
            }
            None => Err(inner.entries.range(seq..).next().map(|(s, _)| *s)),
        }
    }

    /// Forgets entries below `seq` (the WAL no longer has them: the size cap
    /// dropped them, so they must not be sent).
    pub fn evict_below(&self, seq: u64) {
        self.lock().evict_below(seq);
    }
}

impl Inner {
    fn evict_below(&mut self, seq: u64) {
        while let Some((s, (_, n))) = self.entries.first_key_value() {
            if *s >= seq {
                break;
            }
            self.samples -= n;
            self.entries.pop_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smelter_storage::model::{Labels, Sample, Series};

    fn batch(n: usize) -> Arc<Batch> {
        Arc::new(Batch::from_batch(&smelter_storage::model::Batch {
            series: vec![Series::new(
                Labels::from_pairs([("__name__", "m")]),
                vec![Sample::new(1.0, 1); n],
            )],
            metadata: vec![],
        }))
    }

    #[test]
    fn takes_in_order_and_skips_what_the_reader_passed() {
        let t = Tail::new(100);
        for seq in [0, 2, 1, 3] {
            t.push(seq, batch(10), 0);
        }
        assert!(t.take_or_next_held(1).is_ok());
        assert_eq!(t.take_or_next_held(1).err(), Some(Some(2)));
        assert!(t.take_or_next_held(3).is_ok());
        assert_eq!(t.take_or_next_held(0).err(), Some(None));
    }

    #[test]
    fn evicts_the_oldest_beyond_capacity() {
        let t = Tail::new(25);
        for seq in 0..4 {
            t.push(seq, batch(10), 0);
        }
        assert_eq!(t.take_or_next_held(0).err(), Some(Some(2)));
        t.push(10, batch(30), 0);
        assert_eq!(t.take_or_next_held(4).err(), Some(None));
        t.evict_below(4);
        assert_eq!(t.lock().entries.len(), 0);
        assert_eq!(t.lock().samples, 0);
    }

    #[test]
    fn holds_nothing_while_far_behind() {
        let t = Tail::new(25);
        t.push(0, batch(10), 50);
        assert_eq!(t.lock().entries.len(), 1);
        t.push(1, batch(10), 51);
        assert_eq!(t.lock().entries.len(), 0);
        assert_eq!(t.lock().samples, 0);
        t.push(2, batch(10), 0);
        assert_eq!(t.take_or_next_held(0).err(), Some(Some(2)));
    }
}
