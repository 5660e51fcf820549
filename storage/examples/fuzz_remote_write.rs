//! Deterministic mutation fuzzer for the remote-write decoder, the first thing
//! `prometheus.receive_http` runs on bytes from the network.
//!
//! Seeds are real requests: the node_exporter fixture parsed into batches of
//! various sizes (with exemplars and metadata now and then) and encoded. Each
//! input mutates either the snappy body as sent (exercising the block
//! decompressor and the size cap) or the protobuf bytes before compression
//! (reaching deep into the protobuf and label validation), then decodes under
//! `catch_unwind` and counts panics. A panicking input is written to
//! `target/fuzz-crashes-remote-write/`.
//!
//! Run: `cargo run --release -p smelter-storage --example fuzz_remote_write -- 1000000`

use std::panic::{catch_unwind, AssertUnwindSafe};

use smelter_storage::exposition::{Entry, Format, Parser};
use smelter_storage::remote_write::{decode, encode};
use smelter_storage::{Batch, Exemplar, Labels, Metadata, MetricType, Sample, Series};

const NODE_PROM: &[u8] = include_bytes!("../tests/data/node_exporter.prom");
const MAX_DECOMPRESSED: usize = 1 << 20;
const INTERESTING: &[u8] = b"\x00\x01\x02\x08\x0a\x10\x12\x1a\x22\x7f\x80\xff";

#[path = "support/rng.rs"]
mod rng;

use rng::Rng;

/// Every sample of the fixture as a one-sample series.
fn fixture_series() -> Vec<Series> {
    let mut out = Vec::new();
    for entry in Parser::new(NODE_PROM, Format::PrometheusText).flatten() {
        if let Entry::Sample {
            name,
            labels,
            value,
            ..
        } = entry
        {
            let pairs = std::iter::once(("__name__".to_string(), name.to_string()))
                .chain(labels.iter().map(|(n, v)| (n.to_string(), v.into_owned())));
            out.push(Series {
                labels: Labels::from_pairs(pairs),
                samples: vec![Sample {
                    value,
                    timestamp_ms: 1_700_000_000_000,
                }],
                exemplars: Vec::new(),
            });
        }
    }
    out
}

/// Encoded seed requests, and the raw protobuf of each (snappy-decompressed).
fn seeds() -> Vec<(Vec<u8>, Vec<u8>)> {
    let series = fixture_series();
    let mut rng = Rng(7);
    let mut out = Vec::new();
    for size in [1usize, 2, 5, 20, 100, series.len()] {
        let start = rng.below(series.len().saturating_sub(size) + 1);
        let mut batch = Batch {
            series: series[start..(start + size).min(series.len())].to_vec(),
            metadata: Vec::new(),
        };
        if size % 2 == 0 {
            if let Some(first) = batch.series.first_mut() {
                first.exemplars.push(Exemplar {
                    labels: Labels::from_pairs([("trace_id", "abc123")]),
                    value: 1.5,
                    timestamp_ms: Some(1_700_000_000_000),
                });
            }
            batch.metadata.push(Metadata {
                metric_family_name: "node_cpu_seconds_total".into(),
                metric_type: MetricType::Counter,
                help: "Seconds the CPUs spent in each mode.".into(),
                unit: String::new(),
            });
        }
        let Ok(body) = encode(&batch) else { continue };
        let Ok(raw) = snap::raw::Decoder::new().decompress_vec(&body) else {
            continue;
        };
        out.push((body, raw));
    }
    out
}

fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(6) {
        let len = data.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                data.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(16)).min(len);
                data.drain(i..j);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(32)).min(len);
                let chunk = data[i..j].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, chunk);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            _ => {
                let cut = rng.below(len + 1);
                data.truncate(cut);
            }
        }
    }
}

fn main() {
    let count: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seeds = seeds();
    assert!(!seeds.is_empty(), "no seed requests");
    std::panic::set_hook(Box::new(|_| {}));
    let crash_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/fuzz-crashes-remote-write");
    let mut rng = Rng(0x5eed);
    let (mut panics, mut decoded, mut rejected) = (0u64, 0u64, 0u64);
    let mut input = Vec::new();
    let start = std::time::Instant::now();
    for n in 0..count {
        let (body, raw) = &seeds[rng.below(seeds.len())];
        input.clear();
        if rng.below(2) == 0 {
            input.extend_from_slice(body);
            mutate(&mut rng, &mut input);
        } else {
            let mut proto = raw.clone();
            mutate(&mut rng, &mut proto);
            match snap::raw::Encoder::new().compress_vec(&proto) {
                Ok(b) => input = b,
                Err(_) => continue,
            }
        }
        match catch_unwind(AssertUnwindSafe(|| decode(&input, MAX_DECOMPRESSED))) {
            Ok(Ok(_)) => decoded += 1,
            Ok(Err(_)) => rejected += 1,
            Err(_) => {
                panics += 1;
                let _ = std::fs::create_dir_all(&crash_dir);
                let _ = std::fs::write(crash_dir.join(format!("crash-{n}")), &input);
            }
        }
    }
    println!(
        "{count} inputs, {panics} panics ({decoded} decoded, {rejected} rejected, {:.1} s)",
        start.elapsed().as_secs_f64()
    );
    if panics > 0 {
        std::process::exit(1);
    }
}
