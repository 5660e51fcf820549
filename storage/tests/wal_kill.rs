//! Durability under kill -9: every batch a writer reported as flushed must be
//! there after the process dies without any chance to clean up.
//!
//! The test binary runs itself as the writer: with `SMELTER_WAL_KILL_DIR` set,
//! `writer_child` appends and flushes batches and prints `FLUSHED <seq> <id>`
//! after each flush; the parent kills it with SIGKILL mid-stream, reopens
//! the WAL and checks every printed batch, several rounds in a row.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use smelter_storage::wal::Wal;

const DIR_VAR: &str = "SMELTER_WAL_KILL_DIR";
const ROUND_VAR: &str = "SMELTER_WAL_KILL_ROUND";

/// The writer; a no-op when run as an ordinary test.
#[test]
fn writer_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let round: u64 = std::env::var(ROUND_VAR).unwrap().parse().unwrap();
    let wal = Wal::open(&dir).unwrap();
    let q = wal.queue("kill").unwrap();
    let mut out = std::io::stdout();
    for i in 0..100_000u64 {
        let id = round * 1_000_000 + i;
        // Group commit: two appends share each flush.
        let s1 = q.append(&common::batch(id, 5, 20)).unwrap();
        let s2 = q.append(&common::batch(id + 500_000, 5, 20)).unwrap();
        q.flush().unwrap();
        // Written straight to the stdout handle so libtest's capture can't
        // buffer it: once this line is out, the batch is acknowledged.
        writeln!(out, "FLUSHED {s1} {id}").unwrap();
        writeln!(out, "FLUSHED {s2} {}", id + 500_000).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn flushed_batches_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acknowledged: Vec<(u64, u64)> = Vec::new();
    for round in 0..3u64 {
        let mut child = Command::new(&exe)
            .args(["--exact", "writer_child", "--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .env(ROUND_VAR, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = 0;
        // Kill at a different point each round.
        let kill_after = 40 + 37 * round as usize;
        while seen < kill_after {
            let line = lines.next().expect("writer ended early").unwrap();
            if let Some(rest) = line.strip_prefix("FLUSHED ") {
                let mut it = rest.split(' ').map(|x| x.parse::<u64>().unwrap());
                acknowledged.push((it.next().unwrap(), it.next().unwrap()));
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        // Lines written before the kill are still in the pipe: they were
        // acknowledged too.
        for line in lines {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("FLUSHED ") {
                let mut it = rest.split(' ').map(|x| x.parse::<u64>().unwrap());
                acknowledged.push((it.next().unwrap(), it.next().unwrap()));
            }
        }

        let wal = Wal::open(dir.path()).unwrap();
        let q = wal.queue("kill").unwrap();
        let stored: std::collections::HashMap<u64, _> = q
            .read_from(0)
            .map(|e| {
                let e = e.unwrap();
                (e.seq, e.batch)
            })
            .collect();
        for (seq, id) in &acknowledged {
            let batch = stored
                .get(seq)
                .unwrap_or_else(|| panic!("round {round}: flushed entry {seq} lost"));
            assert_eq!(batch, &common::batch(*id, 5, 20), "entry {seq} differs");
        }
        // Numbering never reuses an acknowledged sequence number.
        let max_ack = acknowledged.iter().map(|(s, _)| *s).max().unwrap();
        assert!(q.next_seq() > max_ack);
    }
    assert!(acknowledged.len() >= 3 * 40);
}
