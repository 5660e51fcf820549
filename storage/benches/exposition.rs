//! Scrape parser throughput: the real node_exporter page and a synthetic
//! 100 000-series page (5 labels per series, ~200-byte lines).
//!
//! Run: `cargo bench -p smelter-storage --bench exposition -- --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use smelter_storage::exposition::{Entry, Format, Parser};

const NODE_PROM: &[u8] = include_bytes!("../tests/data/node_exporter.prom");
const NODE_OM: &[u8] = include_bytes!("../tests/data/node_exporter.om.txt");

/// 100 000 series of a histogram-like family, 5 labels each, ~200 bytes a line.
fn synthetic_page(series: usize) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::with_capacity(series * 210);
    s.push_str("# HELP http_server_request_duration_seconds Duration of HTTP server requests.\n");
    s.push_str("# TYPE http_server_request_duration_seconds histogram\n");
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
    ];
    let methods = ["GET", "POST", "PUT", "DELETE"];
    for i in 0..series {
        let _ = writeln!(
            s,
            "http_server_request_duration_seconds_bucket{{service=\"checkout-{}\",instance=\"10.1.{}.{}:8080\",method=\"{}\",route=\"/api/v1/orders/{}/items\",le=\"{}\"}} {} 1700000000{:03}",
            i % 50,
            (i / 256) % 256,
            i % 256,
            methods[i % 4],
            i / 10,
            les[i % 10],
            (i * 7919) % 1_000_000,
            i % 1000,
        );
    }
    s.into_bytes()
}

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
