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
use std::path::{Path, PathBuf};
use std::time::Instant;

const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ".",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "!",
    "&&",
    "||",
    "\n",
    " ",
    "\t",
    "\"",
    "`",
    "'",
    "//",
    "/*",
    "*/",
    "\\",
    "\\x",
    "\\u",
    "\\U00110000",
    "0",
    "010",
    "08",
    "1e",
    "1.5e+3",
    ".5",
    "18446744073709551616",
    "null",
    "true",
    "false",
    "a",
    "a.b",
    "\"label\"",
    "block \"x\" { }",
    "x = [\n1,\n]",
    "sys.env(\"HOME\")",
    "coalesce(null, 1)",
    "json_path(\"{}\", \".a\")",
    "string.format(\"%d\", 1)",
    "\u{FEFF}",
    "\0",
    "\u{e9}",
    "\u{ff}",
    "encoding.from_json(\"[1]\")",
    "array.concat([1], [2])",
    "((((",
    "]]]]",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: fast and good enough to pick mutations.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn corpus_files(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            corpus_files(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            if bytes.len() < 64 * 1024 {
                out.push(bytes);
            }
        }
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let len = data.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let tok = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                let i = rng.below(len + 1);
                data.splice(i..i, tok.iter().copied());
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(32)).min(len);
                data.drain(i..j);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(64)).min(len);
                let chunk = data[i..j].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, chunk);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let j = (i + 1 + rng.below(128)).min(other.len());
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[i..j].iter().copied());
                }
            }
            _ => {
                let cut = rng.below(len + 1);
                data.truncate(cut);
            }
        }
    }
    data
}

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
