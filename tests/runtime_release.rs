//! Removing a component releases what it held.
//!
//! The runtime is reloaded 1 000 times between config A and config B, where
//! B adds a `local.file` (an inotify watch: an inotify fd, the watcher
//! thread's epoll fd and waker) and a `discovery.http` polling a small hyper
//! server inside this test every 50 ms (a pooled keep-alive socket, plus the
//! server's end of it in this same process). Each time B is loaded the test
//! waits until the `discovery.http` has completed a fetch (its `targets`
//! export is filled, so the connection went back to the pool) and the
//! `local.file` has read its file; each time A is loaded both must be gone.
//!
//! After a warm-up of 50 cycles and again at the end, with A loaded and the
//! process quiet, the test counts this process's open fds (`/proc/self/fd`)
//! and its RSS (`VmRSS`): the fds must be back to the warm-up count exactly,
//! the RSS within [`RSS_SLACK`]. This file holds a single test so that no
//! other test's fds or memory blur the figures.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use smelter::controller::runtime::{Runtime, RuntimeConfig};
use smelter::controller::Stability;
use smelter::syntax::Value;

const CYCLES: usize = 1_000;
const WARM_UP: usize = 50;
/// Allowed RSS growth between the warm-up and the end.
const RSS_SLACK_KIB: i64 = 20 * 1024;
const WAIT: Duration = Duration::from_secs(20);

const TARGETS: &str = r#"[{"targets": ["sd-a:9100", "sd-b:9100"], "labels": {"job": "http"}}]"#;

fn config_a() -> String {
    r#"discovery.relabel "base" {
	targets = [{"__address__" = "base:9100"}]
}
"#
    .to_string()
}

fn config_b(dir: &Path, port: u16) -> String {
    format!(
        r#"{a}
local.file "watched" {{
	filename  = "{d}/watched.txt"
	is_secret = false
}}

discovery.http "sd" {{
	url              = "http://127.0.0.1:{port}/sd"
	refresh_interval = "50ms"
}}

discovery.relabel "joined" {{
	targets = array.concat(discovery.http.sd.targets, [{{"__address__" = local.file.watched.content}}])
}}
"#,
        a = config_a(),
        d = dir.display(),
    )
}

/// Counts for the test's HTTP-SD server.
#[derive(Default)]
struct ServerStats {
    requests: AtomicU64,
    accepted: AtomicU64,
    open: AtomicI64,
}

/// A tiny HTTP-SD endpoint on 127.0.0.1 (keep-alive, HTTP/1.1).
async fn serve_sd(stats: Arc<ServerStats>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            stats.accepted.fetch_add(1, Ordering::Relaxed);
            stats.open.fetch_add(1, Ordering::Relaxed);
            let stats = stats.clone();
            tokio::spawn(async move {
                let svc = {
                    let stats = stats.clone();
                    service_fn(move |_req: Request<hyper::body::Incoming>| {
                        stats.requests.fetch_add(1, Ordering::Relaxed);
                        async move {
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .header("Content-Type", "application/json")
                                    .body(Full::new(Bytes::from_static(TARGETS.as_bytes())))
                                    .unwrap(),
                            )
                        }
                    })
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
                stats.open.fetch_sub(1, Ordering::Relaxed);
            });
        }
    });
    port
}

/// This process's open fds, by what they point at.
fn open_fds() -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let target = std::fs::read_link(entry.path())
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".into());
        // socket:[123] → socket, anon_inode:[eventpoll] → anon_inode:[eventpoll]
        let kind = if target.starts_with("socket:") || target.starts_with("pipe:") {
            target.split(':').next().unwrap().to_string()
        } else {
            target
        };
        *kinds.entry(kind).or_default() += 1;
    }
    kinds
}

fn fd_total(fds: &BTreeMap<String, usize>) -> usize {
    fds.values().sum()
}

fn rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

fn ids(rt: &Runtime) -> Vec<String> {
    rt.shared().components().into_iter().map(|c| c.id).collect()
}

fn targets_len(exports: &Value) -> usize {
    match exports {
        Value::Object(o) => match o.get("targets") {
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        },
        _ => 0,
    }
}

/// B is loaded: wait until the `discovery.http` has fetched (its targets
/// are exported) and `joined` holds them and the file's content.
async fn wait_b_running(rt: &Runtime) {
    let deadline = Instant::now() + WAIT;
    loop {
        let fetched = rt
            .shared()
            .component("discovery.http.sd")
            .is_some_and(|c| targets_len(&c.exports) == 2);
        let joined = rt
            .shared()
            .component("discovery.relabel.joined")
            .is_some_and(|c| c.exports.to_string().contains("watched-content"));
        if fetched && joined {
            return;
        }
        assert!(Instant::now() < deadline, "B never fetched");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A and quiet: the server's side of every client connection is closed and
/// the fd count no longer moves (the watcher threads exit asynchronously
/// after their watcher is dropped; hyper's connection tasks too).
async fn settle_a(stats: &ServerStats) -> BTreeMap<String, usize> {
    let deadline = Instant::now() + WAIT;
    let mut last = open_fds();
    let mut stable = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = open_fds();
        if now == last && stats.open.load(Ordering::Relaxed) == 0 {
            stable += 1;
            if stable == 5 {
                return now;
            }
        } else {
            stable = 0;
        }
        assert!(
            Instant::now() < deadline,
            "fds never settled: {now:?}, server connections open: {}",
            stats.open.load(Ordering::Relaxed)
        );
        last = now;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_components_releases_fds_and_memory() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("watched.txt"), "watched-content:1").unwrap();
    let stats = Arc::new(ServerStats::default());
    let port = serve_sd(stats.clone()).await;
    let a = config_a();
    let b = config_b(d, port);
    let config = d.join("config.alloy");
    std::fs::write(&config, &a).unwrap();
    let rt = Runtime::start(
        RuntimeConfig {
            config_path: config.clone(),
            storage_path: d.join("data"),
            stability: Stability::GenerallyAvailable,
            http_listen_addr: None,
        },
        tokio::runtime::Handle::current(),
    )
    .expect("runtime starts");
    rt.reload().await.expect("first load");
    assert_eq!(ids(&rt), ["discovery.relabel.base"]);

    let mut warm = None;
    let mut b_fds = BTreeMap::new();
    for cycle in 1..=CYCLES {
        std::fs::write(&config, &b).unwrap();
        rt.reload().await.expect("load B");
        wait_b_running(&rt).await;
        if cycle == WARM_UP + 1 {
            b_fds = open_fds();
        }

        std::fs::write(&config, &a).unwrap();
        rt.reload().await.expect("load A");
        // Removal waits for the tasks to end: they are gone from the graph.
        assert_eq!(ids(&rt), ["discovery.relabel.base"], "cycle {cycle}");

        if cycle == WARM_UP {
            let fds = settle_a(&stats).await;
            warm = Some((fds, rss_kib()));
        }
    }
    let end_fds = settle_a(&stats).await;
    let end_rss = rss_kib();
    let (warm_fds, warm_rss) = warm.unwrap();

    let requests = stats.requests.load(Ordering::Relaxed);
    let accepted = stats.accepted.load(Ordering::Relaxed);
    eprintln!(
        "{CYCLES} cycles in {:.1?}: fds with B running {} {b_fds:?}; fds after warm-up {} {warm_fds:?}, at the end {} {end_fds:?}; \
         RSS after warm-up {warm_rss} KiB, at the end {end_rss} KiB ({:+} KiB); \
         {requests} SD requests on {accepted} connections",
        started.elapsed(),
        fd_total(&b_fds),
        fd_total(&warm_fds),
        fd_total(&end_fds),
        end_rss - warm_rss,
    );
    assert!(requests >= CYCLES as u64);
    // Each B load builds a new client: a new connection, none left open.
    assert!(accepted >= CYCLES as u64);
    assert_eq!(stats.open.load(Ordering::Relaxed), 0);
    // The measurement sees what B holds: an inotify fd, and the client's
    // pooled socket with the server's end of it.
    let sockets = |fds: &BTreeMap<String, usize>| fds.get("socket").copied().unwrap_or(0);
    assert!(b_fds.contains_key("anon_inode:inotify"), "{b_fds:?}");
    assert!(!warm_fds.contains_key("anon_inode:inotify"), "{warm_fds:?}");
    assert!(sockets(&b_fds) >= sockets(&warm_fds) + 2, "{b_fds:?}");
    assert_eq!(end_fds, warm_fds, "fds leaked");
    assert!(
        end_rss - warm_rss <= RSS_SLACK_KIB,
        "RSS grew by {} KiB",
        end_rss - warm_rss
    );
    rt.shutdown().await;
}
