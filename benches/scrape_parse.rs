//! Scrape ingest throughput: a synthetic 100 000-series page (Prometheus
//! text, 3–6 labels per sample, one label colliding with a target label)
//! parsed by the exposition parser and turned into a `Batch`-ready list of
//! series with the target's labels, as one scrape of `prometheus.scrape`
//! does between the HTTP body and the appender. Two cases: `cold`, a fresh
//! scrape cache every time (the first scrape of a target: every series'
//! labels are built), and `warm`, the same cache scrape after scrape (the
//! steady state: every series is a cache hit). Results and the command are
//! in `benches/SCRAPE.md`.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/cpu.rs"]
mod cpu;

use std::fmt::Write as _;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smelter::components::prometheus::scrape::{
    ingest, Ingested, Limits, PageSettings, ScrapeCache,
};
use smelter_storage::exposition::Format;
use smelter_storage::{Batch, Labels};

const SERIES: usize = 100_000;

fn page() -> String {
    let families = [
        ("http_requests_total", "counter"),
        ("http_request_duration_seconds_bucket", "histogram"),
        ("node_cpu_seconds_total", "counter"),
        ("go_goroutines", "gauge"),
        ("container_memory_working_set_bytes", "gauge"),
    ];
    let per_family = SERIES / families.len();
    let mut out = String::with_capacity(SERIES * 110);
    for (f, (name, kind)) in families.iter().enumerate() {
        let _ = writeln!(out, "# HELP {name} Synthetic family {f}.");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for i in 0..per_family {
            let _ = write!(
                out,
                "{name}{{namespace=\"team-{}\",pod=\"app-{}-{:05x}\"",
                i % 13,
                i % 17,
                i
            );
            if i % 2 == 0 {
                out.push_str(",method=\"GET\"");
            }
            if i % 3 == 0 {
                let _ = write!(out, ",le=\"{}\"", ["0.1", "0.5", "1", "+Inf"][i % 4]);
            }
            if i % 10 == 0 {
                out.push_str(",job=\"exported\"");
            }
            let _ = writeln!(out, "}} {}.{}", i * 3, i % 10);
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let page = page();
    let target = Labels::from_pairs([("instance", "10.0.0.1:9100"), ("job", "node")]);
    let limits = Limits::default();
    let settings = PageSettings {
        target_labels: &target,
        honor_labels: false,
        honor_timestamps: true,
        track_timestamps_staleness: false,
        limits: &limits,
    };
    let scrape = |cache: &mut ScrapeCache| -> Ingested {
        let ts = 1_700_000_000_000;
        let ingested = ingest(
            page.as_bytes(),
            Format::PrometheusText,
            &settings,
            cache,
            ts,
        )
        .expect("the synthetic page is valid");
        assert!(cache.commit(ts).is_empty());
        ingested
    };
    assert_eq!(scrape(&mut ScrapeCache::default()).series.len(), SERIES);
    let mut g = c.benchmark_group("scrape_parse");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.sample_size(10);
    g.bench_function("text_100k_series_to_batch_cold", |b| {
        b.iter(|| {
            let ingested = scrape(&mut ScrapeCache::default());
            let batch = Batch {
                series: ingested.series,
                metadata: Vec::new(),
            };
            std::hint::black_box(batch)
        })
    });
    let mut warm = ScrapeCache::default();
    scrape(&mut warm);
    g.bench_function("text_100k_series_to_batch_warm", |b| {
        b.iter(|| {
            let ingested = scrape(&mut warm);
            let batch = Batch {
                series: ingested.series,
                metadata: Vec::new(),
            };
            std::hint::black_box(batch)
        })
    });
    g.finish();

    // Per CPU-second of this thread (the machine is shared); the batches
    // are dropped outside the measurement, as the appender owns them.
    let rounds = 10;
    for (case, reuse) in [("cold", false), ("warm", true)] {
        let mut cache = ScrapeCache::default();
        scrape(&mut cache);
        let mut kept = Vec::with_capacity(rounds);
        let cpu0 = cpu::thread_cpu_ns();
        for _ in 0..rounds {
            if !reuse {
                cache = ScrapeCache::default();
            }
            kept.push(scrape(&mut cache));
        }
        let cpu = cpu::thread_cpu_ns() - cpu0;
        drop(kept);
        eprintln!(
            "ingest ({case} cache): {:.2} M samples per CPU-second ({:.1} MB/s of page text)",
            cpu::m_per_cpu_s(rounds * SERIES, cpu),
            (rounds * page.len()) as f64 / (cpu as f64 / 1e9) / 1e6,
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
