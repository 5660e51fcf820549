//! `smelter validate` against Alloy's own validator test cases
//! (`../shared/alloy-corpus/validator`): the rendered diagnostics must be
//! those `alloy validate` prints.

mod common;

use std::fs;

use smelter::controller::{validate, AlloyRegistry, Options, Registry, Schema, Stability};
use smelter::syntax::diag;

/// Validate a corpus case; returns (rendered diagnostics, expected text).
fn run(case: &str, min_stability: Stability, registry: &dyn Registry) -> (String, String) {
    let dir = common::corpus().join("validator");
    let archive = fs::read_to_string(dir.join(format!("{case}.txtar"))).unwrap();
    let expected = fs::read_to_string(dir.join(format!("{case}.diags"))).unwrap();
    let (_, files) = common::txtar(&archive);
    let sources: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(n, c)| (n, c.into_bytes()))
        .collect();
    let opts = Options {
        min_stability,
        community_components: false,
        registry,
    };
    let diags = validate(&sources, &opts);
    let got = diag::render(&diags, |name| {
        sources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.as_slice())
    });
    (got, expected)
}

fn default_registry() -> &'static AlloyRegistry {
    &smelter::controller::DEFAULT_REGISTRY
}

/// Split rendered output into its diagnostics (blank-line separated blocks
/// that start with `Error:`/`Warning:`).
fn blocks(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("Error: ") || line.starts_with("Warning: ") {
            out.push(String::new());
        }
        if let Some(last) = out.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    out.into_iter().map(|b| b.trim_end().to_string()).collect()
}

fn headline(block: &str) -> &str {
    block.lines().next().unwrap_or("")
}

/// Every diagnostic smelter prints is in the expected output, in the same
/// order, and the ones it misses are exactly `gaps` (their header lines).
fn assert_subset_with_gaps(case: &str, got: &str, expected: &str, gaps: &[&str]) {
    let got = blocks(got);
    let want = blocks(expected);
    let mut missing = Vec::new();
    let mut gi = 0;
    for w in &want {
        if gi < got.len() && &got[gi] == w {
            gi += 1;
        } else {
            missing.push(headline(w).to_string());
        }
    }
    assert_eq!(
        gi,
        got.len(),
        "{case}: smelter printed a diagnostic Alloy does not (or out of order): {:#?}",
        got.get(gi)
    );
    assert_eq!(missing, gaps, "{case}: known gaps changed");
}

fn exact(case: &str, min: Stability) {
    let (got, expected) = run(case, min, default_registry());
    assert_eq!(got, expected, "{case}: rendered diagnostics differ");
}

#[test]
fn cycle() {
    exact("cycle", Stability::Experimental);
}

#[test]
fn duplicates() {
    exact("duplicates", Stability::Experimental);
}

#[test]
fn invalid_refs() {
    exact("invalid_refs", Stability::Experimental);
}

#[test]
fn syntax_errors() {
    exact("syntax_errors", Stability::Experimental);
}

#[test]
fn valid() {
    exact("valid", Stability::Experimental);
}

#[test]
fn stdlib() {
    exact("stdlib", Stability::Experimental);
}

#[test]
fn ga_non_ga() {
    exact("ga/non_ga", Stability::GenerallyAvailable);
}

// Known gaps: smelter does not implement `remote.http` and
// `loki.source.file` yet, so it has no argument schema for them and cannot
// report their missing or unknown attributes. Each case below lists exactly
// the diagnostics that need those schemas; everything else must match.

#[test]
fn invalid_declare() {
    let (got, expected) = run(
        "invalid_declare",
        Stability::Experimental,
        default_registry(),
    );
    assert_subset_with_gaps(
        "invalid_declare",
        &got,
        &expected,
        &[
            "Error: main.alloy:38:2: missing required attribute \"url\"",
            "Error: main.alloy:42:3: unrecognized attribute name \"test\"",
        ],
    );
}

#[test]
fn invalid_foreach() {
    let (got, expected) = run(
        "invalid_foreach",
        Stability::Experimental,
        default_registry(),
    );
    assert_subset_with_gaps(
        "invalid_foreach",
        &got,
        &expected,
        &[
            "Error: main.alloy:20:3: missing required attribute \"url\"",
            "Error: main.alloy:24:4: unrecognized attribute name \"test\"",
            "Error: main.alloy:76:5: missing required attribute \"url\"",
            "Error: main.alloy:80:6: unrecognized attribute name \"test\"",
        ],
    );
}

#[test]
fn invalid_properties() {
    let (got, expected) = run(
        "invalid_properties",
        Stability::Experimental,
        default_registry(),
    );
    assert_subset_with_gaps(
        "invalid_properties",
        &got,
        &expected,
        &[
            "Error: main.alloy:2:1: missing required attribute \"url\"",
            "Error: main.alloy:5:2: unrecognized attribute name \"test\"",
            "Error: main.alloy:4:1: missing required attribute \"targets\"",
            "Error: main.alloy:4:1: missing required attribute \"forward_to\"",
        ],
    );
}

/// The schema hook closes the gaps: with the two components' argument
/// shapes (from Alloy's `remote.http` and `loki.source.file` Arguments)
/// registered, the output is Alloy's byte for byte.
fn registry_with_schemas() -> AlloyRegistry {
    let mut r = AlloyRegistry::new();
    r.register_schema(
        "remote.http",
        Schema::new()
            .attr("url", true)
            .attr("poll_frequency", false)
            .attr("poll_timeout", false)
            .attr("is_secret", false)
            .attr("method", false)
            .attr("headers", false)
            .attr("body", false)
            .block(
                "client",
                false,
                smelter::controller::schema::http_client_config(),
            ),
    );
    r.register_schema(
        "loki.source.file",
        Schema::new()
            .attr("targets", true)
            .attr("forward_to", true)
            .attr("encoding", false)
            .block("decompression", false, Schema::open())
            .block("file_watch", false, Schema::open())
            .block("file_match", false, Schema::open())
            .attr("tail_from_end", false)
            .attr("legacy_positions_file", false)
            .attr("on_positions_file_error", false),
    );
    r
}

#[test]
fn schema_hook_gives_exact_output() {
    let r = registry_with_schemas();
    for case in [
        "invalid_declare",
        "invalid_foreach",
        "invalid_properties",
        "valid",
    ] {
        let (got, expected) = run(case, Stability::Experimental, &r);
        assert_eq!(
            got, expected,
            "{case} with schemas: rendered diagnostics differ"
        );
    }
}

#[test]
fn graph_is_exposed() {
    let src = "prometheus.relabel \"a\" {\n  forward_to = [prometheus.relabel.b.receiver]\n}\n\
               prometheus.relabel \"b\" {\n  forward_to = []\n}\n";
    let v = smelter::controller::check(
        &[("main.alloy".to_string(), src.as_bytes().to_vec())],
        &Options::default(),
    );
    assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
    let g = v.graph.expect("graph");
    let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["prometheus.relabel.a", "prometheus.relabel.b"]);
    assert_eq!(g.edges.len(), 1);
    assert_eq!((g.edges[0].from, g.edges[0].to), (0, 1));
    assert_eq!(g.edges[0].start().to_string(), "main.alloy:2:17");
    assert_eq!(g.topological_order(), Ok(vec![1, 0]));
}

#[test]
fn unknown_component_gets_a_hint() {
    let src = "prometheus.scrap \"x\" {\n}\n";
    let v = smelter::controller::check(
        &[("main.alloy".to_string(), src.as_bytes().to_vec())],
        &Options::default(),
    );
    assert_eq!(
        v.diagnostics.0[0].message,
        "cannot find the definition of component name \"prometheus.scrap\""
    );
    assert_eq!(v.hints.len(), 1);
    assert_eq!(v.hints[0].message, "did you mean \"prometheus.scrape\"?");
}

/// A configuration large enough to be checked on several threads gives the
/// diagnostics, hints and edges of the sequential check, in block order.
#[test]
fn a_large_configuration_is_checked_in_block_order() {
    const BLOCKS: usize = 9_000;
    let unknown = [100, 8_990];
    let dangling = 4_500;
    let mut src = String::from("discovery.relabel \"root\" {\n  targets = []\n}\n");
    for i in 1..BLOCKS {
        let kind = if unknown.contains(&i) {
            "prometheus.scrap"
        } else {
            "discovery.relabel"
        };
        let from = if i == dangling { "nowhere" } else { "root" };
        src.push_str(&format!(
            "{kind} \"b{i}\" {{\n  targets = discovery.relabel.{from}.output\n}}\n"
        ));
    }
    let v = smelter::controller::check(
        &[("main.alloy".to_string(), src.into_bytes())],
        &Options::default(),
    );
    let got: Vec<(u32, &str)> = v
        .diagnostics
        .0
        .iter()
        .map(|d| (d.start.line, d.message.as_str()))
        .collect();
    let line = |i: usize| 3 * i as u32 + 1;
    assert_eq!(
        got,
        [
            (
                line(100),
                "cannot find the definition of component name \"prometheus.scrap\""
            ),
            (
                line(4_500) + 1,
                "component \"discovery.relabel.nowhere.output\" does not exist or is out of scope"
            ),
            (
                line(8_990),
                "cannot find the definition of component name \"prometheus.scrap\""
            ),
        ]
    );
    let hints: Vec<(usize, &str)> = v
        .hints
        .iter()
        .map(|h| (h.diagnostic, h.message.as_str()))
        .collect();
    let hint = "did you mean \"prometheus.scrape\"?";
    assert_eq!(hints, [(0, hint), (2, hint)]);
    let g = v.graph.expect("graph");
    // Every block but the root, the two unknown ones and the dangling one
    // reads the root, in block order.
    let edges: Vec<(usize, usize)> = g.edges.iter().map(|e| (e.from, e.to)).collect();
    let expected: Vec<(usize, usize)> = (1..BLOCKS)
        .filter(|i| !unknown.contains(i) && *i != dangling)
        .map(|i| (i, 0))
        .collect();
    assert_eq!(edges, expected);
}

#[test]
fn hostile_inputs_do_not_panic() {
    for src in [
        "a = 1\n",
        "declare {}\nforeach {}\nforeach \"x\" { template {} var = 1 }\n",
        "x.y {}\nx.y {}\nhttp \"l\" {}\nui {}\ncluster {}\n",
        "declare \"d\" { a = 1\n logging {}\n http {}\n }\n",
        "foreach \"f\" { template { argument \"a\" {} export \"e\" {} } collection = [] var = \"v\" }\n",
    ] {
        let _ = validate(
            &[("main.alloy".to_string(), src.as_bytes().to_vec())],
            &Options::default(),
        );
    }
}

/// Every configuration of the corpus (docs, examples, Alloy's tests) goes
/// through the validator without a panic, and the real-world ones name no
/// unknown component except Alloy's internal test components.
#[test]
fn corpus_configs_validate_without_panic() {
    let dir = common::corpus().join("configs");
    let index = fs::read_to_string(dir.join("INDEX.tsv")).unwrap();
    let opts = Options {
        min_stability: Stability::Experimental,
        community_components: true,
        registry: default_registry(),
    };
    let mut checked = 0;
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let name = cols[0];
        let src = fs::read(dir.join(name)).unwrap();
        let diags = validate(&[(name.to_string(), src)], &opts);
        if name.starts_with("file__example") {
            assert!(diags.is_empty(), "{name}: {diags}");
        }
        checked += 1;
    }
    assert!(checked > 100);
}

#[test]
fn cli_exit_codes() {
    let dir = std::env::temp_dir().join(format!("smelter-validate-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("a.alloy"), "logging {\n  level = \"info\"\n}\n").unwrap();
    fs::write(dir.join("notes.txt"), "not a config").unwrap();
    assert_eq!(smelter::cli::validate::run(std::slice::from_ref(&dir)), 0);
    fs::write(dir.join("b.alloy"), "local.missing \"x\" {}\n").unwrap();
    assert_eq!(smelter::cli::validate::run(std::slice::from_ref(&dir)), 1);
    assert_eq!(smelter::cli::validate::run(&[dir.join("a.alloy")]), 0);
    assert_eq!(smelter::cli::validate::run(&[dir.join("nope.alloy")]), 1);
    fs::remove_dir_all(&dir).unwrap();
}
