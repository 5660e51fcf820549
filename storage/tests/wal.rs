//! The WAL against a real sled database in a temporary directory.

mod common;

use common::batch;
use smelter_storage::model::stale_nan;
use smelter_storage::wal::{DropReport, Wal};
use smelter_storage::{Batch, Labels, Sample, Series};

fn read_all(q: &smelter_storage::wal::Queue, from: u64) -> Vec<(u64, Batch)> {
    q.read_from(from)
        .map(|e| e.map(|e| (e.seq, e.batch)).unwrap())
        .collect()
}

#[test]
fn append_flush_reopen_reads_back_exact_contents_and_positions() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    {
        let wal = Wal::open(dir.path()).unwrap();
        let q = wal.queue("remote-a").unwrap();
        for id in 0..20 {
            let b = batch(id, 10, 100);
            assert_eq!(q.append(&b).unwrap(), id);
            expected.push((id, b));
        }
        // A batch with a staleness marker and an exemplar-free series.
        let stale = Batch {
            series: vec![Series::new(
                Labels::from_pairs([("__name__", "gone")]),
                vec![Sample::stale(42)],
            )],
            metadata: vec![],
        };
        expected.push((q.append(&stale).unwrap(), stale));
        q.set_position(0, 5).unwrap();
        q.set_position(3, 7).unwrap();
        q.flush().unwrap();
        assert_eq!(q.len().unwrap(), 21);
        assert_eq!(q.backlog_samples().unwrap(), 20 * 1000 + 1);
    }
    let wal = Wal::open(dir.path()).unwrap();
    assert_eq!(wal.queue_names(), vec!["remote-a".to_string()]);
    let q = wal.queue("remote-a").unwrap();
    let got = read_all(&q, 0);
    assert_eq!(got.len(), expected.len());
    for ((gs, gb), (es, eb)) in got.iter().zip(&expected) {
        assert_eq!(gs, es);
        assert!(gb.bit_eq(eb), "entry {gs} differs");
    }
    assert!(got[20].1.series[0].samples[0].is_stale());
    assert_eq!(q.position(0).unwrap(), Some(5));
    assert_eq!(q.position(3).unwrap(), Some(7));
    assert_eq!(q.position(1).unwrap(), None);
    assert_eq!(q.positions().unwrap(), vec![(0, 5), (3, 7)]);
    assert_eq!(q.len().unwrap(), 21);
    assert_eq!(q.backlog_samples().unwrap(), 20_001);
    // Appending continues the numbering.
    assert_eq!(q.append(&batch(99, 1, 1)).unwrap(), 21);
}

#[test]
fn read_from_starts_at_a_position_and_sees_later_appends() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path()).unwrap();
    let q = wal.queue("q").unwrap();
    for id in 0..10 {
        q.append(&batch(id, 1, 3)).unwrap();
    }
    let seqs: Vec<u64> = read_all(&q, 7).into_iter().map(|(s, _)| s).collect();
    assert_eq!(seqs, vec![7, 8, 9]);
    assert!(read_all(&q, 10).is_empty());
    q.append(&batch(10, 1, 3)).unwrap();
    assert_eq!(read_all(&q, 10)[0].1, batch(10, 1, 3));
}

#[test]
fn queues_are_independent_and_handles_shared() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path()).unwrap();
    let a = wal.queue("a").unwrap();
    let a2 = wal.queue("a").unwrap();
    let b = wal.queue("b").unwrap();
    assert_eq!(a.append(&batch(1, 1, 1)).unwrap(), 0);
    assert_eq!(a2.append(&batch(2, 1, 1)).unwrap(), 1);
    assert_eq!(b.append(&batch(3, 1, 1)).unwrap(), 0);
    assert_eq!(a.len().unwrap(), 2);
    assert_eq!(b.len().unwrap(), 1);
    let mut names = wal.queue_names();
    names.sort();
    assert_eq!(names, vec!["a", "b"]);
}

#[test]
fn truncation_follows_the_lowest_shard_position_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let wal = Wal::open(dir.path()).unwrap();
        let q = wal.queue("q").unwrap();
        for id in 0..10 {
            q.append(&batch(id, 2, 5)).unwrap();
        }
        // Shard 1 has not reported: nothing may go.
        q.set_position(0, 6).unwrap();
        assert_eq!(q.truncate_acknowledged(2).unwrap(), 0);
        q.set_position(1, 4).unwrap();
        assert_eq!(q.min_position(2).unwrap(), 4);
        assert_eq!(q.truncate_acknowledged(2).unwrap(), 4);
        assert_eq!(q.first_seq().unwrap(), Some(4));
        assert_eq!(q.len().unwrap(), 6);
        assert_eq!(q.backlog_samples().unwrap(), 60);
        // Everything delivered: the queue empties, numbering must not restart.
        q.set_position(0, 10).unwrap();
        q.set_position(1, 10).unwrap();
        assert_eq!(q.truncate_acknowledged(2).unwrap(), 6);
        assert!(q.is_empty().unwrap());
        assert_eq!(q.backlog_bytes().unwrap(), 0);
        q.flush().unwrap();
    }
    let wal = Wal::open(dir.path()).unwrap();
    let q = wal.queue("q").unwrap();
    assert!(q.is_empty().unwrap());
    assert_eq!(
        q.next_seq(),
        10,
        "a reused number would hide below positions"
    );
    assert_eq!(q.append(&batch(10, 1, 1)).unwrap(), 10);
    assert_eq!(read_all(&q, q.min_position(2).unwrap()).len(), 1);
}

#[test]
fn stored_positions_are_one_layout_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let wal = Wal::open(dir.path()).unwrap();
        let q = wal.queue("remote-a").unwrap();
        q.store_positions(&[10, 11, 12, 13, 14]).unwrap();
        assert_eq!(q.positions().unwrap().len(), 5);
        // Fewer shards: the keys of shards 3 and 4 go in the same batch.
        q.store_positions(&[20, 21, 22]).unwrap();
        assert_eq!(q.positions().unwrap(), vec![(0, 20), (1, 21), (2, 22)]);
        q.flush().unwrap();
    }
    let wal = Wal::open(dir.path()).unwrap();
    let q = wal.queue("remote-a").unwrap();
    assert_eq!(q.positions().unwrap(), vec![(0, 20), (1, 21), (2, 22)]);
    // Another queue's positions are its own.
    let other = wal.queue("remote-b").unwrap();
    other.store_positions(&[1]).unwrap();
    q.store_positions(&[]).unwrap();
    assert_eq!(q.positions().unwrap(), vec![]);
    assert_eq!(other.positions().unwrap(), vec![(0, 1)]);
    // Request marks go with the positions, and only with them.
    let mark = smelter_storage::wal::RequestMark {
        seq: 7,
        index: 3,
        sent: 2,
        samples: 100,
    };
    q.store_positions_and_marks(&[5, 6], &[None, Some(mark)])
        .unwrap();
    assert_eq!(q.marks().unwrap(), vec![(1, mark)]);
    q.store_positions(&[6, 6]).unwrap();
    assert_eq!(q.marks().unwrap(), vec![]);
    assert_eq!(other.marks().unwrap(), vec![]);
}

#[test]
fn size_cap_drops_oldest_and_reports_samples() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path()).unwrap();
    let q = wal.queue("q").unwrap();
    let mut sizes = Vec::new();
    for id in 0..10 {
        let before = q.backlog_bytes().unwrap();
        q.append(&batch(id, 4, 25)).unwrap();
        sizes.push(q.backlog_bytes().unwrap() - before);
    }
    let total: u64 = sizes.iter().sum();
    assert_eq!(q.backlog_bytes().unwrap(), total);
    assert_eq!(q.enforce_size_cap(total).unwrap(), DropReport::default());
    // Leave room for the last three entries exactly.
    let keep: u64 = sizes[7..].iter().sum();
    let report = q.enforce_size_cap(keep).unwrap();
    assert_eq!(
        report,
        DropReport {
            entries: 7,
            samples: 700,
            bytes: total - keep
        }
    );
    assert_eq!(q.first_seq().unwrap(), Some(7));
    assert_eq!(q.backlog_bytes().unwrap(), keep);
    assert_eq!(q.backlog_samples().unwrap(), 300);
    // A reader whose position fell below the cut resumes at the first entry.
    assert_eq!(read_all(&q, 2)[0].0, 7);
    // A cap of zero empties the queue.
    assert_eq!(q.enforce_size_cap(0).unwrap().entries, 3);
    assert!(q.is_empty().unwrap());
}

#[test]
fn large_backlog_replays_incrementally_with_nan_values() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path()).unwrap();
    let q = wal.queue("q").unwrap();
    let mut b = batch(0, 10, 100);
    b.series[0].samples[0].value = stale_nan();
    for _ in 0..200 {
        q.append(&b).unwrap();
    }
    q.flush().unwrap();
    let mut n = 0;
    for e in q.read_from(0) {
        let e = e.unwrap();
        assert!(e.batch.series[0].samples[0].is_stale());
        assert_eq!(e.batch.sample_count(), 1000);
        n += 1;
    }
    assert_eq!(n, 200);
    assert!(wal.size_on_disk().unwrap() > 0);
}

#[test]
fn handles_can_move_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Wal>();
    send_sync::<smelter_storage::wal::Queue>();
    send_sync::<Batch>();
    send_sync::<Labels>();
    send::<smelter_storage::wal::Entries>();
}

#[test]
fn concurrent_appenders_get_dense_unique_sequence_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path()).unwrap();
    let q = wal.queue("q").unwrap();
    let mut seqs: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let q = q.clone();
                s.spawn(move || {
                    (0..50)
                        .map(|i| q.append(&batch(t * 100 + i, 1, 2)).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    seqs.sort_unstable();
    assert_eq!(seqs, (0..200).collect::<Vec<_>>());
    assert_eq!(q.len().unwrap(), 200);
    assert_eq!(q.backlog_samples().unwrap(), 400);
}

/// A WAL created with another segment size (sled's default, as before
/// smelter chose its own) opens with the default configuration and keeps
/// its entries: sled refuses a changed segment size, so the stored one wins.
#[test]
fn a_wal_keeps_the_segment_size_it_was_created_with() {
    let dir = tempfile::tempdir().unwrap();
    let old = smelter_storage::wal::WalConfig {
        segment_size: 512 << 10,
        ..Default::default()
    };
    let b = batch(1, 2_000, 1);
    {
        let wal = Wal::open_with(dir.path(), &old).unwrap();
        let q = wal.queue("remote-a").unwrap();
        q.append(&b).unwrap();
        q.flush().unwrap();
    }
    let wal = Wal::open(dir.path()).unwrap();
    let q = wal.queue("remote-a").unwrap();
    let back = read_all(&q, 0);
    assert_eq!(back.len(), 1);
    assert!(back[0].1.bit_eq(&b));
}
