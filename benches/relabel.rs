//! Relabel throughput: 100 000 realistic series (5–8 labels) through a
//! 10-rule chain mixing drop/keep/replace/labeldrop/hashmod/labelmap
//! (`support/relabel_chain.rs`). Two levels: the engine alone (a label
//! builder per sample, no cache), and `prometheus.relabel`'s data-plane
//! operator on a batch of the 100 000 series, with its result cache warm
//! (the steady state: a scrape or an agent sends the same series every
//! interval) and cold (new rules, or series never seen). Goal: ≥ 2 M
//! samples/s per core. Results and the command are in `benches/RELABEL.md`.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/relabel_chain.rs"]
mod relabel_chain;

use cpu::{m_per_cpu_s as per_cpu_s, thread_cpu_ns};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use relabel_chain::{chain, component_args, series, SERIES};
use smelter::components::common::relabel::{process_series, Scratch, SortedLabels};
use smelter::components::prometheus::relabel;
use smelter_storage::{Batch, Labels, Sample, Series};

fn batch(input: &[SortedLabels]) -> Batch {
    Batch {
        series: input
            .iter()
            .map(|s| Series::new(Labels::from_pairs(s.iter()), vec![Sample::new(1.0, 1)]))
            .collect(),
        metadata: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let input = series();
    let rules = chain();
    let mut g = c.benchmark_group("relabel");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.sample_size(10);

    // The engine: one builder and one scratch, refilled per sample with
    // `clone_from` (no allocation once warm).
    g.bench_function("10_rules_reused_builder", |b| {
        let mut scratch = Scratch::default();
        let mut labels = SortedLabels::new();
        b.iter(|| {
            let mut kept = 0usize;
            for s in &input {
                labels.clone_from(s);
                kept += usize::from(process_series(&rules, &mut labels, &mut scratch));
            }
            kept
        })
    });

    // `prometheus.relabel` as the data plane runs it, on a 100 000-series
    // batch (the batch's copy is made outside the measurement).
    let whole = batch(&input);
    let warm = relabel::compile(&component_args()).expect("compile");
    let kept = warm.process(whole.clone()).map_or(0, |b| b.series.len());
    assert_eq!(kept, 47_249, "the chain keeps 47 249 series");
    g.bench_function("operator_warm_cache", |b| {
        b.iter_batched(
            || whole.clone(),
            |batch| warm.process(batch),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("operator_cold_cache", |b| {
        b.iter_batched(
            || {
                (
                    relabel::compile(&component_args()).expect("compile"),
                    whole.clone(),
                )
            },
            |(op, batch)| op.process(batch),
            BatchSize::PerIteration,
        )
    });
    g.finish();

    // The machine is shared: wall-clock figures above include time the
    // thread spent waiting for a core. These divide by the thread's own CPU
    // time.
    let rounds = 10;
    let mut scratch = Scratch::default();
    let mut labels = SortedLabels::new();
    let cpu0 = thread_cpu_ns();
    let mut kept = 0usize;
    for _ in 0..rounds {
        for s in &input {
            labels.clone_from(s);
            kept += usize::from(process_series(&rules, &mut labels, &mut scratch));
        }
    }
    let cpu = thread_cpu_ns() - cpu0;
    eprintln!(
        "engine, reused builder: {:.2} M samples per CPU-second (kept {kept})",
        per_cpu_s(rounds * SERIES, cpu)
    );
    let copies: Vec<Batch> = (0..rounds).map(|_| whole.clone()).collect();
    let cpu0 = thread_cpu_ns();
    let out: Vec<_> = copies.into_iter().map(|b| warm.process(b)).collect();
    let cpu = thread_cpu_ns() - cpu0;
    drop(out);
    eprintln!(
        "operator, warm cache: {:.2} M samples per CPU-second",
        per_cpu_s(rounds * SERIES, cpu)
    );
    let cold: Vec<_> = (0..rounds)
        .map(|_| {
            (
                relabel::compile(&component_args()).expect("compile"),
                whole.clone(),
            )
        })
        .collect();
    let cpu0 = thread_cpu_ns();
    let out: Vec<_> = cold
        .into_iter()
        .map(|(op, b)| (op.process(b), op))
        .collect();
    let cpu = thread_cpu_ns() - cpu0;
    drop(out);
    eprintln!(
        "operator, cold cache: {:.2} M samples per CPU-second",
        per_cpu_s(rounds * SERIES, cpu)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
