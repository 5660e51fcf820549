//! What a collector costs, read from `/proc` and the file system: CPU time
//! (utime + stime) and resident memory of its process tree, and the bytes
//! its data directory takes on disk.
//!
//! Place in the data flow: the scenario runner samples these a few times a
//! second beside the receiver's counts; the report turns the samples into
//! CPU-seconds per million samples, peak and mean RSS, and the plots.
//!
//! The tree is the collector's pid and every live descendant. CPU time of a
//! descendant that already exited is not counted (the collectors here run
//! as one process, so this does not matter in practice).

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::metrics::{clock_ticks_per_second, page_size, ProcStat};

/// Usage of one process tree at one instant.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct TreeUsage {
    /// utime + stime of every live process of the tree, in seconds.
    pub cpu_seconds: f64,
    /// Sum of the resident set sizes.
    pub rss_bytes: u64,
    pub processes: usize,
}

/// The usage of `root` and its live descendants; `None` when `root` is gone.
pub fn tree_usage(root: u32) -> Option<TreeUsage> {
    let root_stat = ProcStat::read(&root.to_string())?;
    let mut children: HashMap<u32, Vec<(u32, ProcStat)>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == root {
                continue;
            }
            // A process may exit between the listing and the read: skip it.
            if let Some(stat) = ProcStat::read(&pid.to_string()) {
                children.entry(stat.ppid).or_default().push((pid, stat));
            }
        }
    }
    let ticks = clock_ticks_per_second();
    let page = page_size();
    let mut usage = TreeUsage::default();
    let mut stack = vec![(root, root_stat)];
    while let Some((pid, stat)) = stack.pop() {
        usage.cpu_seconds += (stat.utime + stat.stime) as f64 / ticks;
        usage.rss_bytes += stat.rss_pages * page;
        usage.processes += 1;
        if let Some(kids) = children.remove(&pid) {
            stack.extend(kids);
        }
    }
    Some(usage)
}

/// Bytes the files under `dir` occupy on disk (allocated blocks, as `du`
/// counts them); 0 when it does not exist.
pub fn disk_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            // Files come and go while the collector runs (WAL segments).
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.blocks() * 512;
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_measured() {
        let usage = tree_usage(std::process::id()).expect("own /proc entry");
        assert!(usage.rss_bytes > 0);
        assert!(usage.processes >= 1);
    }

    #[test]
    fn missing_process_is_none() {
        assert_eq!(tree_usage(u32::MAX - 1), None);
    }
}
