//! Incremental (patch) reloads of the runtime: what a one-block edit leaves
//! behind.
//!
//! - A block that did not change but moved because an edit before it changed
//!   the text's length keeps its syntax tree; its evaluation errors must still
//!   name its position in the *new* text.
//! - A patch replaces the changed blocks' bodies: the old ones are dropped
//!   (exactly one body per node), and a patched block keeps only its own text,
//!   not the whole new version of its file: 1 000 one-block reloads of a
//!   260 KB file, each in a different block, leave the RSS where it was.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use smelter::controller::runtime::Runtime;

const WAIT: Duration = Duration::from_secs(60);

fn start(dir: &Path) -> Runtime {
    Runtime::start(
        common::runtime::config(dir),
        tokio::runtime::Handle::current(),
    )
    .expect("runtime starts")
}

/// Block `a` (7 lines, plus `extra` blank lines inside it) and block `b`,
/// whose `targets` always fails to evaluate once `a` has exports.
fn two_blocks(hop: &str, extra: usize) -> String {
    format!(
        "discovery.relabel \"a\" {{\n\ttargets = [{{\"__address__\" = \"a:1\"}}]\n{}\trule {{\n\t\ttarget_label = \"hop\"\n\t\treplacement  = \"{hop}\"\n\t}}\n}}\n\ndiscovery.relabel \"b\" {{\n\ttargets = [discovery.relabel.a.output[0].nope]\n}}\n",
        "\n".repeat(extra)
    )
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_of_a_moved_block_name_its_new_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.alloy");
    std::fs::write(&path, two_blocks("0", 0)).unwrap();
    let rt = start(dir.path());
    // `b` fails to evaluate: the load reports it (and installs the graph).
    let first = rt.reload().await.expect_err("b does not evaluate");
    let name = path.display().to_string();
    // Line 10: `targets = [discovery.relabel.a.output[0].nope]` in `b`,
    // column 43: `nope`.
    let before = format!("{name}:10:43: ");
    assert!(first.to_string().contains(&before), "{first}");
    let shared = rt.shared();
    let b = || shared.component("discovery.relabel.b").expect("b");
    let evaluations = b().evaluations;
    assert_eq!(shared.retained_bodies(), 2);

    // Three more lines in `a` and a new replacement: a one-block patch; `a`'s
    // output changes, so `b`, three lines further down now, is evaluated
    // again with its unchanged syntax tree.
    for (round, extra) in [3usize, 1, 4].into_iter().enumerate() {
        std::fs::write(&path, two_blocks(&format!("changed-{round}"), extra)).unwrap();
        let before_round = b().evaluations;
        // `a` itself evaluates fine: the reload succeeds.
        rt.reload().await.expect("patch of a");
        wait_for("b to be evaluated again", || b().evaluations > before_round).await;
        let after = format!("{name}:{}:43: ", 10 + extra);
        let message = b().health.message;
        assert!(
            message.contains(&after),
            "round {round}: {message} should name {after}"
        );
        // The patch replaced a's body; nothing else is held.
        assert_eq!(shared.retained_bodies(), 2, "round {round}");
    }
    assert_eq!(b().evaluations, evaluations + 3);
    rt.shutdown().await;
}

/// `blocks` relabels, hop `changed.0` with replacement `changed.1`.
fn many_blocks(blocks: usize, changed: (usize, &str)) -> String {
    let mut s = String::with_capacity(blocks * 140);
    for i in 0..blocks {
        let replacement = if i == changed.0 {
            changed.1.to_string()
        } else {
            i.to_string()
        };
        let _ = write!(
            s,
            "discovery.relabel \"n{i}\" {{\n\ttargets = [{{\"__address__\" = \"h{i}:1\"}}]\n\n\trule {{\n\t\ttarget_label = \"hop\"\n\t\treplacement  = \"{replacement}\"\n\t}}\n}}\n\n"
        );
    }
    s
}

fn rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_patches_hold_no_old_text() {
    const BLOCKS: usize = 2_000;
    const RELOADS: usize = 1_000;
    const WARM_UP: usize = 50;
    // A leak of one 260 KB version per reload would be ≈ 250 MB.
    const RSS_SLACK_KIB: i64 = 20 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.alloy");
    std::fs::write(&path, many_blocks(BLOCKS, (usize::MAX, ""))).unwrap();
    let rt = start(dir.path());
    rt.reload().await.expect("first load");
    let shared = rt.shared();
    wait_for("every component built", || {
        shared.total_updates() == BLOCKS as u64
    })
    .await;
    let mut warm = 0;
    for r in 0..WARM_UP + RELOADS {
        // A different block each time, with a longer text (the blocks after
        // it move).
        let block = (r * 7) % BLOCKS;
        std::fs::write(
            &path,
            many_blocks(BLOCKS, (block, &format!("r{r}-changed"))),
        )
        .unwrap();
        let updates = shared.total_updates();
        rt.reload().await.expect("one-block reload");
        // The changed block is updated (its own arguments changed).
        wait_for("the changed block's update", || {
            shared.total_updates() > updates
        })
        .await;
        assert_eq!(shared.retained_bodies(), BLOCKS as u64, "reload {r}");
        if r + 1 == WARM_UP {
            warm = rss_kib();
        }
    }
    let end = rss_kib();
    eprintln!(
        "{RELOADS} one-block reloads of a {} KB file: RSS after warm-up {warm} KiB, at the end {end} KiB ({:+} KiB)",
        many_blocks(BLOCKS, (usize::MAX, "")).len() / 1024,
        end - warm
    );
    assert!(
        end - warm <= RSS_SLACK_KIB,
        "RSS grew by {} KiB",
        end - warm
    );
    rt.shutdown().await;
}

/// A relabel `label` of `targets` that sets the label `label` to `value`.
fn relabel(label: &str, targets: &str, value: &str) -> String {
    format!(
        "discovery.relabel {label:?} {{\n\ttargets = {targets}\n\trule {{\n\t\ttarget_label = {label:?}\n\t\treplacement  = {value:?}\n\t}}\n}}\n"
    )
}

/// A directory of three files, the chain a → b → c; b's value is `b`.
fn write_chain_dir(dir: &Path, b: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let files = [
        ("a.alloy", relabel("a", r#"[{"__address__" = "h:1"}]"#, "1")),
        ("b.alloy", relabel("b", "discovery.relabel.a.output", b)),
        ("c.alloy", relabel("c", "discovery.relabel.b.output", "3")),
    ];
    for (name, text) in files {
        // Only changed files are written: the others keep their stamps.
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(path, text).unwrap();
        }
    }
}

fn start_on(config_path: &Path, storage: &Path) -> Runtime {
    let mut config = common::runtime::config(storage);
    config.config_path = config_path.to_path_buf();
    Runtime::start(config, tokio::runtime::Handle::current()).expect("runtime starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_reload_gives_what_a_fresh_load_gives() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    write_chain_dir(&config, "2");
    let rt = start_on(&config, &dir.path().join("one"));
    rt.reload().await.expect("load");
    let shared = rt.shared();
    wait_for("the chain to be built", || shared.total_updates() == 3).await;
    for round in 0..3 {
        write_chain_dir(&config, &format!("changed-{round}"));
        rt.reload().await.expect("reload");
        // b and c get new arguments; a does not.
        let total = 3 + 2 * (round + 1);
        wait_for("b and c to update", || shared.total_updates() == total).await;
    }
    let updates = |id: &str| shared.component(id).expect("node").updates;
    assert_eq!(
        [
            updates("discovery.relabel.a"),
            updates("discovery.relabel.b"),
            updates("discovery.relabel.c")
        ],
        [1, 4, 4]
    );
    let fresh = start_on(&config, &dir.path().join("two"));
    fresh.reload().await.expect("fresh load");
    let fresh_shared = fresh.shared();
    wait_for("the fresh chain", || fresh_shared.total_updates() == 3).await;
    let state = |s: &smelter::controller::runtime::SharedState| {
        let nodes = s.components().into_iter();
        nodes
            .map(|n| (n.id, n.arguments, n.exports))
            .collect::<Vec<_>>()
    };
    assert_eq!(state(&shared), state(&fresh_shared));
    let c = shared.component("discovery.relabel.c").expect("c");
    assert!(
        format!("{:?}", c.exports).contains("changed-2"),
        "{:?}",
        c.exports
    );
    rt.shutdown().await;
    fresh.shutdown().await;
}
