//! The write-ahead log between sinks and senders, on sled 0.34.
//!
//! Place in the data flow: a sink appends each batch to its queue
//! ([`Queue::append`]), calls [`Queue::flush`] once per epoch and only then
//! acknowledges its producers (group commit: one fsync covers every append
//! since the previous one). The sender reads entries with
//! [`Queue::read_from`], shards them by series hash, and after a successful
//! send records its shard's position ([`Queue::set_position`]); entries below
//! the lowest position are removed ([`Queue::truncate_acknowledged`]).
//!
//! One sled database per [`Wal`] directory; inside it, one tree of entries
//! per queue (an endpoint) and one small tree of that queue's metadata (read
//! positions, sequence floor). Sharing a database means one flush persists
//! every queue's appends together.
//!
//! Rules that come from sled 0.34 and the design:
//! - sequence numbers are dense (`u64`, big-endian keys) and entries are only
//!   ever removed from the front, so the backlog is always one contiguous
//!   range `first..=last`;
//! - entries are removed key by key, never with `drop_tree` on a tree that is
//!   reopened later (sled issue #1333);
//! - sled does not return deleted space to the file system at once; plan for
//!   about 2.5× the logical backlog on disk, and cap the *logical* size
//!   ([`Queue::enforce_size_cap`]) since a cap on [`Wal::size_on_disk`] would
//!   not shrink after deletions;
//! - per-shard positions are only meaningful while the shard of a series
//!   stays the same: same [`crate::model::Labels::stable_hash`], same shard
//!   count. When resharding, move every shard to the lowest old position.

mod entry;
mod error;
mod layout;
mod queue;
mod reader;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use error::{EntryError, EntrySeq, Result, WalError};
pub use queue::{DropReport, Queue, RequestMark};
pub use reader::{EncodedEntries, EncodedEntry, Entries, Entry};

/// Tuning of the sled database under a [`Wal`].
#[derive(Debug, Clone)]
pub struct WalConfig {
    /// sled's page cache. sled's default is 1 GiB, too much for a pipeline
    /// that promises memory bounded by what is in flight; the WAL is
    /// written and read in order, so the OS page cache serves replay and
    /// sled's own cache needs little (figures with 16 and 64 MiB in
    /// `benches/REMOTE_WRITE.md`).
    pub cache_capacity_bytes: u64,
    /// Background flush interval of sled, a safety net behind explicit
    /// flushes; `None` leaves durability to [`Queue::flush`] alone.
    pub flush_every_ms: Option<u64>,
    /// sled's segment (and I/O buffer) size for a new WAL; a WAL that
    /// exists keeps the size it was created with (sled refuses to open it
    /// with another). sled writes a value above a quarter of a segment to
    /// a file of its own (a "blob"): with sled's default of 512 KiB, an
    /// entry of a 2 000-series remote-write request (≈ 150 KB compressed)
    /// became one file created, fsynced and deleted per entry. 2 MiB keeps
    /// entries up to ≈ 512 KB in the log.
    pub segment_size: usize,
}

impl Default for WalConfig {
    fn default() -> Self {
        WalConfig {
            cache_capacity_bytes: 16 << 20,
            flush_every_ms: Some(500),
            segment_size: 2 << 20,
        }
    }
}

/// The segment size a sled database in `dir` was created with, read from
/// its `conf` file (`segment_size: N` lines); `None` for a new directory
/// or a file that does not say.
fn stored_segment_size(dir: &Path) -> Option<usize> {
    let conf = std::fs::read(dir.join("conf")).ok()?;
    String::from_utf8_lossy(&conf)
        .lines()
        .find_map(|line| line.strip_prefix("segment_size: ")?.trim().parse().ok())
}

/// How long [`Wal::open`] waits for a lock held by a WAL being closed.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// sled reports a held file lock as an I/O error of kind `WouldBlock`
/// (`could not acquire lock on …`).
fn is_lock_contention(e: &sled::Error) -> bool {
    match e {
        sled::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("acquire lock")
        }
        _ => false,
    }
}

/// A write-ahead log directory holding any number of named queues. Cheap to
/// clone; clones share the database.
#[derive(Clone)]
pub struct Wal {
    db: sled::Db,
    /// Open queues by name: a queue's append state must exist once per
    /// process, or two handles would hand out the same sequence numbers.
    queues: Arc<Mutex<HashMap<String, Queue>>>,
}

impl Wal {
    /// Opens (or creates) the WAL in `dir` with the default configuration.
    pub fn open(dir: impl AsRef<Path>) -> Result<Wal> {
        Wal::open_with(dir, &WalConfig::default())
    }

    /// Opens (or creates) the WAL in `dir`.
    ///
    /// A WAL closed a moment ago in this process may still be locked: sled's
    /// background flusher holds the database until its thread notices the
    /// drop. Opening waits for that (up to [`LOCK_WAIT`]) instead of failing,
    /// so a reload or a restart of the same component can reopen its WAL.
    pub fn open_with(dir: impl AsRef<Path>, config: &WalConfig) -> Result<Wal> {
        let started = Instant::now();
        let segment_size = stored_segment_size(dir.as_ref()).unwrap_or(config.segment_size);
        loop {
            let opened = sled::Config::new()
                .path(dir.as_ref())
                .segment_size(segment_size)
                .cache_capacity(config.cache_capacity_bytes)
                .flush_every_ms(config.flush_every_ms)
                .open();
            match opened {
                Ok(db) => {
                    return Ok(Wal {
                        db,
                        queues: Arc::default(),
                    })
                }
                Err(e) if is_lock_contention(&e) && started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The queue called `name`, created empty if new. Every call with the same
    /// name returns a handle to the same queue.
    pub fn queue(&self, name: &str) -> Result<Queue> {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = queues.get(name) {
            return Ok(q.clone());
        }
        let q = Queue::open(&self.db, name)?;
        queues.insert(name.to_owned(), q.clone());
        Ok(q)
    }

    /// Names of the queues stored in this WAL (opened or not).
    pub fn queue_names(&self) -> Vec<String> {
        self.db
            .tree_names()
            .iter()
            .filter_map(|n| n.strip_prefix(queue::ENTRIES_PREFIX.as_bytes()))
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect()
    }

    /// Makes every append to every queue so far durable.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// Bytes the database occupies on disk, including space sled has not
    /// reclaimed yet.
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }
}
