//! The relabel engine against Prometheus' relabel test table (every action,
//! anchoring, empty source values, separators, `${1}` vs `$1x`, hashmod
//! values, labelmap, case changes, keepequal/dropequal), Alloy's validation
//! messages, and `rule` blocks decoded from Alloy text by the project's parser
//! and evaluator.

use std::collections::BTreeMap;

use smelter::components::common::relabel::{
    hashmod, process, process_series, process_with, rules_to_value, Action, LabelSet,
    NameValidation, Regexp, Rule, Scratch, SortedLabels,
};
use smelter::syntax::ast::Stmt;
use smelter::syntax::decode::{decode_block, FromValue};
use smelter::syntax::{parse_file, Diagnostics, EvalContext, Scope, SourceFile, Value};

fn re(p: &str) -> Regexp {
    Regexp::new(p).expect("regex compiles")
}

fn src(labels: &[&str]) -> Option<Vec<String>> {
    Some(labels.iter().map(|s| s.to_string()).collect())
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Runs `rules` on `input` with both label representations; `None` = dropped.
fn run(input: &[(&str, &str)], rules: &[Rule]) -> Option<BTreeMap<String, String>> {
    for r in rules {
        r.validate().expect("test rule is valid");
    }
    let mut map = labels(input);
    let kept = process(rules, &mut map);
    let mut sorted = SortedLabels::from_pairs(input.iter().copied());
    let kept_sorted = process_with(rules, &mut sorted, &mut Scratch::default());
    assert_eq!(kept, kept_sorted, "representations disagree on keep");
    if kept {
        let from_sorted: BTreeMap<String, String> = sorted
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(map, from_sorted, "representations disagree on labels");
        Some(map)
    } else {
        None
    }
}

fn replace(sources: &[&str], regex: &str, target: &str, replacement: &str) -> Rule {
    Rule {
        source_labels: src(sources),
        regex: re(regex),
        target_label: target.into(),
        replacement: replacement.into(),
        ..Rule::default()
    }
}

fn filter(action: Action, sources: &[&str], regex: &str) -> Rule {
    Rule {
        source_labels: src(sources),
        regex: re(regex),
        action,
        ..Rule::default()
    }
}

fn name_rule(action: Action, regex: &str, replacement: &str) -> Rule {
    Rule {
        regex: re(regex),
        replacement: replacement.into(),
        action,
        ..Rule::default()
    }
}

fn target_rule(action: Action, sources: &[&str], target: &str) -> Rule {
    Rule {
        source_labels: src(sources),
        target_label: target.into(),
        action,
        ..Rule::default()
    }
}

fn hashmod_rule(sources: &[&str], target: &str, modulus: u64) -> Rule {
    Rule {
        source_labels: src(sources),
        target_label: target.into(),
        modulus,
        action: Action::HashMod,
        ..Rule::default()
    }
}

const ABC: &[(&str, &str)] = &[("a", "foo"), ("b", "bar"), ("c", "baz")];

#[test]
fn replace_with_braced_groups() {
    let out = run(ABC, &[replace(&["a"], "f(.*)", "d", "ch${1}-ch${1}")]);
    assert_eq!(
        out,
        Some(labels(&[
            ("a", "foo"),
            ("b", "bar"),
            ("c", "baz"),
            ("d", "choo-choo")
        ]))
    );
}

#[test]
fn chained_replaces_see_earlier_results() {
    let out = run(
        ABC,
        &[
            replace(&["a", "b"], "f(.*);(.*)r", "a", "b${1}${2}m"),
            replace(&["c", "a"], "(b).*b(.*)ba(.*)", "d", "$1$2$2$3"),
        ],
    );
    assert_eq!(
        out,
        Some(labels(&[
            ("a", "boobam"),
            ("b", "bar"),
            ("c", "baz"),
            ("d", "boooom")
        ]))
    );
}

#[test]
fn drop_stops_the_chain() {
    let rules = [
        filter(Action::Drop, &["a"], ".*o.*"),
        replace(&["a"], "f(.*)", "d", "ch$1-ch$1"),
    ];
    assert_eq!(run(&[("a", "foo")], &rules), None);
    assert_eq!(
        run(&[("a", "foo"), ("b", "bar")], &rules[..1]),
        None,
        "drop on match"
    );
}

#[test]
fn regexes_are_fully_anchored() {
    // `.*(b).*` must match the whole value; the group is the `b`.
    let out = run(&[("a", "abc")], &[replace(&["a"], ".*(b).*", "d", "$1")]);
    assert_eq!(out, Some(labels(&[("a", "abc"), ("d", "b")])));
    // `no-match` and `f|o` do not match `foo` as a whole.
    let keep_all = Some(labels(&[("a", "foo")]));
    assert_eq!(
        run(&[("a", "foo")], &[filter(Action::Drop, &["a"], "no-match")]),
        keep_all
    );
    assert_eq!(
        run(&[("a", "foo")], &[filter(Action::Drop, &["a"], "f|o")]),
        keep_all
    );
    assert_eq!(
        run(&[("a", "foo")], &[filter(Action::Keep, &["a"], "no-match")]),
        None
    );
    assert_eq!(
        run(&[("a", "foo")], &[filter(Action::Keep, &["a"], "f.*")]),
        keep_all
    );
    // Partial matches do not count, at either end.
    assert_eq!(
        run(&[("a", "foo")], &[filter(Action::Keep, &["a"], "fo")]),
        None
    );
    assert_eq!(
        run(&[("a", "foo")], &[filter(Action::Keep, &["a"], "oo")]),
        None
    );
    // `.` matches a newline, as with Prometheus' `(?s:...)`.
    assert_eq!(
        run(
            &[("a", "foo\nbar")],
            &[filter(Action::Keep, &["a"], "foo.bar")]
        ),
        Some(labels(&[("a", "foo\nbar")]))
    );
}

#[test]
fn no_replacement_without_a_match() {
    let out = run(&[("a", "boo")], &[replace(&["a"], "f", "b", "bar")]);
    assert_eq!(out, Some(labels(&[("a", "boo")])));
}

#[test]
fn blank_replacement_deletes_the_target() {
    let out = run(
        &[("a", "foo"), ("f", "baz")],
        &[replace(&["a"], "(f).*", "$1", "$2")],
    );
    assert_eq!(out, Some(labels(&[("a", "foo")])));
}

#[test]
fn hashmod_matches_prometheus() {
    let out = run(ABC, &[hashmod_rule(&["c"], "d", 1000)]);
    assert_eq!(
        out.as_ref().and_then(|l| l.get("d")).map(String::as_str),
        Some("976")
    );
    let out = run(&[("a", "foo\nbar")], &[hashmod_rule(&["a"], "b", 1000)]);
    assert_eq!(
        out.as_ref().and_then(|l| l.get("b")).map(String::as_str),
        Some("734")
    );
    assert_eq!(hashmod("baz", 1000), 976);
    assert_eq!(hashmod("foo\nbar", 1000), 734);
}

#[test]
fn labelmap_copies_with_groups() {
    let out = run(
        &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
        &[name_rule(Action::LabelMap, "(b.*)", "bar_${1}")],
    );
    assert_eq!(
        out,
        Some(labels(&[
            ("a", "foo"),
            ("b1", "bar"),
            ("b2", "baz"),
            ("bar_b1", "bar"),
            ("bar_b2", "baz"),
        ]))
    );
    let out = run(
        &[
            ("a", "foo"),
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
        ],
        &[name_rule(Action::LabelMap, "__meta_(my.*)", "${1}")],
    );
    assert_eq!(
        out,
        Some(labels(&[
            ("a", "foo"),
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
            ("my_bar", "aaa"),
            ("my_baz", "bbb"),
        ]))
    );
    // The default replacement `$1` with a prefix pattern (fast path).
    let out = run(
        &[("__meta_kubernetes_pod_label_app", "web"), ("x", "y")],
        &[name_rule(
            Action::LabelMap,
            "__meta_kubernetes_pod_label_(.+)",
            "$1",
        )],
    );
    assert_eq!(
        out,
        Some(labels(&[
            ("__meta_kubernetes_pod_label_app", "web"),
            ("app", "web"),
            ("x", "y")
        ]))
    );
}

#[test]
fn target_label_from_groups() {
    let input = &[("a", "some-name-value")];
    let out = run(
        input,
        &[replace(&["a"], "some-([^-]+)-([^,]+)", "${1}", "${2}")],
    );
    assert_eq!(
        out,
        Some(labels(&[("a", "some-name-value"), ("name", "value")]))
    );
    // A replacement naming a missing group is empty: the target is deleted
    // (here: never created).
    let out = run(
        input,
        &[replace(&["a"], "some-([^-]+)-([^,]+)", "${1}", "${3}")],
    );
    assert_eq!(out, Some(labels(input)));
    // A target naming a missing group is empty, hence invalid: no change.
    let input = &[("a", "some-name-0")];
    let out = run(
        input,
        &[
            replace(&["a"], "some-([^-]+)-([^,]+)", "${3}", "${1}"),
            replace(&["a"], "some-([^-]+)(-[^,]+)", "${3}", "${1}"),
        ],
    );
    assert_eq!(out, Some(labels(input)));
}

#[test]
fn dollar_one_x_names_group_one_x() {
    let input = &[("a", "foo")];
    let out = run(input, &[replace(&["a"], "(f)(o)o", "b", "$1x")]);
    assert_eq!(out, Some(labels(input)), "`$1x` is group `1x`: empty");
    let out = run(input, &[replace(&["a"], "(f)(o)o", "b", "${1}x")]);
    assert_eq!(out, Some(labels(&[("a", "foo"), ("b", "fx")])));
    let out = run(input, &[replace(&["a"], "(f)(o)o", "b", "$1-$2")]);
    assert_eq!(out, Some(labels(&[("a", "foo"), ("b", "f-o")])));
    let out = run(input, &[replace(&["a"], "(f)(o)o", "b", "$$1")]);
    assert_eq!(out, Some(labels(&[("a", "foo"), ("b", "$1")])));
    let out = run(input, &[replace(&["a"], "(?P<x>f)oo", "b", "<$x>")]);
    assert_eq!(out, Some(labels(&[("a", "foo"), ("b", "<f>")])));
}

#[test]
fn real_life_tags() {
    let tags = "path:/secret,job:some-job,label:foo=bar";
    let out = run(
        &[("__meta_sd_tags", tags)],
        &[
            replace(
                &["__meta_sd_tags"],
                "(?:.+,|^)path:(/[^,]+).*",
                "__metrics_path__",
                "${1}",
            ),
            replace(&["__meta_sd_tags"], "(?:.+,|^)job:([^,]+).*", "job", "${1}"),
            replace(
                &["__meta_sd_tags"],
                "(?:.+,|^)label:([^=]+)=([^,]+).*",
                "${1}",
                "${2}",
            ),
        ],
    );
    assert_eq!(
        out,
        Some(labels(&[
            ("__meta_sd_tags", tags),
            ("__metrics_path__", "/secret"),
            ("job", "some-job"),
            ("foo", "bar"),
        ]))
    );
}

#[test]
fn labeldrop_then_recreate_then_keep() {
    // prometheus/prometheus#12283.
    let out = run(
        &[
            ("__meta_kubernetes_pod_container_port_name", "foo"),
            ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
        ],
        &[
            name_rule(
                Action::LabelDrop,
                "^__meta_kubernetes_pod_container_port_name$",
                "$1",
            ),
            replace(
                &["__meta_kubernetes_pod_annotation_XXX_metrics_port"],
                "(.+)",
                "__meta_kubernetes_pod_container_port_name",
                "metrics",
            ),
            filter(
                Action::Keep,
                &["__meta_kubernetes_pod_container_port_name"],
                "^metrics$",
            ),
        ],
    );
    assert_eq!(
        out,
        Some(labels(&[
            ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
            ("__meta_kubernetes_pod_container_port_name", "metrics"),
        ]))
    );
}

#[test]
fn labelkeep_and_labeldrop() {
    let input = &[("a", "foo"), ("b1", "bar"), ("b2", "baz")];
    assert_eq!(
        run(input, &[name_rule(Action::LabelKeep, "(b.*)", "$1")]),
        Some(labels(&[("b1", "bar"), ("b2", "baz")]))
    );
    assert_eq!(
        run(input, &[name_rule(Action::LabelDrop, "(b.*)", "$1")]),
        Some(labels(&[("a", "foo")]))
    );
}

#[test]
fn lowercase_and_uppercase() {
    let out = run(
        &[("foo", "bAr123Foo")],
        &[
            target_rule(Action::Uppercase, &["foo"], "foo_uppercase"),
            target_rule(Action::Lowercase, &["foo"], "foo_lowercase"),
        ],
    );
    assert_eq!(
        out,
        Some(labels(&[
            ("foo", "bAr123Foo"),
            ("foo_lowercase", "bar123foo"),
            ("foo_uppercase", "BAR123FOO"),
        ]))
    );
    let out = run(
        &[("x", "ÄÖü")],
        &[target_rule(Action::Lowercase, &["x"], "y")],
    );
    assert_eq!(out, Some(labels(&[("x", "ÄÖü"), ("y", "äöü")])));
    // An empty source deletes the target.
    let out = run(
        &[("y", "old")],
        &[target_rule(Action::Lowercase, &["missing"], "y")],
    );
    assert_eq!(out, Some(labels(&[])));
}

#[test]
fn keepequal_and_dropequal() {
    let input = &[
        ("__tmp_port", "1234"),
        ("__port1", "1234"),
        ("__port2", "5678"),
    ];
    let all = Some(labels(input));
    assert_eq!(
        run(
            input,
            &[target_rule(Action::KeepEqual, &["__tmp_port"], "__port1")]
        ),
        all
    );
    assert_eq!(
        run(
            input,
            &[target_rule(Action::DropEqual, &["__tmp_port"], "__port1")]
        ),
        None
    );
    assert_eq!(
        run(
            input,
            &[target_rule(Action::DropEqual, &["__tmp_port"], "__port2")]
        ),
        all
    );
    assert_eq!(
        run(
            input,
            &[target_rule(Action::KeepEqual, &["__tmp_port"], "__port2")]
        ),
        None
    );
}

#[test]
fn empty_and_missing_source_values() {
    // A missing label reads as "": `^$` matches it.
    assert_eq!(
        run(&[("a", "x")], &[filter(Action::Drop, &["missing"], "")]),
        None
    );
    // Joined with the separator even when empty.
    let out = run(
        &[("a", "x")],
        &[replace(&["missing", "a", "other"], "(.*)", "j", "$1")],
    );
    assert_eq!(out, Some(labels(&[("a", "x"), ("j", ";x;")])));
    // No source labels: the value is "", so `(.*)` matches and a static
    // replacement is written.
    let out = run(&[("a", "x")], &[replace(&[], "(.*)", "cluster", "dev")]);
    assert_eq!(out, Some(labels(&[("a", "x"), ("cluster", "dev")])));
    // `(.+)` does not match "": nothing happens.
    let out = run(&[("a", "x")], &[replace(&["missing"], "(.+)", "b", "y")]);
    assert_eq!(out, Some(labels(&[("a", "x")])));
}

#[test]
fn custom_separator() {
    let mut r = replace(&["a", "b"], "(.*)/(.*)", "c", "$2-$1");
    r.separator = "/".into();
    let out = run(&[("a", "1"), ("b", "2")], &[r]);
    assert_eq!(out, Some(labels(&[("a", "1"), ("b", "2"), ("c", "2-1")])));
}

#[test]
fn series_without_labels_are_dropped() {
    let rules = [name_rule(Action::LabelDrop, ".*", "$1")];
    let mut map = labels(&[("a", "1")]);
    assert!(process(&rules, &mut map), "discovery keeps an empty target");
    assert!(map.is_empty());
    let mut series = SortedLabels::from_pairs([("a", "1")]);
    assert!(!process_series(
        &rules,
        &mut series,
        &mut Scratch::default()
    ));
}

#[test]
fn legacy_name_validation_skips_invalid_targets() {
    let mut r = replace(&["a"], "(.*)", "${1}", "v");
    let out = run(&[("a", "not-legal")], std::slice::from_ref(&r));
    assert_eq!(out, Some(labels(&[("a", "not-legal"), ("not-legal", "v")])));
    r.name_validation = NameValidation::Legacy;
    let out = run(&[("a", "not-legal")], &[r]);
    assert_eq!(out, Some(labels(&[("a", "not-legal")])));
}

#[test]
fn validation_messages() {
    let cases: Vec<(Rule, &str)> = vec![
        (
            Rule::default(),
            "relabel configuration for replace action requires 'target_label' value",
        ),
        (
            Rule {
                action: Action::Lowercase,
                ..Rule::default()
            },
            "relabel configuration for lowercase action requires 'target_label' value",
        ),
        (
            Rule {
                action: Action::HashMod,
                target_label: "x".into(),
                ..Rule::default()
            },
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            replace(&["a"], "some-([^-]+)-([^,]+)", "0${3}", "${1}"),
            r#""0${3}" is invalid 'target_label' for replace action"#,
        ),
        (
            replace(&["a"], "some-([^-]+)-([^,]+)", "-${3}", "${1}"),
            r#""-${3}" is invalid 'target_label' for replace action"#,
        ),
        (
            Rule {
                action: Action::LabelDrop,
                source_labels: src(&["a"]),
                ..Rule::default()
            },
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            Rule {
                action: Action::LabelKeep,
                target_label: "x".into(),
                ..Rule::default()
            },
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            Rule {
                action: Action::KeepEqual,
                target_label: "x".into(),
                regex: re("a"),
                ..Rule::default()
            },
            "keepequal action requires only 'source_labels' and 'target_label', and no other fields",
        ),
        (
            Rule {
                action: Action::Uppercase,
                target_label: "x".into(),
                replacement: "y".into(),
                ..Rule::default()
            },
            "'replacement' can not be set for uppercase action",
        ),
        (
            name_rule(Action::LabelMap, "(.*)", "-$1"),
            r#""-$1" is invalid 'replacement' for labelmap action"#,
        ),
    ];
    for (rule, want) in cases {
        assert_eq!(rule.validate(), Err(want.to_string()), "{rule:?}");
    }
    // Valid under UTF-8 names (Alloy's test: "now a legal relabel rule").
    let ok = Rule {
        action: Action::Lowercase,
        target_label: "${3}".into(),
        ..Rule::default()
    };
    assert_eq!(ok.validate(), Ok(()));
    assert_eq!(
        replace(&["a"], "some-([^-]+)-([^,]+)", "${3}", "${1}").validate(),
        Ok(())
    );
    assert_eq!(
        "Replace".parse::<Action>(),
        Err(r#"unrecognized action type "Replace""#.to_string())
    );
}

// --- Decoding from Alloy text --------------------------------------------

fn decode_rules(src_text: &str) -> Result<Vec<Rule>, Diagnostics> {
    let file = SourceFile::new("test.alloy", src_text.as_bytes().to_vec());
    let (parsed, diags) = parse_file(&file);
    assert!(diags.is_empty(), "{diags}");
    let parsed = parsed.expect("file parses");
    let scope = Scope::new();
    let ctx = EvalContext::new(&file, &scope);
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for stmt in &parsed.body {
        let Stmt::Block(block) = stmt else {
            panic!("expected blocks")
        };
        match decode_block::<Rule>(&ctx, block) {
            Ok(r) => rules.push(r),
            Err(d) => errors.extend(d.iter().cloned()),
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(Diagnostics(errors))
    }
}

#[test]
fn decodes_and_applies_a_rule_block() {
    let rules = decode_rules(
        r#"rule {
  source_labels = ["a", "b"]
  regex         = "(.*);(.*)"
  target_label  = "c"
  replacement   = "$2-$1"
}"#,
    )
    .expect("decodes");
    assert_eq!(rules.len(), 1);
    let r = &rules[0];
    assert_eq!(r.action, Action::Replace);
    assert_eq!(r.separator, ";");
    assert_eq!(r.regex.as_str(), "(.*);(.*)");
    let out = run(&[("a", "x"), ("b", "y")], &rules);
    assert_eq!(out, Some(labels(&[("a", "x"), ("b", "y"), ("c", "y-x")])));
}

#[test]
fn decodes_defaults_and_expressions() {
    let rules = decode_rules(
        r#"rule {
  action       = "hash" + "mod"
  source_labels = ["__address__"]
  modulus      = 3
  target_label = "__tmp_hash"
}
rule {
  action = "labeldrop"
  regex  = "__tmp_.*"
}"#,
    )
    .expect("decodes");
    assert_eq!(rules[0].action, Action::HashMod);
    assert_eq!(rules[0].modulus, 3);
    assert_eq!(rules[0].replacement, "$1");
    assert_eq!(rules[1].regex.as_str(), "__tmp_.*");
    assert_eq!(rules[1].source_labels, None);
    let out = run(&[("__address__", "10.0.0.1:80")], &rules);
    assert_eq!(out, Some(labels(&[("__address__", "10.0.0.1:80")])));
}

#[test]
fn decode_errors_are_positioned() {
    let err = decode_rules(
        r#"rule {
  action = "nope"
}
rule {
  regex        = "(unclosed"
  target_label = "x"
}
rule {
  action = "hashmod"
  target_label = "x"
}
rule {
  action        = "labeldrop"
  source_labels = []
}
rule {
  bogus = 1
  target_label = "x"
}"#,
    )
    .expect_err("errors");
    let got: Vec<String> = err.iter().map(|d| d.to_string()).collect();
    assert_eq!(got.len(), 5, "{got:#?}");
    assert_eq!(
        got[0],
        r#"test.alloy:2:12: unrecognized action type "nope""#
    );
    assert!(
        got[1].starts_with(r#"test.alloy:5:18: error parsing regexp "(unclosed""#),
        "{}",
        got[1]
    );
    assert_eq!(
        got[2],
        "test.alloy:8:1: relabel configuration for hashmod requires non-zero modulus"
    );
    assert_eq!(
        got[3],
        "test.alloy:12:1: labeldrop action requires only 'regex', and no other fields"
    );
    assert_eq!(
        got[4],
        r#"test.alloy:17:3: unrecognized attribute name "bogus""#
    );
}

#[test]
fn rules_round_trip_through_values() {
    let rules = decode_rules(
        r#"rule {
  source_labels = ["a", "b"]
  separator     = "/"
  regex         = "(.*)/(.*)"
  target_label  = "c"
  replacement   = "$2-$1"
}
rule {
  action = "labelmap"
  regex  = "__meta_(.+)"
}
rule {
  action        = "keepequal"
  source_labels = ["x"]
  target_label  = "y"
}"#,
    )
    .expect("decodes");
    let value = rules_to_value(&rules);
    let back = Vec::<Rule>::from_value(&value).expect("round trip");
    assert_eq!(back, rules);
    // Missing fields take defaults; invalid objects are rejected.
    let minimal = Value::object([
        ("target_label", Value::from("t")),
        ("replacement", Value::from("v")),
    ]);
    let r = Rule::from_value(&minimal).expect("minimal rule");
    assert_eq!(r.action, Action::Replace);
    assert_eq!(r.regex.as_str(), "(.*)");
    let bad = Value::object([("action", Value::from("hashmod"))]);
    assert!(Rule::from_value(&bad).is_err());
}

#[test]
fn scratch_reuse_gives_the_same_results() {
    let rules = [
        replace(&["a", "b"], "(.*);(.*)", "c", "$2-$1"),
        name_rule(Action::LabelMap, "(a|b)", "copy_$1"),
        hashmod_rule(&["c"], "h", 7),
    ];
    let mut scratch = Scratch::default();
    for i in 0..50 {
        let (a, b) = (format!("x{i}"), format!("y{}", i % 3));
        let mut l1 = SortedLabels::from_pairs([("a", a.as_str()), ("b", b.as_str())]);
        let mut l2 = l1.clone();
        assert!(process_with(&rules, &mut l1, &mut scratch));
        assert!(process(&rules, &mut l2));
        assert_eq!(l1, l2);
        assert_eq!(l1.get("copy_a"), Some(a.as_str()));
    }
}
