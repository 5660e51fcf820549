//! Parses a page many times and prints samples per second of CPU time, for
//! profiling (`perf record`) and for machines where wall-clock benchmarks
//! are disturbed by other processes (`perf stat -e task-clock`).
//!
//! Run: `cargo run --release -p smelter-storage --example exposition_throughput -- [synthetic|node|node-om] [rounds] [labels]`

use std::time::Instant;

use smelter_storage::exposition::{Entry, Format, Parser};

#[path = "../benches/synthetic.rs"]
mod synthetic;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("synthetic");
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let walk_labels = args.get(3).is_some_and(|s| s == "labels");
    let (page, format) = match which {
        "node" => (
            include_bytes!("../tests/data/node_exporter.prom").to_vec(),
            Format::PrometheusText,
        ),
        "node-om" => (
            include_bytes!("../tests/data/node_exporter.om.txt").to_vec(),
            Format::OpenMetrics,
        ),
        _ => (synthetic::synthetic_page(100_000), Format::PrometheusText),
    };
    let cpu_started = thread_cpu_ns();
    let started = Instant::now();
    let (mut samples, mut check) = (0usize, 0usize);
    for _ in 0..rounds {
        for e in Parser::new(&page, format) {
            if let Entry::Sample { labels, value, .. } = e.unwrap() {
                samples += 1;
                check = check.wrapping_add(value as usize);
                if walk_labels {
                    for (k, v) in labels {
                        check = check.wrapping_add(k.len() + v.len());
                    }
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = thread_cpu_ns()
        .zip(cpu_started)
        .map(|(b, a)| (b - a) as f64 / 1e9);
    let bytes = (page.len() * rounds) as f64;
    println!(
        "{which}: {} bytes x {rounds}, {samples} samples (check {check})",
        page.len()
    );
    println!(
        "  wall {secs:.3} s: {:.2} M samples/s, {:.0} MiB/s",
        samples as f64 / secs / 1e6,
        bytes / secs / (1 << 20) as f64,
    );
    if let Some(cpu) = cpu {
        println!(
            "  cpu  {cpu:.3} s: {:.2} M samples/s, {:.0} MiB/s (per core: thread CPU time)",
            samples as f64 / cpu / 1e6,
            bytes / cpu / (1 << 20) as f64,
        );
    }
}

/// CPU time of this thread in ns, from Linux' schedstat (first field).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
