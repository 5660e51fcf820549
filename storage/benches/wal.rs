//! WAL throughput: append with group commit at two flush rates, and replay.
//!
//! Batches look like one scrape epoch: 1 000 series with one sample each and
//! the labels of a node-exporter metric, the case where labels dominate.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smelter_storage::wal::Wal;
use smelter_storage::{Batch, Labels, Sample, Series};

fn scrape_batch(epoch: i64, series: usize) -> Batch {
    Batch {
        series: (0..series)
            .map(|i| {
                Series::new(
                    Labels::from_pairs([
                        ("__name__", "node_cpu_seconds_total".to_string()),
                        ("cpu", (i % 64).to_string()),
                        ("instance", format!("host-{}:9100", i / 64)),
                        ("job", "node".to_string()),
                        ("mode", "user".to_string()),
                    ]),
                    vec![Sample::new(
                        1_000.0 + i as f64 * 0.25,
                        1_700_000_000_000 + epoch,
                    )],
                )
            })
            .collect(),
        metadata: vec![],
    }
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path()).unwrap();
    let q = wal.queue("bench").unwrap();
    let batch = scrape_batch(0, 1_000);
    {
        q.append(&batch).unwrap();
        eprintln!(
            "entry size: {} bytes for 1000 samples",
            q.backlog_bytes().unwrap()
        );
    }
    let mut g = c.benchmark_group("wal_append_1000_samples");
    for per_flush in [1u64, 10] {
        g.throughput(Throughput::Elements(1_000 * per_flush));
        g.bench_function(format!("flush_every_{per_flush}_batches"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    for _ in 0..per_flush {
                        black_box(q.append(&batch).unwrap());
                    }
                    q.flush().unwrap();
                }
                let elapsed = start.elapsed();
                // Keep the database from growing across samples; untimed.
                q.truncate_below(q.next_seq()).unwrap();
                elapsed
            })
        });
    }
    g.finish();
}

fn replay(c: &mut Criterion) {
    const BATCHES: u64 = 100;
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path()).unwrap();
    let q = wal.queue("bench").unwrap();
    for e in 0..BATCHES {
        q.append(&scrape_batch(e as i64, 1_000)).unwrap();
    }
    q.flush().unwrap();
    let mut g = c.benchmark_group("wal_replay");
    g.throughput(Throughput::Elements(BATCHES * 1_000));
    g.bench_function("read_decode_100x1000_samples", |b| {
        b.iter(|| {
            let mut samples = 0;
            for e in q.read_from(0) {
                samples += e.unwrap().batch.sample_count();
            }
            assert_eq!(samples as u64, BATCHES * 1_000);
            samples
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = append, replay
}
criterion_main!(benches);
