//! A watched file changing on disk re-evaluates exactly what reads it.
//!
//! One `local.file` feeds several dependants, in different positions (the
//! targets, a label, a rule), one through a function that hides the change
//! (`string.trim_space`), and each has a dependant of its own; an unrelated
//! `local.file` watching the *same directory* (so it is woken by the same
//! inotify events) and an unrelated chain stand beside them. Rewriting the
//! file must move the `evaluations` counters of the changed file's direct
//! dependants and, transitively, only of those whose inputs actually changed;
//! `updates` move only where the evaluated arguments differ.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use smelter::component::HealthState;
use smelter::controller::runtime::{ComponentSnapshot, Runtime, RuntimeConfig};
use smelter::controller::Stability;
use smelter::syntax::Value;

fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"local.file "src" {{
	filename       = "{d}/src.txt"
	is_secret      = false
	poll_frequency = "1h"
}}

local.file "other" {{
	filename       = "{d}/other.txt"
	is_secret      = false
	poll_frequency = "1h"
}}

// Dependants of local.file.src.
discovery.relabel "in_targets" {{
	targets = [{{"__address__" = local.file.src.content}}]
}}

discovery.relabel "in_label" {{
	targets = [{{"__address__" = "fixed:1", "v" = local.file.src.content}}]
}}

discovery.relabel "in_rule" {{
	targets = [{{"__address__" = "fixed:2"}}]

	rule {{
		target_label = "from_rule"
		replacement  = local.file.src.content
	}}
}}

discovery.relabel "trimmed" {{
	targets = [{{"__address__" = string.trim_space(local.file.src.content)}}]
}}

// Second level.
discovery.relabel "after_targets" {{
	targets = discovery.relabel.in_targets.output
}}

discovery.relabel "after_trimmed" {{
	targets = discovery.relabel.trimmed.output
}}

// Unrelated: another watched file and a constant chain.
discovery.relabel "other_reader" {{
	targets = [{{"__address__" = local.file.other.content}}]
}}

discovery.relabel "u1" {{
	targets = [{{"__address__" = "u:1"}}]
}}

discovery.relabel "u2" {{
	targets = discovery.relabel.u1.output
}}
"#
    )
}

const ALL: usize = 11;

fn by_id(s: Vec<ComponentSnapshot>) -> BTreeMap<String, ComponentSnapshot> {
    s.into_iter().map(|c| (c.id.clone(), c)).collect()
}

async fn settle(
    rt: &Runtime,
    what: &str,
    done: impl Fn(&BTreeMap<String, ComponentSnapshot>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if done(&by_id(rt.shared().components())) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Wait until no counter has moved for a while (longer than the watcher's
/// 30 ms settle delay plus a re-read, several times over).
async fn quiesce(rt: &Runtime) -> BTreeMap<String, ComponentSnapshot> {
    let mut last = by_id(rt.shared().components());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let now = by_id(rt.shared().components());
        let same = now.len() == last.len()
            && now.iter().all(|(id, c)| {
                last.get(id)
                    .is_some_and(|l| l.evaluations == c.evaluations && l.updates == c.updates)
            });
        if same {
            return now;
        }
        assert!(Instant::now() < deadline, "the runtime did not settle");
        last = now;
    }
}

/// (id, Δevaluations, Δupdates) of every component whose counters moved.
fn moved(
    before: &BTreeMap<String, ComponentSnapshot>,
    after: &BTreeMap<String, ComponentSnapshot>,
) -> Vec<(String, u64, u64)> {
    after
        .iter()
        .filter_map(|(id, c)| {
            let b = &before[id];
            let d = (c.evaluations - b.evaluations, c.updates - b.updates);
            (d != (0, 0)).then(|| {
                (
                    id.strip_prefix("discovery.relabel.")
                        .unwrap_or(id)
                        .to_string(),
                    d.0,
                    d.1,
                )
            })
        })
        .collect()
}

/// The `__address__` of the first target of a relabel's `output`.
fn address(c: &ComponentSnapshot) -> String {
    let Value::Object(exports) = &c.exports else {
        return String::new();
    };
    match exports.get("output") {
        Some(Value::Array(targets)) => match targets.first() {
            Some(Value::Object(t)) => match t.get("__address__") {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            },
            _ => String::new(),
        },
        _ => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewriting_a_watched_file_re_evaluates_exactly_its_dependants() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("src.txt"), "one:9100").unwrap();
    std::fs::write(d.join("other.txt"), "other:9100").unwrap();
    std::fs::write(d.join("config.alloy"), config(d)).unwrap();
    let rt = Runtime::start(
        RuntimeConfig {
            config_path: d.join("config.alloy"),
            storage_path: d.join("data"),
            stability: Stability::GenerallyAvailable,
            http_listen_addr: None,
        },
        tokio::runtime::Handle::current(),
    )
    .expect("runtime starts");
    rt.reload().await.expect("first load");
    settle(&rt, "every component to run healthy", |s| {
        s.len() == ALL
            && s.values()
                .all(|c| c.updates == 1 && c.health.state == HealthState::Healthy)
    })
    .await;
    let start = quiesce(&rt).await;
    assert_eq!(
        address(&start["discovery.relabel.after_targets"]),
        "one:9100"
    );
    assert_eq!(
        address(&start["discovery.relabel.after_trimmed"]),
        "one:9100"
    );

    // 1. A change `string.trim_space` hides: a trailing newline.
    std::fs::write(d.join("src.txt"), "one:9100\n").unwrap();
    settle(&rt, "the newline to reach after_targets", |s| {
        address(&s["discovery.relabel.after_targets"]) == "one:9100\n"
    })
    .await;
    let after = quiesce(&rt).await;
    assert_eq!(
        moved(&start, &after),
        [
            ("after_targets".into(), 1, 1),
            ("in_label".into(), 1, 1),
            ("in_rule".into(), 1, 1),
            ("in_targets".into(), 1, 1),
            // Evaluated (it reads the file), but its arguments are the same:
            // not updated, no new exports, so after_trimmed is not evaluated.
            ("trimmed".into(), 1, 0),
        ]
    );
    let rule = after["discovery.relabel.in_rule"].exports.to_string();
    assert!(rule.contains(r#""from_rule" = "one:9100\n""#), "{rule}");

    // 2. A change everything sees.
    std::fs::write(d.join("src.txt"), "two:9100").unwrap();
    settle(&rt, "the new address to reach after_trimmed", |s| {
        address(&s["discovery.relabel.after_trimmed"]) == "two:9100"
    })
    .await;
    let last = quiesce(&rt).await;
    assert_eq!(
        moved(&after, &last),
        [
            ("after_targets".into(), 1, 1),
            ("after_trimmed".into(), 1, 1),
            ("in_label".into(), 1, 1),
            ("in_rule".into(), 1, 1),
            ("in_targets".into(), 1, 1),
            ("trimmed".into(), 1, 1),
        ]
    );

    // 3. Rewriting with the same content: read again, nothing moves.
    std::fs::write(d.join("src.txt"), "two:9100").unwrap();
    let same = quiesce(&rt).await;
    assert_eq!(moved(&last, &same), []);

    // 4. The other file: only its reader.
    std::fs::write(d.join("other.txt"), "other:9200").unwrap();
    settle(&rt, "the other reader to update", |s| {
        s["discovery.relabel.other_reader"].updates == 2
    })
    .await;
    let other = quiesce(&rt).await;
    assert_eq!(moved(&same, &other), [("other_reader".into(), 1, 1)]);

    assert!(other
        .values()
        .all(|c| c.health.state == HealthState::Healthy));
    rt.shutdown().await;
}
