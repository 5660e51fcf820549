//! Errors of the write-ahead log, typed so a caller can tell a disk problem
//! (retry later, alert) from a corrupt entry (skip it, count it as dropped).

use std::fmt;

/// Any WAL failure.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("encoding a batch: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    #[error("compressing a batch: {0}")]
    Compress(#[source] snap::Error),
    #[error("corrupt metadata (positions or floor) of WAL queue {queue:?}")]
    CorruptMeta { queue: String },
    #[error("corrupt entry {seq} in WAL queue {queue:?}: {source}")]
    Corrupt {
        queue: String,
        seq: EntrySeq,
        #[source]
        source: EntryError,
    },
}

/// The sequence number of a corrupt entry, when its key could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntrySeq(pub Option<u64>);

impl fmt::Display for EntrySeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(seq) => write!(f, "{seq}"),
            None => f.write_str("<unreadable key>"),
        }
    }
}

/// What is wrong with one stored entry.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("key of {0} bytes, expected 8")]
    BadKey(usize),
    #[error("value of {0} bytes is shorter than the entry header")]
    Truncated(usize),
    #[error("unknown entry format version {0}")]
    Version(u8),
    #[error("invalid snappy block: {0}")]
    Snappy(#[source] snap::Error),
    #[error("snappy block announces an implausible {0} bytes")]
    Implausible(usize),
    #[error("invalid msgpack batch: {0}")]
    Decode(#[source] rmp_serde::decode::Error),
    #[error("invalid series in wire form: {0}")]
    Series(#[source] crate::remote_write::DecodeError),
}

pub type Result<T, E = WalError> = std::result::Result<T, E>;
