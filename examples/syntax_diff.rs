//! Differential check for scanner/parser changes: prints one fingerprint per
//! input (the token stream with the scanner errors drained after each token,
//! and the parser's diagnostics and AST), for the corpus files and for
//! mutations of them. Build it before and after a change and `diff` the two
//! outputs; any difference is a change in behaviour.
//!
//! Run: `cargo run --release --example syntax_diff -- 200000 > out.txt`
//! Show one input's details: `... -- 200000 show N`
//! Check files for parser panics: `... -- files PATH...`

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use smelter::syntax::scanner::Scanner;
use smelter::syntax::token::Token;
use smelter::syntax::{parse_file, SourceFile};

#[path = "support/mutator.rs"]
mod mutator;

use mutator::{corpus_files, mutate, Rng};

fn describe(input: &[u8]) -> String {
    let mut out = String::new();
    let mut s = Scanner::new(input);
    loop {
        let t = s.scan();
        let _ = writeln!(out, "{} {:?} {:?}", t.pos, t.tok, t.lit);
        for (pos, msg) in s.take_errors() {
            let _ = writeln!(out, "  error {pos}: {msg}");
        }
        if t.tok == Token::Eof {
            break;
        }
    }
    let file = SourceFile::new("in.alloy", input.to_vec());
    let (ast, diags) = parse_file(&file);
    let _ = writeln!(out, "{diags:?}\n{ast:?}");
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    if std::env::args().nth(1).as_deref() == Some("files") {
        // Scan and parse the given files (e.g. saved fuzz crashes) and say
        // whether the parser itself panics on them.
        for path in args.skip(1) {
            let input = std::fs::read(&path).unwrap_or_default();
            let ok = std::panic::catch_unwind(|| describe(&input)).is_ok();
            println!("{path}: {}", if ok { "parser ok" } else { "PARSER PANIC" });
            if ok {
                // Then the whole fuzz step; the default hook prints why it
                // panics (formatter, evaluator).
                let _ = std::panic::catch_unwind(|| smelter::syntax::fuzz_one(&input));
            }
        }
        return;
    }
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let show: Option<usize> = match args.next().as_deref() {
        Some("show") => args.next().and_then(|a| a.parse().ok()),
        _ => None,
    };
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/alloy-corpus");
    let mut seeds = Vec::new();
    corpus_files(&corpus, &mut seeds);
    let mut rng = Rng(0x5eed_d1ff);
    let total = seeds.len() + count;
    for n in 0..total {
        let input = if n < seeds.len() {
            seeds[n].clone()
        } else {
            mutate(&mut rng, &seeds)
        };
        if let Some(k) = show {
            if k == n {
                println!("{:?}", String::from_utf8_lossy(&input));
                print!("{}", describe(&input));
                return;
            }
            continue;
        }
        let mut h = DefaultHasher::new();
        describe(&input).hash(&mut h);
        println!("{n} {:016x}", h.finish());
    }
}
