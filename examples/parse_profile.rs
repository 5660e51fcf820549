//! Parse a generated config repeatedly, for profilers (`perf record`).
//! Run: `cargo run --release --example parse_profile -- 100000 5`
/// The same allocator as the `smelter` binary, so figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fmt::Write as _;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let reps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let mut s = String::new();
    for i in 0..n {
        let _ = write!(
            s,
            "prometheus.scrape \"job_{i}\" {{\n\ttargets = [{{\"__address__\" = \"10.0.0.1:9100\", job = \"node\"}}]\n\tforward_to = [prometheus.relabel.r_{i}.receiver]\n\tscrape_interval = \"15s\"\n}}\n\n"
        );
    }
    let file = smelter::syntax::SourceFile::new("gen.alloy", s.into_bytes());
    let start = std::time::Instant::now();
    for _ in 0..reps {
        let (ast, diags) = smelter::syntax::parse_file(&file);
        assert!(diags.is_empty() && ast.is_some());
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.1} MB/s", (file.src().len() * reps) as f64 / secs / 1e6);
}
