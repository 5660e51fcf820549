//! The remote-write queue: append throughput with group commit (samples/s
//! into the flushed WAL; goal ≥ 1 M/s on 2 cores) and end-to-end drain into
//! a local decoding receiver. Results and the command are in
//! `benches/REMOTE_WRITE.md`.
//!
//! Data: scrape-like batches of 1 000 series × 1 sample, five labels each.
//! `append_group_commit` appends 50 batches at once and waits for their
//! acks (one or a few flushes cover them); its endpoint is a closed port with
//! a 5 s backoff, so the senders stay idle and the figure is the WAL side
//! alone. `drain_end_to_end` appends 100 batches, then waits until the
//! receiver — a hyper server in this process that decodes each body with
//! `storage::remote_write::decode` — has counted every sample.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[path = "support/counting_receiver.rs"]
mod counting_receiver;
use counting_receiver::CountingReceiver;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smelter::components::prometheus::remote_write::{EndpointConfig, Queue, QueueOptions};
use smelter_storage::model::{Batch, Labels, Sample, Series};
use smelter_storage::wal::Wal;

const SERIES: usize = 1000;

fn batch(b: usize) -> Batch {
    let ts = 1_700_000_000_000 + b as i64 * 15_000;
    Batch {
        series: (0..SERIES)
            .map(|i| {
                Series::new(
                    Labels::from_pairs([
                        ("__name__", format!("node_metric_{}", i % 50)),
                        ("cpu", format!("{}", i % 8)),
                        ("instance", format!("10.0.{}.{}:9100", i / 256, i % 256)),
                        ("job", "node".to_string()),
                        ("mode", ["user", "system", "idle"][i % 3].to_string()),
                    ]),
                    vec![Sample::new(b as f64 + i as f64 * 0.5, ts)],
                )
            })
            .collect(),
        metadata: vec![],
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let batches: Vec<Batch> = (0..100).map(batch).collect();

    let mut g = c.benchmark_group("remote_write_queue");
    g.sample_size(10);

    // --- append with group commit, senders idle ---------------------------
    let dir = tempfile::tempdir().expect("tempdir");
    let wal = Wal::open(dir.path()).expect("wal");
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut cfg =
        EndpointConfig::new("bench-append", &format!("http://127.0.0.1:{dead}/w")).expect("cfg");
    cfg.queue.min_backoff = Duration::from_secs(5);
    cfg.queue.max_backoff = Duration::from_secs(5);
    let q = rt.block_on(async { Queue::open(&wal, cfg, QueueOptions::default()).expect("queue") });
    let per_iter = 50;
    g.throughput(Throughput::Elements((per_iter * SERIES) as u64));
    g.bench_function("append_group_commit_50x1000", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let acks: Vec<_> = (0..per_iter)
                        .map(|k| {
                            q.append(batches[(i as usize * per_iter + k) % batches.len()].clone())
                                .expect("append")
                        })
                        .collect();
                    for a in acks {
                        a.await.expect("ack");
                    }
                }
                start.elapsed()
            })
        })
    });
    eprintln!(
        "append bench: WAL backlog {} samples, {} bytes on disk",
        q.backlog_samples().unwrap_or(0),
        wal.size_on_disk().unwrap_or(0)
    );
    rt.block_on(q.abort());

    // --- end to end: append, then drain into a decoding receiver ----------
    let receiver = rt.block_on(CountingReceiver::start());
    let (count, addr) = (receiver.samples.clone(), receiver.addr);
    let dir = tempfile::tempdir().expect("tempdir");
    let wal = Wal::open(dir.path()).expect("wal");
    let mut cfg =
        EndpointConfig::new("bench-drain", &format!("http://{addr}/api/v1/write")).expect("cfg");
    // The tail of each iteration (under 2 000 samples per shard) would
    // otherwise wait the default 5 s deadline.
    cfg.queue.batch_send_deadline = Duration::from_millis(20);
    let q = rt.block_on(async { Queue::open(&wal, cfg, QueueOptions::default()).expect("queue") });
    g.throughput(Throughput::Elements((batches.len() * SERIES) as u64));
    g.bench_function("drain_end_to_end_100x1000", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let target = count.load(Ordering::Relaxed) + (batches.len() * SERIES) as u64;
                    let acks: Vec<_> = batches
                        .iter()
                        .map(|b| q.append(b.clone()).expect("append"))
                        .collect();
                    for a in acks {
                        a.await.expect("ack");
                    }
                    while count.load(Ordering::Relaxed) < target {
                        tokio::time::sleep(Duration::from_micros(200)).await;
                    }
                }
                start.elapsed()
            })
        })
    });
    g.finish();
    rt.block_on(q.abort());
}

criterion_group!(benches, bench);
criterion_main!(benches);
