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
use std::path::{Path, PathBuf};

use smelter::syntax::scanner::Scanner;
use smelter::syntax::token::Token;
use smelter::syntax::{parse_file, SourceFile};

const DICTIONARY: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"(",
    b")",
    b",",
    b".",
    b"=",
    b"==",
    b"!=",
    b"<=",
    b">=",
    b"/",
    b"!",
    b"&&",
    b"||",
    b"|",
    b"&",
    b"\n",
    b"\r\n",
    b"\r",
    b" ",
    b"\t",
    b"\"",
    b"`",
    b"'",
    b"//",
    b"/*",
    b"*/",
    b"/* a\n b */",
    b"// c\n",
    b"\\",
    b"\\x",
    b"\\u",
    b"\\U00110000",
    b"\\ud800",
    b"\\377",
    b"\\400",
    b"0",
    b"010",
    b"1e",
    b"1e+",
    b"1.5e+3",
    b".5",
    b"5.",
    b"null",
    b"true",
    b"false",
    b"a",
    b"a.b",
    b"_x9",
    b"\"label\"",
    b"block \"x\" { }",
    b"x = [\n1,\n]",
    b"\xEF\xBB\xBF",
    b"\0",
    b"\xC3\xA9",
    b"\xC3",
    b"\xFF",
    b"\xE2\x80",
    b"\xF0\x9F\x98\x80",
    b"\xE2\x85\xA7",
    b"\xD9\xA3",
    b"\xCC\x81",
    b"\xC2\xA0",
    b"#",
    b"@",
    b"~",
    b"$",
    b"?",
    b":",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
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
    if data.len() > 2048 {
        let i = rng.below(data.len() - 2048);
        data = data[i..i + 2048].to_vec();
    }
    for _ in 0..1 + rng.below(6) {
        let len = data.len();
        match rng.below(5) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 | 2 => {
                let tok = DICTIONARY[rng.below(DICTIONARY.len())];
                let i = rng.below(len + 1);
                data.splice(i..i, tok.iter().copied());
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(16)).min(len);
                data.drain(i..j);
            }
            _ => {
                let cut = rng.below(len + 1);
                data.truncate(cut);
            }
        }
    }
    data
}

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
