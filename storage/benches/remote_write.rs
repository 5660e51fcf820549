//! Remote write codec throughput on a 2 000-sample request (2 000 series,
//! one sample each: what one shard sends per request).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smelter_storage::remote_write::{decode, encode, Decoder, Encoder};
use smelter_storage::{Batch, Labels, Sample, Series};

fn request(series: usize) -> Batch {
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
                    vec![Sample::new(1_000.0 + i as f64 * 0.25, 1_700_000_000_000)],
                )
            })
            .collect(),
        metadata: vec![],
    }
}

fn codec(c: &mut Criterion) {
    let batch = request(2_000);
    let body = encode(&batch).unwrap();
    eprintln!("request body: {} bytes for 2000 samples", body.len());
    let mut g = c.benchmark_group("remote_write_2000_samples");
    g.throughput(Throughput::Elements(2_000));
    g.bench_function("encode", |b| b.iter(|| encode(black_box(&batch)).unwrap()));
    let mut encoder = Encoder::default();
    let mut out = Vec::new();
    g.bench_function("encode_reusing_buffers", |b| {
        b.iter(|| encoder.encode_into(black_box(&batch), &mut out).unwrap())
    });
    g.bench_function("decode", |b| {
        b.iter(|| decode(black_box(&body), 64 << 20).unwrap())
    });
    let mut decoder = Decoder::new(64 << 20);
    g.bench_function("decode_reusing_buffers", |b| {
        b.iter(|| decoder.decode(black_box(&body)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
