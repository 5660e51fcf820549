//! File-change detection shared by `local.file` and `discovery.file`: a
//! `notify` (inotify on Linux) watcher on the *directories* holding the files
//! of interest, turned into a stream of "something changed" wake-ups on a
//! tokio channel.
//!
//! Watching the directory rather than the file (Alloy's fsnotify detector
//! watches the file and re-adds the watch on every poll tick) also sees a
//! file created after start, replaced by rename (editors, Kubernetes secret
//! mounts swapping `..data`) or deleted. Any event in the directory wakes the
//! component, which re-reads and compares, so a false wake-up costs one read.
//! Access events (opens, reads, closes without writing) are ignored: the
//! component's own reads would otherwise wake it forever.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// How long to wait after a change before reading, so that a writer that
/// truncates then writes is seen once, complete (Alloy's `waitReadPeriod`).
pub const SETTLE: Duration = Duration::from_millis(30);

/// A live watch on some directories; dropping it stops watching.
pub struct DirWatcher {
    _watcher: RecommendedWatcher,
    events: mpsc::UnboundedReceiver<()>,
}

impl DirWatcher {
    /// Watch each directory (not recursively). Fails only when no watcher
    /// can be made at all; a directory that cannot be watched (it does not
    /// exist yet, …) is logged and left to the caller's polling.
    pub fn new(dirs: impl IntoIterator<Item = PathBuf>) -> Result<Self, String> {
        let (tx, events) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<Event>| match res {
                Ok(ev) if is_noise(&ev.kind) => {}
                Ok(_) => {
                    let _ = tx.send(());
                }
                Err(err) => {
                    // As Alloy: an error from the watcher counts as a change.
                    tracing::warn!(%err, "file watcher error; treating as a change");
                    let _ = tx.send(());
                }
            })
            .map_err(|e| format!("creating file watcher: {e}"))?;
        for dir in dirs {
            if let Err(err) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
                tracing::warn!(dir = %dir.display(), %err, "cannot watch directory; relying on polling");
            }
        }
        Ok(DirWatcher {
            _watcher: watcher,
            events,
        })
    }

    /// Wait for the next change, then let writes settle and swallow the
    /// burst of events that came with it.
    pub async fn changed(&mut self) {
        if self.events.recv().await.is_none() {
            // The watcher's thread is gone: never wake again.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(SETTLE).await;
        while self.events.try_recv().is_ok() {}
    }
}

/// Wait for a change on an optional watcher (none: never).
pub async fn changed(watcher: &mut Option<DirWatcher>) {
    match watcher {
        Some(w) => w.changed().await,
        None => std::future::pending().await,
    }
}

fn is_noise(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Access(access) if *access != AccessKind::Close(AccessMode::Write))
}

/// The directory a file (or a glob whose wildcards are in its last segment)
/// lives in; `.` for a bare name.
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
