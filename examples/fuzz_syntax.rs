//! Mutation fuzzer for the Alloy syntax: parser, evaluator and formatter must
//! never panic, whatever the input.
//!
//! cargo-fuzz needs a nightly toolchain, which these machines do not have, so
//! this is a deterministic, dependency-free mutation loop over the corpus
//! (`../shared/alloy-corpus`): byte flips, token insertions from an Alloy
//! dictionary, deletions, duplications and splices between files. Each input
//! runs under `catch_unwind`; the run prints how many inputs it tried and how
//! many panicked, and saves any panicking input to `target/fuzz-crashes/`.
//!
//! Run: `cargo run --release --example fuzz_syntax -- 1000000 [seed]`

use std::panic;
use std::path::PathBuf;
use std::time::Instant;

#[path = "support/mutator.rs"]
mod mutator;

use mutator::{corpus_files, mutate, Rng};

fn main() {
    let mut args = std::env::args().skip(1);
    let count: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0x5eed);
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/alloy-corpus");
    let mut seeds = Vec::new();
    corpus_files(&corpus, &mut seeds);
    if seeds.is_empty() {
        eprintln!("no corpus files under {}", corpus.display());
        std::process::exit(2);
    }
    panic::set_hook(Box::new(|_| {}));
    let crash_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
    let mut rng = Rng(seed | 1);
    let (mut panics, mut parsed_ok, mut bytes) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    for n in 0..count {
        let input = mutate(&mut rng, &seeds);
        bytes += input.len() as u64;
        let result = panic::catch_unwind(|| smelter::syntax::fuzz_one(&input));
        match result {
            Ok(true) => parsed_ok += 1,
            Ok(false) => {}
            Err(_) => {
                panics += 1;
                let _ = std::fs::create_dir_all(&crash_dir);
                let _ = std::fs::write(crash_dir.join(format!("crash-{n}")), &input);
            }
        }
    }
    println!(
        "{count} inputs ({:.1} MB, {parsed_ok} parsed cleanly), {panics} panics, {:.1} s",
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    if panics > 0 {
        std::process::exit(1);
    }
}
