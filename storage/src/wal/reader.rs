//! Incremental reading of a WAL queue, for the sender and for replay after an
//! outage.
//!
//! Why an iterator over sled's range scan: the backlog can be far larger than
//! memory, and the design promises replay at a bounded memory cost. Entries
//! are decoded one at a time into a reused decompression buffer.

use super::entry;
use super::error::{EntrySeq, WalError};
use crate::model::Batch;
use crate::remote_write::EncodedBatch;

/// One stored batch and its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: u64,
    pub batch: Batch,
}

/// One stored batch in wire form (what the sender reads) and its sequence
/// number.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedEntry {
    pub seq: u64,
    pub batch: EncodedBatch,
}

/// [`EncodedEntries`] decoded into the model, for tests and tools.
pub struct Entries {
    pub(super) inner: EncodedEntries,
}

impl Iterator for Entries {
    type Item = Result<Entry, WalError>;

    fn next(&mut self) -> Option<Self::Item> {
        let e = match self.inner.next()? {
            Ok(e) => e,
            Err(e) => return Some(Err(e)),
        };
        Some(
            e.batch
                .to_batch()
                .map(|batch| Entry { seq: e.seq, batch })
                .map_err(|source| WalError::Corrupt {
                    queue: self.inner.queue.clone(),
                    seq: EntrySeq(Some(e.seq)),
                    source: super::EntryError::Series(source),
                }),
        )
    }
}

/// Iterator over the entries of a queue from a sequence number on, in
/// sequence order. Yields an error for a corrupt entry and goes on with the
/// next one, so one bad entry does not block the queue.
pub struct EncodedEntries {
    pub(super) queue: String,
    pub(super) iter: sled::Iter,
    pub(super) scratch: Vec<u8>,
}

impl Iterator for EncodedEntries {
    type Item = Result<EncodedEntry, WalError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (key, value) = match self.iter.next()? {
            Ok(kv) => kv,
            Err(e) => return Some(Err(e.into())),
        };
        let corrupt = |queue: &str, seq: Option<u64>, source| WalError::Corrupt {
            queue: queue.to_owned(),
            seq: EntrySeq(seq),
            source,
        };
        let seq = match entry::parse_key(&key) {
            Ok(seq) => seq,
            Err(e) => return Some(Err(corrupt(&self.queue, None, e))),
        };
        Some(
            entry::decode(&value, &mut self.scratch)
                .map(|batch| EncodedEntry { seq, batch })
                .map_err(|e| corrupt(&self.queue, Some(seq), e)),
        )
    }
}
