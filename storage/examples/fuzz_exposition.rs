//! Deterministic mutation fuzzer for the scrape parser.
//!
//! Takes windows of the node_exporter fixtures (and small hand-written pages),
//! applies 1–8 random byte mutations (bit flips, inserts of syntax-relevant
//! bytes, deletes, duplicated chunks, truncation), parses each result to the
//! end in both formats under `catch_unwind`, and counts panics.
//!
//! Run: `cargo run --release -p smelter-storage --example fuzz_exposition -- 1000000`

use std::panic::{catch_unwind, AssertUnwindSafe};

use smelter_storage::exposition::{Entry, Format, Parser};

const NODE_PROM: &[u8] = include_bytes!("../tests/data/node_exporter.prom");
const NODE_OM: &[u8] = include_bytes!("../tests/data/node_exporter.om.txt");
const SMALL: &[&[u8]] = &[
    b"# TYPE foo histogram\nfoo_bucket{le=\"1.0\"} 11 1520879607.789 # {trace_id=\"oHg5SJYRHA0\",span=\"a\\\"b\"} 9.8 1520879602.5\nfoo_count 17\n# EOF\n",
    b"# HELP m a\\\\b\\n\n# TYPE m counter\nm{a=\"x\\\\y\",b=\"q\\\"\",c=\"\\n\",} 0x1p3 1700000000000\r\n{\"my.metric\", \"l.a\"=\"v\"} -Inf\n",
    b"# TYPE c counter\n# UNIT c_seconds seconds\nc_total 1 # {trace_id=\"x\"} 1 1\nc_created 0\n# EOF\n",
];
const INTERESTING: &[u8] = b"{}=,\"\\# \t\n\r.eE+-0123456789xpINa_:\xff\xc3\x80";

#[path = "support/rng.rs"]
mod rng;

use rng::Rng;

fn base_input(rng: &mut Rng, out: &mut Vec<u8>) {
    out.clear();
    match rng.below(8) {
        0..=2 => out.extend_from_slice(SMALL[rng.below(SMALL.len())]),
        k => {
            let page = if k % 2 == 0 { NODE_PROM } else { NODE_OM };
            // A window of up to 4 KiB starting at a line start, or the whole
            // page now and then (to reach `# EOF` handling).
            if rng.below(64) == 0 {
                out.extend_from_slice(page);
            } else {
                let mut start = rng.below(page.len());
                while start > 0 && page[start - 1] != b'\n' {
                    start -= 1;
                }
                let end = (start + 1 + rng.below(4096)).min(page.len());
                out.extend_from_slice(&page[start..end]);
                if rng.below(2) == 0 {
                    out.extend_from_slice(b"# EOF\n");
                }
            }
        }
    }
}

fn mutate(rng: &mut Rng, v: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(8) {
        let n = v.len();
        match rng.below(6) {
            0 if n > 0 => {
                let i = rng.below(n);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let b = if rng.below(2) == 0 {
                    INTERESTING[rng.below(INTERESTING.len())]
                } else {
                    rng.next() as u8
                };
                v.insert(rng.below(n + 1), b);
            }
            2 if n > 0 => {
                let i = rng.below(n);
                let len = 1 + rng.below(8.min(n - i));
                v.drain(i..i + len);
            }
            3 if n > 0 => {
                let i = rng.below(n);
                let len = 1 + rng.below(32.min(n - i));
                let chunk = v[i..i + len].to_vec();
                let at = rng.below(n + 1);
                v.splice(at..at, chunk);
            }
            4 => v.truncate(rng.below(n + 1)),
            _ if n > 0 => {
                let i = rng.below(n);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            _ => {}
        }
    }
}

fn parse_all(input: &[u8]) -> (usize, usize) {
    let mut samples = 0;
    let mut errors = 0;
    for f in [Format::PrometheusText, Format::OpenMetrics] {
        for e in Parser::new(input, f) {
            match e {
                Ok(Entry::Sample { labels, .. }) => {
                    samples += 1;
                    std::hint::black_box(labels.iter().count());
                }
                Ok(_) => {}
                Err(e) => {
                    errors += 1;
                    std::hint::black_box(e.to_string());
                }
            }
        }
    }
    (samples, errors)
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|s| s.replace('_', "").parse().expect("N must be a number"))
        .unwrap_or(1_000_000);
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(0x5EED_2026_C0FF_EE11);
    let mut buf = Vec::with_capacity(8192);
    let (mut panics, mut samples, mut errors) = (0u64, 0usize, 0usize);
    let mut first_panic: Option<Vec<u8>> = None;
    let started = std::time::Instant::now();
    for _ in 0..n {
        base_input(&mut rng, &mut buf);
        mutate(&mut rng, &mut buf);
        match catch_unwind(AssertUnwindSafe(|| parse_all(&buf))) {
            Ok((s, e)) => {
                samples += s;
                errors += e;
            }
            Err(_) => {
                panics += 1;
                first_panic.get_or_insert_with(|| buf.clone());
            }
        }
    }
    if let Some(input) = first_panic {
        eprintln!(
            "first panicking input: {:?}",
            String::from_utf8_lossy(&input)
        );
    }
    eprintln!(
        "({samples} samples and {errors} errors over both formats, {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    println!("{n} inputs, {panics} panics");
    if panics > 0 {
        std::process::exit(1);
    }
}
