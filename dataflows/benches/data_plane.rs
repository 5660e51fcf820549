//! Data-plane throughput: records/s from a producer thread through a source, one
//! processor and a counting sink, with 1 and 2 workers. One iteration pushes
//! `BATCHES` batches of `BATCH` u64 records and waits for the last batch's
//! acknowledgement (so it includes one acknowledgement latency, ≈ 1–3 epochs).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use smelter_dataflows::{DataPlane, DataPlaneConfig, Graph};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BATCH: usize = 1024;
const BATCHES: usize = 4096;

fn source_operator_sink(c: &mut Criterion) {
    let mut group = c.benchmark_group("data_plane");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(10);
    for workers in [1usize, 2] {
        let counted = Arc::new(AtomicU64::new(0));
        let sink_count = Arc::clone(&counted);
        let mut graph: Graph<Vec<u64>, u64> = Graph::new();
        graph
            .source(1)
            .processor(2, 1, |add: &u64, mut batch: Vec<u64>| {
                batch.iter_mut().for_each(|x| *x = x.wrapping_add(*add));
                Some(batch)
            })
            .sink(3, move |_, _, batch: Vec<u64>| {
                sink_count.fetch_add(batch.len() as u64, Ordering::Relaxed);
            })
            .edge(1, 2)
            .edge_with(2, 3, smelter_dataflows::Partition::Local);
        let plane = DataPlane::with_config(graph, DataPlaneConfig::new(workers)).expect("graph");
        let handle = plane.source(1).expect("source");
        group.bench_function(BenchmarkId::new("source_op_sink", workers), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let batches: Vec<Vec<u64>> =
                        (0..BATCHES).map(|i| vec![i as u64; BATCH]).collect();
                    let before = counted.load(Ordering::Relaxed);
                    let start = Instant::now();
                    let mut last = None;
                    for batch in batches {
                        last = Some(handle.push_blocking(batch).expect("push"));
                    }
                    last.expect("pushed").wait().expect("acknowledged");
                    total += start.elapsed();
                    assert_eq!(
                        counted.load(Ordering::Relaxed) - before,
                        (BATCH * BATCHES) as u64
                    );
                }
                total
            })
        });
        drop(plane);
    }
    group.finish();
}

criterion_group!(benches, source_operator_sink);
criterion_main!(benches);
