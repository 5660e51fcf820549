//! Shared by the syntax fuzzers and the scanner's differential check: a
//! deterministic mutation source over the Alloy corpus (byte flips, token
//! insertions from an Alloy dictionary, deletions, duplications, splices).
//! Included with `#[path]` because examples cannot share a module otherwise.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const DICTIONARY: &[&str] = &[
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

// The storage fuzzers' random source, so every fuzzer draws the same way.
#[path = "../../storage/examples/support/rng.rs"]
mod rng;
pub use rng::Rng;

pub fn corpus_files(dir: &Path, out: &mut Vec<Vec<u8>>) {
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

pub fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
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
