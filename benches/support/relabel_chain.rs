//! The relabel workload shared by `benches/relabel.rs` and
//! `benches/dataflow.rs`: 100 000 realistic series (5–8 labels) and a
//! 10-rule chain mixing drop/keep/replace/labeldrop/hashmod/labelmap that
//! keeps 47 249 of them.

use smelter::components::common::relabel::{Action, Regexp, Rule, SortedLabels};
use smelter::syntax::Value;

pub const SERIES: usize = 100_000;

pub fn series() -> Vec<SortedLabels> {
    let names = [
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "process_cpu_seconds_total",
        "go_goroutines",
        "node_cpu_seconds_total",
        "container_memory_working_set_bytes",
    ];
    let jobs = ["node", "api", "web", "batch"];
    let methods = ["GET", "POST", "PUT"];
    let les = ["0.1", "0.5", "1", "5", "+Inf"];
    (0..SERIES)
        .map(|i| {
            let mut pairs: Vec<(String, String)> = vec![
                ("__name__".into(), names[i % names.len()].into()),
                ("job".into(), jobs[(i / 7) % jobs.len()].into()),
                (
                    "instance".into(),
                    format!("10.0.{}.{}:9100", (i / 256) % 256, i % 256),
                ),
                ("namespace".into(), format!("team-{}", i % 13)),
                ("pod".into(), format!("app-{}-{:05x}", i % 17, i)),
            ];
            if i % 2 == 0 {
                pairs.push(("method".into(), methods[i % 3].into()));
            }
            if i % 3 == 0 {
                pairs.push(("le".into(), les[i % 5].into()));
            }
            if i % 5 == 0 {
                pairs.push(("exported_job".into(), format!("legacy-{}", i % 4)));
            }
            if i % 4 == 1 {
                pairs.push(("pod_template_hash".into(), format!("{:08x}", i * 7919)));
            }
            SortedLabels::from_pairs(pairs)
        })
        .collect()
}

fn rule(f: impl FnOnce(&mut Rule)) -> Rule {
    let mut r = Rule::default();
    f(&mut r);
    r.validate().expect("bench rule valid");
    r
}

fn re(p: &str) -> Regexp {
    Regexp::new(p).expect("bench regex")
}

fn src(s: &[&str]) -> Option<Vec<String>> {
    Some(s.iter().map(|s| s.to_string()).collect())
}

pub fn chain() -> Vec<Rule> {
    vec![
        // 1. drop Go runtime metrics (prefix).
        rule(|r| {
            r.action = Action::Drop;
            r.source_labels = src(&["__name__"]);
            r.regex = re("go_.*");
        }),
        // 2. keep known jobs (alternation).
        rule(|r| {
            r.action = Action::Keep;
            r.source_labels = src(&["job"]);
            r.regex = re("node|api|web");
        }),
        // 3. host from instance (general regex with groups).
        rule(|r| {
            r.source_labels = src(&["instance"]);
            r.regex = re(r"(.+):(\d+)");
            r.target_label = "host".into();
        }),
        // 4. workload from namespace and pod (two sources, joined).
        rule(|r| {
            r.source_labels = src(&["namespace", "pod"]);
            r.regex = re(r"(.*);(app-\d+)-.*");
            r.target_label = "workload".into();
            r.replacement = "$1/$2".into();
        }),
        // 5. drop noisy labels (general regex over names).
        rule(|r| {
            r.action = Action::LabelDrop;
            r.regex = re("(pod_template_hash|uid)");
        }),
        // 6. shard by instance.
        rule(|r| {
            r.action = Action::HashMod;
            r.source_labels = src(&["instance"]);
            r.modulus = 8;
            r.target_label = "__tmp_shard".into();
        }),
        // 7. keep six shards of eight (character class).
        rule(|r| {
            r.action = Action::Keep;
            r.source_labels = src(&["__tmp_shard"]);
            r.regex = re("[0-5]");
        }),
        // 8. un-export labels (labelmap with a group).
        rule(|r| {
            r.action = Action::LabelMap;
            r.regex = re("exported_(.+)");
            r.replacement = "original_$1".into();
        }),
        // 9. static cluster label.
        rule(|r| {
            r.target_label = "cluster".into();
            r.replacement = "eu-west-1".into();
        }),
        // 10. remove the temporary label (literal).
        rule(|r| {
            r.action = Action::LabelDrop;
            r.regex = re("__tmp_shard");
        }),
    ]
}

/// `prometheus.relabel`'s evaluated arguments with [`chain`] as its rules.
pub fn component_args() -> Value {
    Value::object([
        (
            "forward_to",
            Value::Array(vec![Value::receiver("prometheus.echo.sink", "receiver")]),
        ),
        (
            "rule",
            smelter::components::common::relabel::rules_to_value(&chain()),
        ),
    ])
}
