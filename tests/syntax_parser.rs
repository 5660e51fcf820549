//! The parser against Alloy's own test inputs and real configurations
//! (`../shared/alloy-corpus`): positions and messages must match Alloy's.

mod common;

use std::collections::BTreeMap;
use std::fs;

use smelter::syntax::{parse_file, SourceFile};

fn diags_of(name: &str, src: &[u8]) -> Vec<(u32, u32, String)> {
    let file = SourceFile::new(name, src.to_vec());
    let (_, diags) = parse_file(&file);
    diags
        .iter()
        .map(|d| (d.start.line, d.start.column, d.message.clone()))
        .collect()
}

#[test]
fn parser_testdata_errors_match_alloy() {
    let dir = common::corpus().join("parser");
    let tsv = fs::read_to_string(dir.join("EXPECTED_ERRORS.tsv")).unwrap();
    let mut expected: BTreeMap<String, Vec<(u32, u32, String)>> = BTreeMap::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, l, c, msg) = (cols[0], cols[1], cols[2], cols[3]);
        let entry = expected.entry(file.to_string()).or_default();
        if l != "-" {
            entry.push((l.parse().unwrap(), c.parse().unwrap(), msg.to_string()));
        }
    }
    let mut checked = 0;
    for (file, want) in &expected {
        let rel = file.trim_start_matches("parser-testdata/");
        let rel = rel.split(" input=").next().unwrap();
        let src = fs::read(dir.join(rel)).unwrap();
        let src = if rel.starts_with("fuzz/") {
            fuzz_seed(&src)
        } else {
            src
        };
        let got = diags_of(rel, &src);
        assert_eq!(&got, want, "diagnostics of {rel}");
        checked += 1;
    }
    assert_eq!(checked, 14);
}

/// Go fuzz corpus files: `go test fuzz v1` then `[]byte("...")`.
fn fuzz_seed(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let line = text.lines().nth(1).unwrap();
    let inner = line
        .trim()
        .strip_prefix("[]byte(\"")
        .and_then(|s| s.strip_suffix("\")"))
        .unwrap();
    inner.replace("\\\"", "\"").into_bytes()
}

#[test]
fn corpus_configs_parse_as_alloy_does() {
    let dir = common::corpus().join("configs");
    let index = fs::read_to_string(dir.join("INDEX.tsv")).unwrap();
    let (mut full, mut broken) = (0, 0);
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, kind, expected) = (cols[0], cols[2], cols[4]);
        let src = fs::read(dir.join(name)).unwrap();
        let got = diags_of(name, &src);
        if kind == "full" {
            assert!(got.is_empty(), "{name} should parse cleanly: {got:?}");
            full += 1;
        } else {
            assert!(!got.is_empty(), "{name} ({kind}) should not parse");
            if let Some(first) = expected.strip_prefix("error: ").filter(|s| !s.is_empty()) {
                let (l, c, m) = &got[0];
                assert_eq!(format!("{l}:{c}: {m}"), first, "first diagnostic of {name}");
            }
            broken += 1;
        }
    }
    assert_eq!(full, 667);
    assert!(broken > 200, "{broken}");
}
