//! The data plane driven by the runtime, end to end over real HTTP on
//! 127.0.0.1: `prometheus.receive_http` → `prometheus.relabel` →
//! `prometheus.echo`. Remote-write requests are answered 204 only once the
//! echo sink has the batch, so counts compare exactly; a rules-only reload
//! updates the operator without a rebuild; a `forward_to` reload rebuilds the
//! data plane while a client keeps posting, without losing a sample.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use smelter::components::prometheus::{echo, receive_http, relabel};
use smelter::controller::runtime::Runtime;
use smelter::syntax::Value;
use smelter_storage::{Batch, Labels, Sample, Series};

const LIMIT: Duration = Duration::from_secs(20);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The pipeline; `t` prefixes every label so parallel tests do not share ids.
fn config(t: &str, port: u16, drop_regex: &str, forward: &str, second_echo: bool) -> String {
    let mut s = format!(
        r#"prometheus.receive_http "{t}_in" {{
	http {{
		listen_address = "127.0.0.1"
		listen_port    = {port}
	}}
	forward_to = [prometheus.relabel.{t}_r.receiver]
}}

prometheus.relabel "{t}_r" {{
	forward_to = [prometheus.echo.{t}_{forward}.receiver]

	rule {{
		source_labels = ["__name__"]
		regex         = "{drop_regex}"
		action        = "drop"
	}}

	rule {{
		target_label = "env"
		replacement  = "test"
	}}
}}

prometheus.echo "{t}_a" {{ }}
"#
    );
    if second_echo {
        s.push_str(&format!(
            "\nprometheus.echo \"{t}_b\" {{ format = \"openmetrics\" }}\n"
        ));
    }
    s
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("config.alloy"), text).expect("write config");
}

async fn start(dir: &Path) -> Runtime {
    let rt = Runtime::start_with_workers(
        common::runtime::config(dir),
        tokio::runtime::Handle::current(),
        2,
    )
    .expect("start");
    rt.reload().await.expect("load");
    rt
}

async fn until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Request `i`: `keep_metric` with 2 samples, `drop_metric` with 3.
fn request(i: u64) -> Vec<u8> {
    let ts = 1_700_000_000_000 + i as i64 * 1000;
    let batch = Batch {
        series: vec![
            Series::new(
                Labels::from_pairs([("__name__", "keep_metric"), ("req", &i.to_string())]),
                vec![Sample::new(1.0, ts), Sample::new(2.0, ts + 1)],
            ),
            Series::new(
                Labels::from_pairs([("__name__", "drop_metric"), ("req", &i.to_string())]),
                vec![
                    Sample::new(1.0, ts),
                    Sample::new(2.0, ts + 1),
                    Sample::new(3.0, ts + 2),
                ],
            ),
        ],
        metadata: Vec::new(),
    };
    smelter_storage::remote_write::encode(&batch).expect("encode")
}

async fn post(client: &HttpClient, port: u16, body: Vec<u8>) -> (StatusCode, String) {
    let req = Request::post(format!("http://127.0.0.1:{port}/api/v1/metrics/write"))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let resp = tokio::time::timeout(LIMIT, client.request(req))
        .await
        .expect("answered in time")
        .expect("request sent");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

fn echoed(id: &str) -> u64 {
    echo::samples_echoed(id).unwrap_or(0)
}

async fn ready(t: &str) {
    until("the receiver to be built", || {
        receive_http::stats(&format!("prometheus.receive_http.{t}_in")).is_some()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_counts_rules_reload_without_rebuild() {
    const K: u64 = 40;
    let t = "p1";
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    write_config(dir.path(), &config(t, port, "drop_.*", "a", false));
    let rt = start(dir.path()).await;
    ready(t).await;
    let echo_a = format!("prometheus.echo.{t}_a");
    let http = client();

    for i in 0..K {
        let (status, body) = post(&http, port, request(i)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "request {i}: {body}");
    }
    // Acknowledged means the sink has it: no waiting.
    assert_eq!(echoed(&echo_a), 2 * K, "only keep_metric survives");

    // Rules only: the operator is replaced, the data plane is not rebuilt.
    let shared = rt.shared();
    let builds = shared.data_plane_builds();
    let updates = shared.data_plane_arg_updates();
    write_config(dir.path(), &config(t, port, "keep_.*", "a", false));
    rt.reload().await.expect("reload");
    assert_eq!(
        shared.data_plane_builds(),
        builds,
        "no rebuild for new rules"
    );
    assert!(shared.data_plane_arg_updates() > updates);
    for i in K..2 * K {
        let (status, body) = post(&http, port, request(i)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "request {i}: {body}");
    }
    assert_eq!(
        echoed(&echo_a),
        2 * K + 3 * K,
        "now only drop_metric survives"
    );
    eprintln!(
        "pipeline: {} samples echoed, {} data-plane builds",
        echoed(&echo_a),
        shared.data_plane_builds()
    );

    // Bad input: counted, answered, never a panic.
    let stats = receive_http::stats(&format!("prometheus.receive_http.{t}_in")).expect("stats");
    let (status, body) = post(&http, port, b"not snappy at all".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Snappy raw block: length 4, one literal of 4 bytes 0xff (not protobuf).
    let valid_snappy_bad_proto = vec![0x04, 0x0c, 0xff, 0xff, 0xff, 0xff];
    let (status, _) = post(&http, port, valid_snappy_bad_proto).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(stats.malformed.load(Ordering::Relaxed), 2);
    let (status, body) = post(&http, port, vec![0u8; receive_http::MAX_BODY + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(stats.too_large.load(Ordering::Relaxed), 1);
    let mut metrics = String::new();
    smelter::metrics::encode_global(&mut metrics).expect("encode metrics");
    let line = format!(
        "smelter_prometheus_receive_http_requests_total{{component=\"prometheus.receive_http.{t}_in\",code=\"400\"}} 2"
    );
    assert!(metrics.contains(&line), "{line} missing from /metrics");
    // Still serving.
    let (status, _) = post(&http, port, request(999)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(echoed(&echo_a), 5 * K + 3);

    // The receiver and the relabel leave the graph: the port is released and
    // the data plane rebuilt without them.
    let builds = shared.data_plane_builds();
    std::fs::write(
        dir.path().join("config.alloy"),
        format!("prometheus.echo \"{t}_a\" {{ }}\n"),
    )
    .expect("write config");
    rt.reload().await.expect("reload");
    assert!(shared.data_plane_builds() > builds);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the receiver stopped listening"
    );
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_to_reload_rebuilds_without_loss_under_load() {
    let t = "p2";
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    write_config(dir.path(), &config(t, port, "drop_.*", "a", false));
    let rt = start(dir.path()).await;
    ready(t).await;
    let (echo_a, echo_b) = (
        format!("prometheus.echo.{t}_a"),
        format!("prometheus.echo.{t}_b"),
    );
    let shared = rt.shared();
    let builds = shared.data_plane_builds();

    // Clients posting without pause during the reload, concurrently.
    const CLIENTS: u64 = 4;
    let stop = Arc::new(AtomicBool::new(false));
    let posters: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let http = client();
                let mut sent = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let i = c * 1_000_000 + sent;
                    let (status, body) = post(&http, port, request(i)).await;
                    assert_eq!(status, StatusCode::NO_CONTENT, "request {i}: {body}");
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    until("some traffic", || echoed(&echo_a) >= 100).await;
    write_config(dir.path(), &config(t, port, "drop_.*", "b", true));
    rt.reload().await.expect("reload");
    // The switch completes once echo.b's receiver is exported and the
    // relabel re-evaluated with it.
    until("traffic on the new edge", || echoed(&echo_b) >= 100).await;
    stop.store(true, Ordering::Release);
    let mut sent = 0;
    for poster in posters {
        sent += tokio::time::timeout(LIMIT, poster)
            .await
            .expect("poster ends")
            .expect("poster ok");
    }
    let (a, b) = (echoed(&echo_a), echoed(&echo_b));
    eprintln!(
        "forward_to reload: {sent} requests, echo.a {a} + echo.b {b} samples, builds {} -> {}",
        builds,
        shared.data_plane_builds()
    );
    assert_eq!(
        a + b,
        2 * sent,
        "every acknowledged sample echoed exactly once"
    );
    assert!(
        shared.data_plane_builds() > builds,
        "edges changed: rebuilt"
    );
    // echo.a no longer gets anything.
    let http = client();
    let (status, _) = post(&http, port, request(10_000)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(echoed(&echo_a), a);
    assert_eq!(echoed(&echo_b), b + 2);
    rt.shutdown().await;
}

/// The relabel operator on its own: drop by name, add a label.
#[test]
fn relabel_operator_drops_and_adds_labels() {
    let rule = |pairs: Vec<(&str, Value)>| Value::object(pairs);
    let args = Value::object([
        (
            "forward_to",
            Value::Array(vec![Value::receiver("prometheus.echo.x", "receiver")]),
        ),
        (
            "rule",
            Value::Array(vec![
                rule(vec![
                    (
                        "source_labels",
                        Value::Array(vec![Value::String("__name__".into())]),
                    ),
                    ("regex", Value::String("drop_.*".into())),
                    ("action", Value::String("drop".into())),
                ]),
                rule(vec![
                    ("target_label", Value::String("env".into())),
                    ("replacement", Value::String("test".into())),
                ]),
            ]),
        ),
    ]);
    let op = relabel::compile(&args).expect("compile");
    let batch = smelter_storage::remote_write::decode(&request(1), 1 << 20).expect("decode");
    for _ in 0..2 {
        // The second round is served from the cache.
        let out = op.process(batch.clone()).expect("something survives");
        assert_eq!(out.series.len(), 1);
        assert_eq!(out.series[0].labels.metric_name(), Some("keep_metric"));
        assert_eq!(out.series[0].labels.get("env"), Some("test"));
        assert_eq!(out.series[0].samples.len(), 2);
    }
}

/// Kills the child process when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The value of a counter (summed over its series) in a Prometheus text page.
fn counter(page: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in page.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ')?;
        let metric = series.split('{').next().unwrap_or(series);
        if metric == name {
            *found.get_or_insert(0.0) += value.parse::<f64>().ok()?;
        }
    }
    found
}

async fn get(
    client: &Client<HttpConnector, http_body_util::Empty<Bytes>>,
    url: &str,
) -> Option<String> {
    let resp = tokio::time::timeout(Duration::from_secs(5), client.get(url.parse().ok()?))
        .await
        .ok()?
        .ok()?;
    let body = resp.into_body().collect().await.ok()?.to_bytes();
    Some(String::from_utf8_lossy(&body).into_owned())
}

/// Debian's Prometheus in agent mode scrapes itself and remote-writes into
/// `prometheus.receive_http`; what it counts as sent is what the echo got.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_prometheus_agent_remote_writes_into_the_pipeline() {
    let binary = Path::new("/usr/bin/prometheus");
    if !binary.exists() {
        eprintln!("skipped: {} not installed", binary.display());
        return;
    }
    let t = "prom";
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    write_config(
        dir.path(),
        &format!(
            r#"prometheus.receive_http "{t}_in" {{
	http {{
		listen_address = "127.0.0.1"
		listen_port    = {port}
	}}
	forward_to = [prometheus.echo.{t}_a.receiver]
}}

prometheus.echo "{t}_a" {{ }}
"#
        ),
    );
    let rt = start(dir.path()).await;
    ready(t).await;
    let prom_port = free_port();
    let prom_config = dir.path().join("prometheus.yml");
    std::fs::write(
        &prom_config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\nremote_write:\n  - url: http://127.0.0.1:{port}/api/v1/metrics/write\n    queue_config:\n      batch_send_deadline: 500ms\n"
        ),
    )
    .expect("write prometheus.yml");
    let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
    let _prometheus = Child(
        std::process::Command::new(binary)
            .arg("--enable-feature=agent")
            .arg(format!("--config.file={}", prom_config.display()))
            .arg(format!(
                "--storage.agent.path={}",
                dir.path().join("agent").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus"),
    );
    let echo_id = format!("prometheus.echo.{t}_a");
    let http: Client<HttpConnector, http_body_util::Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let url = format!("http://127.0.0.1:{prom_port}/metrics");
    // Several scrapes and sends, then a quiet moment where Prometheus' count
    // of sent samples does not move and equals what the echo received.
    let start = Instant::now();
    let deadline = Duration::from_secs(45);
    let mut matched = None;
    while start.elapsed() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Some(before) = get(&http, &url).await else {
            continue;
        };
        let echoed_now = echoed(&echo_id);
        let Some(after) = get(&http, &url).await else {
            continue;
        };
        let (Some(s1), Some(s2)) = (
            counter(&before, "prometheus_remote_storage_samples_total"),
            counter(&after, "prometheus_remote_storage_samples_total"),
        ) else {
            continue;
        };
        let failed =
            counter(&after, "prometheus_remote_storage_samples_failed_total").unwrap_or(0.0);
        assert_eq!(failed, 0.0, "Prometheus saw failed sends");
        if s1 == s2 && s1 as u64 == echoed_now && echoed_now >= 1000 {
            matched = Some(echoed_now);
            break;
        }
    }
    let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    let matched = matched.unwrap_or_else(|| {
        panic!(
            "Prometheus' sent samples never matched the echo (echo {}); its log:\n{}",
            echoed(&echo_id),
            log.lines().rev().take(20).collect::<Vec<_>>().join("\n")
        )
    });
    let stats = receive_http::stats(&format!("prometheus.receive_http.{t}_in")).expect("stats");
    eprintln!(
        "real prometheus: {matched} samples sent = echoed, {} requests accepted, {} malformed",
        stats.accepted.load(Ordering::Relaxed),
        stats.malformed.load(Ordering::Relaxed)
    );
    assert_eq!(stats.malformed.load(Ordering::Relaxed), 0);
    rt.shutdown().await;
}
