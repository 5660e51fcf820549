//! Scrape parser throughput: the real node_exporter page and a synthetic
//! 100 000-series page (5 labels per series, ~200-byte lines).
//!
//! Run: `cargo bench -p smelter-storage --bench exposition -- --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use smelter_storage::exposition::{Entry, Format, Parser};

#[path = "synthetic.rs"]
mod synthetic;
use synthetic::synthetic_page;

const NODE_PROM: &[u8] = include_bytes!("../tests/data/node_exporter.prom");
const NODE_OM: &[u8] = include_bytes!("../tests/data/node_exporter.om.txt");

fn count_samples(page: &[u8], format: Format) -> u64 {
    Parser::new(page, format)
        .filter(|e| matches!(e, Ok(Entry::Sample { .. })))
        .count() as u64
}

/// Parse only: every sample validated, labels not decoded.
fn parse(page: &[u8], format: Format) -> f64 {
    let mut sum = 0.0;
    for e in Parser::new(page, format) {
        if let Entry::Sample { value, .. } = e.unwrap() {
            sum += value;
        }
    }
    sum
}

/// Parse and walk every label pair, as a consumer building series does.
fn parse_and_walk_labels(page: &[u8], format: Format) -> usize {
    let mut n = 0;
    for e in Parser::new(page, format) {
        if let Entry::Sample { name, labels, .. } = e.unwrap() {
            n += name.len();
            for (k, v) in labels {
                n += k.len() + v.len();
            }
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let synth = synthetic_page(100_000);
    let inputs: [(&str, &[u8], Format); 3] = [
        ("node_exporter.prom", NODE_PROM, Format::PrometheusText),
        ("node_exporter.om", NODE_OM, Format::OpenMetrics),
        ("synthetic_100k.prom", &synth, Format::PrometheusText),
    ];
    for (name, page, format) in inputs {
        let samples = count_samples(page, format);
        let mut g = c.benchmark_group(format!("exposition/{name}"));
        g.throughput(Throughput::Bytes(page.len() as u64));
        g.bench_function(BenchmarkId::new("parse", "bytes"), |b| {
            b.iter(|| parse(black_box(page), format))
        });
        g.throughput(Throughput::Elements(samples));
        g.bench_function(BenchmarkId::new("parse", "samples"), |b| {
            b.iter(|| parse(black_box(page), format))
        });
        g.bench_function(BenchmarkId::new("parse+labels", "samples"), |b| {
            b.iter(|| parse_and_walk_labels(black_box(page), format))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
