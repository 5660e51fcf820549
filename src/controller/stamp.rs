//! File stamps: whether a configuration file can have changed since its text
//! was read, without reading it again.
//!
//! Part of the reading step of a reload (files → [`LoadCache`] → control
//! plane). Reading a directory of ≈ 1 000 configuration files costs ≈ 5
//! system calls per file, more than everything else a one-block reload does;
//! [`LoadCache`] therefore keeps, with each file's text, the [`Seen`] of the
//! read that produced it, and on the next reload takes the cached text
//! without reading when [`Seen::unchanged`] holds.
//!
//! That must never miss an edit, so the stamp is used only when it is
//! conclusive — the rule git uses against "racily clean" files:
//!
//! - The stamp is the file's device, inode, size, modification and change
//!   times. Every write or truncation updates the change time (`ctime`),
//!   which a user cannot set; replacing the file (an editor's
//!   write-and-rename, a Kubernetes ConfigMap's symlink swap) changes the
//!   inode the path resolves to.
//! - A stamp is trusted only if the file's last change was more than
//!   [`SETTLE`] before the read started. A later write then gets a change
//!   time after the cached one (file times come from a clock that lags this
//!   host's by at most a tick, rounded down to the filesystem's granularity,
//!   ≤ 2 s for FAT), so it cannot leave the stamp as it was. A file changed
//!   less than [`SETTLE`] before it was read is read again on every reload
//!   (and compared by content) until a read finds it settled.
//!
//! Assumptions, written out: the filesystem updates `ctime` on every change
//! of content (POSIX filesystems do; a shared `mmap` write may be seen late),
//! and its clock is within [`SETTLE`] of this host's (local filesystems use
//! this clock; NFS uses the server's, kept in sync). Anything else changes
//! the stamp or is re-read.
//!
//! [`LoadCache`]: super::incremental::LoadCache

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long before a read a file's last change must be for its stamp to be
/// conclusive (see the module docs).
pub const SETTLE: Duration = Duration::from_secs(2);

/// What a file's metadata said when its text was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// The later of the modification and change times, in nanoseconds since
    /// the epoch (the modification time can be set by a user; the change
    /// time cannot).
    fn last_change_ns(&self) -> i128 {
        let ns = |(s, n): (i64, i64)| i128::from(s) * 1_000_000_000 + i128::from(n);
        ns(self.mtime).max(ns(self.ctime))
    }
}

/// One read of a file: its stamp and whether the stamp is conclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    stamp: Stamp,
    /// The last change was at least [`SETTLE`] before the read started.
    settled: bool,
}

impl Seen {
    /// Whether `path` certainly still holds the text read then: the read's
    /// stamp was conclusive and the file's metadata still says the same. An
    /// error reading the metadata says "maybe changed" (the read that
    /// follows reports it).
    pub fn unchanged(&self, path: &Path) -> bool {
        self.settled && std::fs::metadata(path).is_ok_and(|meta| Stamp::of(&meta) == self.stamp)
    }
}

#[cfg(test)]
impl Seen {
    /// This read as if the file had been written long before it.
    pub(crate) fn assume_settled(self) -> Seen {
        Seen {
            settled: true,
            ..self
        }
    }

    pub(crate) fn is_settled(&self) -> bool {
        self.settled
    }
}

/// Read the file at `path`, with its [`Seen`]. The metadata is taken from
/// the open file before its text is read: a change during the read gives a
/// change time after the read started, so it is never settled.
pub fn read(path: &Path) -> io::Result<(Vec<u8>, Seen)> {
    let started = SystemTime::now();
    let mut file = File::open(path)?;
    let stamp = Stamp::of(&file.metadata()?);
    let mut text = Vec::with_capacity(usize::try_from(stamp.len).unwrap_or(0).saturating_add(1));
    file.read_to_end(&mut text)?;
    let started_ns = started
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let settled = stamp.last_change_ns() + SETTLE.as_nanos() as i128 <= started_ns;
    Ok((text, Seen { stamp, settled }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a.alloy` holding `text` in a fresh directory, read just after.
    fn written(text: &str) -> (tempfile::TempDir, std::path::PathBuf, Seen) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.alloy");
        std::fs::write(&path, text).expect("write");
        let (read_text, seen) = read(&path).expect("read");
        assert_eq!(read_text, text.as_bytes());
        (dir, path, seen)
    }

    #[test]
    fn a_file_changed_just_before_its_read_is_not_settled() {
        let (_dir, path, seen) = written("a");
        assert!(!seen.settled);
        // Not settled: "maybe changed", even with the same metadata.
        assert!(!seen.unchanged(&path));
    }

    #[test]
    fn a_settled_stamp_sees_any_change_of_metadata() {
        let (dir, path, seen) = written("a");
        let seen = seen.assume_settled();
        assert!(seen.unchanged(&path));
        // Another size.
        std::fs::write(&path, "bb").expect("write");
        assert!(!seen.unchanged(&path));
        // The same size, but another file renamed over it (an editor's
        // save): another inode.
        let (_, seen) = read(&path).expect("read");
        let seen = seen.assume_settled();
        let other = dir.path().join("b.tmp");
        std::fs::write(&other, "cc").expect("write");
        std::fs::rename(&other, &path).expect("rename");
        assert!(!seen.unchanged(&path));
        std::fs::remove_file(&path).expect("remove");
        assert!(!seen.unchanged(&path), "a missing file may have changed");
    }
}
