//! The runtime end to end: a real configuration of `discovery.relabel`
//! components in chains and fans, loaded, changed and reloaded, with the
//! evaluation and update counters proving that a change recomputes only what
//! it touches.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use smelter::controller::runtime::{ComponentSnapshot, ReloadError, Runtime};

const CHAINS: usize = 100;
const CHAIN_LEN: usize = 90;
const FAN: usize = 1_000;

/// `CHAINS` chains of `CHAIN_LEN` relabels, plus one root fanned out to `FAN`
/// readers: 10 000 components. Each chain hop overwrites the `hop` label, so
/// a change in one hop's rule changes its own output and its successor's
/// input, but not its successor's output.
fn config(changed: Option<(usize, usize, &str)>) -> String {
    let mut s = String::new();
    for c in 0..CHAINS {
        for i in 0..CHAIN_LEN {
            let targets = if i == 0 {
                format!("[{{\"__address__\" = \"host-{c}:9100\", chain = \"{c}\"}}]")
            } else {
                format!("discovery.relabel.c{c}_{}.output", i - 1)
            };
            let replacement = match changed {
                Some((cc, ci, text)) if cc == c && ci == i => text.to_string(),
                _ => i.to_string(),
            };
            let _ = write!(
                s,
                "discovery.relabel \"c{c}_{i}\" {{\n\ttargets = {targets}\n\n\trule {{\n\t\ttarget_label = \"hop\"\n\t\treplacement  = \"{replacement}\"\n\t}}\n}}\n\n"
            );
        }
    }
    let _ = write!(
        s,
        "discovery.relabel \"root\" {{\n\ttargets = [{{\"__address__\" = \"root:9100\"}}]\n}}\n\n"
    );
    for f in 0..FAN {
        let _ = write!(
            s,
            "discovery.relabel \"fan{f}\" {{\n\ttargets = discovery.relabel.root.output\n\n\trule {{\n\t\ttarget_label = \"fan\"\n\t\treplacement  = \"{f}\"\n\t}}\n}}\n\n"
        );
    }
    s
}

fn start(dir: &Path) -> Runtime {
    Runtime::start(
        common::runtime::config(dir),
        tokio::runtime::Handle::current(),
    )
    .expect("runtime starts")
}

fn by_id(
    snapshots: Vec<ComponentSnapshot>,
) -> std::collections::BTreeMap<String, ComponentSnapshot> {
    snapshots.into_iter().map(|c| (c.id.clone(), c)).collect()
}

/// Wait (bounded) until `done` holds for the runtime's components.
async fn settle(rt: &Runtime, what: &str, done: impl Fn(&[ComponentSnapshot]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let snap = rt.shared().components();
        if done(&snap) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait until the counters stop moving for a while.
async fn quiesce(rt: &Runtime) -> std::collections::BTreeMap<String, ComponentSnapshot> {
    let mut last = by_id(rt.shared().components());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = by_id(rt.shared().components());
        let same = now.iter().all(|(id, c)| {
            last.get(id)
                .is_some_and(|l| l.evaluations == c.evaluations && l.updates == c.updates)
        });
        if same && now.len() == last.len() {
            return now;
        }
        assert!(Instant::now() < deadline, "the runtime did not settle");
        last = now;
    }
}

fn chain_end_output(rt: &Runtime, c: usize) -> String {
    rt.shared()
        .component(&format!("discovery.relabel.c{c}_{}", CHAIN_LEN - 1))
        .map(|s| s.exports.to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_recomputes_only_its_dependants() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.alloy"), config(None)).unwrap();
    let rt = start(dir.path());
    rt.reload().await.expect("first load");

    let total = CHAINS * CHAIN_LEN + 1 + FAN;
    settle(&rt, "every component to run", |s| {
        s.len() == total && s.iter().all(|c| c.updates == 1)
    })
    .await;
    let before = quiesce(&rt).await;
    assert!(before
        .values()
        .all(|c| c.evaluations == 1 && c.updates == 1));
    assert!(chain_end_output(&rt, 7).contains(r#""hop" = "89""#));

    // Change hop 50 of chain 7: it and its successor are evaluated again and
    // updated; the successor's output is unchanged, so the change stops there.
    std::fs::write(dir.path().join("config.alloy"), config(Some((7, 50, "x")))).unwrap();
    rt.reload().await.expect("reload");
    let after = quiesce(&rt).await;
    let moved: Vec<(&String, u64, u64)> = after
        .iter()
        .filter(|(id, c)| {
            let b = &before[*id];
            c.evaluations != b.evaluations || c.updates != b.updates
        })
        .map(|(id, c)| (id, c.evaluations, c.updates))
        .collect();
    assert_eq!(
        moved,
        vec![
            (&"discovery.relabel.c7_50".to_string(), 2, 2),
            (&"discovery.relabel.c7_51".to_string(), 2, 2),
        ]
    );
    assert!(after["discovery.relabel.c7_50"]
        .exports
        .to_string()
        .contains(r#""hop" = "x""#));

    // Changing the fan's root re-evaluates the root and exactly its readers.
    let text = config(Some((7, 50, "x"))).replace("root:9100", "root:9200");
    std::fs::write(dir.path().join("config.alloy"), text).unwrap();
    rt.reload().await.expect("reload");
    settle(&rt, "the fan to update", |s| {
        s.iter()
            .filter(|c| c.id.starts_with("discovery.relabel.fan"))
            .all(|c| c.updates == 2)
    })
    .await;
    let fanned = quiesce(&rt).await;
    let moved = fanned
        .iter()
        .filter(|(id, c)| c.evaluations != after[*id].evaluations)
        .count();
    assert_eq!(moved, 1 + FAN);
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_reload_keeps_the_running_graph() {
    let dir = tempfile::tempdir().unwrap();
    let good = "discovery.relabel \"a\" {\n\ttargets = [{\"__address__\" = \"a:1\"}]\n}\n\ndiscovery.relabel \"b\" {\n\ttargets = discovery.relabel.a.output\n}\n";
    std::fs::write(dir.path().join("config.alloy"), good).unwrap();
    let rt = start(dir.path());
    rt.reload().await.expect("first load");
    settle(&rt, "both to run", |s| {
        s.len() == 2 && s.iter().all(|c| c.updates == 1)
    })
    .await;
    let before = quiesce(&rt).await;

    // A syntax error and a reference to a missing block: rejected whole.
    let bad = good.replace(
        "discovery.relabel.a.output",
        "discovery.relabel.missing.output",
    ) + "oops {";
    std::fs::write(dir.path().join("config.alloy"), bad).unwrap();
    let err = rt.reload().await.expect_err("bad config is rejected");
    let ReloadError::Rejected(load) = &err else {
        panic!("expected a rejected load, got {err}")
    };
    let rendered = load.render();
    assert!(rendered.contains("config.alloy:"), "{rendered}");
    let after = quiesce(&rt).await;
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (id, c) in &after {
        assert_eq!(c.arguments, before[id].arguments);
        assert_eq!(c.updates, before[id].updates);
    }
    assert!(!rt.shared().load_status().0);
    assert!(rt.shared().ready());

    // An evaluation error: installed, the component keeps its last good
    // arguments and is unhealthy.
    let eval_bad = good.replace(
        "targets = [{\"__address__\" = \"a:1\"}]",
        "targets = [{\"__address__\" = 1 + \"x\"}]",
    );
    std::fs::write(dir.path().join("config.alloy"), eval_bad).unwrap();
    let err = rt.reload().await.expect_err("evaluation error is reported");
    assert!(matches!(err, ReloadError::Evaluation(_)), "{err}");
    let a = rt.shared().component("discovery.relabel.a").unwrap();
    assert_eq!(a.arguments, before["discovery.relabel.a"].arguments);
    assert_eq!(a.health.state, smelter::component::HealthState::Unhealthy);
    assert!(
        a.health.message.starts_with("component evaluation failed"),
        "{}",
        a.health.message
    );

    // Removing a component stops it and drops it from the graph.
    std::fs::write(
        dir.path().join("config.alloy"),
        "discovery.relabel \"a\" {\n\ttargets = []\n}\n",
    )
    .unwrap();
    rt.reload().await.expect("reload");
    let ids: Vec<String> = rt.shared().components().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, vec!["discovery.relabel.a".to_string()]);
    rt.shutdown().await;
}
