//! The HTTP server end to end: a real server on 127.0.0.1:0, real HTTP
//! requests through a hyper client, and a test double standing in for the
//! controller (which is written separately behind the `Controller` trait).

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use smelter::component::{HealthReport, HealthState};
use smelter::server::{self, BindError, ComponentInfo, Controller};
use smelter::syntax::value::Capsule;
use smelter::syntax::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Test double for the controller: canned answers the test can change.
#[derive(Default)]
struct FakeController {
    ready: AtomicBool,
    components: Mutex<Vec<ComponentInfo>>,
    reload_error: Mutex<Option<String>>,
    reloads: AtomicUsize,
    /// When set, `reload` waits for it (to hold a request in flight) and
    /// does not touch the global config metrics.
    gate: Option<Arc<Notify>>,
}

impl FakeController {
    fn set_components(&self, c: Vec<ComponentInfo>) {
        *self.components.lock().unwrap() = c;
    }
}

impl Controller for FakeController {
    fn ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    fn components(&self) -> Vec<ComponentInfo> {
        self.components.lock().unwrap().clone()
    }

    fn component(&self, id: &str) -> Option<ComponentInfo> {
        self.components
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.local_id == id)
            .cloned()
    }

    fn reload(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            self.reloads.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.notified().await;
                return Ok(());
            }
            let result = match self.reload_error.lock().unwrap().clone() {
                Some(e) => Err(e),
                None => Ok(()),
            };
            smelter::metrics::config().record_load(result.is_ok());
            result
        })
    }
}

fn component(kind: &str, id: &str, state: HealthState) -> ComponentInfo {
    let mut c = ComponentInfo::new(kind, id);
    c.health = HealthReport::new(state, format!("{state:?}"));
    c
}

struct Running {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start(ctl: Arc<FakeController>) -> Running {
    let listener = server::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server::serve(listener, ctl, shutdown.clone()));
    Running {
        addr,
        shutdown,
        task,
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn request(addr: SocketAddr, method: Method, path: &str, body: &str) -> Answer {
    request_with(addr, method, path, body, &[]).await
}

async fn request_with(
    addr: SocketAddr,
    method: Method,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let resp = client.request(req).await.expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8 body"),
    }
}

async fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, Method::GET, path, "").await
}

async fn stop(r: Running) {
    r.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), r.task)
        .await
        .expect("serve ends after shutdown")
        .expect("serve task")
        .expect("serve result");
}

#[tokio::test]
async fn ready_follows_first_load() {
    let ctl = Arc::new(FakeController::default());
    let r = start(ctl.clone()).await;
    let a = get(r.addr, "/-/ready").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.body.trim_end(), "smelter is not ready.");
    ctl.ready.store(true, Ordering::SeqCst);
    let a = get(r.addr, "/-/ready").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body.trim_end(), "smelter is ready.");
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let a = request(r.addr, Method::HEAD, "/-/ready", "").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "", "HEAD answers carry no body");
    stop(r).await;
}

#[tokio::test]
async fn healthy_lists_unhealthy_but_not_exited() {
    let ctl = Arc::new(FakeController::default());
    ctl.set_components(vec![
        component("local.file", "local.file.a", HealthState::Healthy),
        component("local.file", "local.file.b", HealthState::Exited),
    ]);
    let r = start(ctl.clone()).await;
    let a = get(r.addr, "/-/healthy").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body.trim_end(), "All smelter components are healthy.");

    ctl.set_components(vec![
        component("local.file", "local.file.a", HealthState::Unhealthy),
        component("local.file", "local.file.b", HealthState::Exited),
        component(
            "prometheus.relabel",
            "prometheus.relabel.c",
            HealthState::Unhealthy,
        ),
        component("local.file", "local.file.d", HealthState::Unknown),
    ]);
    let a = get(r.addr, "/-/healthy").await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        a.body.trim_end(),
        "unhealthy components: local.file.a, prometheus.relabel.c"
    );
    stop(r).await;
}

/// The only test that records config loads, so the global config metrics
/// it checks are not raced by other tests of this binary.
#[tokio::test]
async fn reload_success_failure_and_config_metrics() {
    let ctl = Arc::new(FakeController::default());
    let r = start(ctl.clone()).await;

    let a = get(r.addr, "/-/reload").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body.trim_end(), "config reloaded");
    let m = get(r.addr, "/metrics").await.body;
    assert_eq!(sample(&m, "smelter_config_last_load_successful"), Some(1.0));
    let ts = sample(&m, "smelter_config_last_load_success_timestamp_seconds").unwrap();
    assert!(ts > 1_600_000_000.0, "timestamp {ts}");

    // POST with a body: the body is ignored.
    let a = request(r.addr, Method::POST, "/-/reload", "ignored").await;
    assert_eq!(a.status, StatusCode::OK);

    let diag = "reading config path \"x.alloy\": x.alloy:3:5: expected }, got EOF";
    *ctl.reload_error.lock().unwrap() = Some(diag.to_string());
    let before = sample(&m, "smelter_config_load_failures_total").unwrap();
    let a = request(r.addr, Method::POST, "/-/reload", "").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body.trim_end(), diag);
    assert_eq!(ctl.reloads.load(Ordering::SeqCst), 3);

    let m = get(r.addr, "/metrics").await.body;
    assert_eq!(sample(&m, "smelter_config_last_load_successful"), Some(0.0));
    assert_eq!(
        sample(&m, "smelter_config_load_failures_total"),
        Some(before + 1.0)
    );

    // Other methods are refused.
    let a = request(r.addr, Method::PUT, "/-/reload", "").await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.headers["allow"], "GET, POST");
    assert_eq!(ctl.reloads.load(Ordering::SeqCst), 3);
    stop(r).await;
}

fn pipeline() -> Vec<ComponentInfo> {
    let mut file = component("local.file", "local.file.token", HealthState::Healthy);
    file.referenced_by = vec!["prometheus.remote_write.default".into()];
    file.evaluations = 2;
    file.updates = 1;
    file.arguments = Some(Value::object([
        ("filename", Value::string("/etc/token")),
        ("is_secret", Value::Bool(true)),
    ]));
    file.exports = Some(Value::object([(
        "content",
        Value::Capsule(Capsule::OptionalSecret {
            value: "s3cr3t-token".into(),
            is_secret: true,
        }),
    )]));

    let mut write = component(
        "prometheus.remote_write",
        "prometheus.remote_write.default",
        HealthState::Healthy,
    );
    write.references_to = vec!["local.file.token".into()];
    write.referenced_by = vec!["prometheus.relabel.x".into()];
    write.evaluations = 1;
    write.arguments = Some(Value::object([(
        "endpoint",
        Value::object([
            ("url", Value::string("http://127.0.0.1:9090/api/v1/write")),
            ("bearer_token", Value::secret("hunter2")),
            ("timeout_ratio", Value::float(f64::NAN)),
        ]),
    )]));
    write.exports = Some(Value::object([(
        "receiver",
        Value::receiver("prometheus.remote_write.default", "receiver"),
    )]));

    let mut relabel = component(
        "prometheus.relabel",
        "prometheus.relabel.x",
        HealthState::Unhealthy,
    );
    relabel.references_to = vec!["prometheus.remote_write.default".into()];
    relabel.data_flow_edges_to = vec!["prometheus.remote_write.default".into()];
    relabel.evaluations = 5;
    relabel.updates = 3;
    relabel.arguments = Some(Value::object([(
        "forward_to",
        Value::Array(vec![Value::receiver(
            "prometheus.remote_write.default",
            "receiver",
        )]),
    )]));
    vec![file, write, relabel]
}

#[tokio::test]
async fn component_list_and_detail() {
    let ctl = Arc::new(FakeController::default());
    ctl.set_components(pipeline());
    let r = start(ctl.clone()).await;

    let a = get(r.addr, "/api/v0/web/components").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["content-type"], "application/json");
    let list: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 3);
    let first = list[0].as_object().unwrap();
    let keys: BTreeSet<&str> = first.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "name",
        "type",
        "localID",
        "moduleID",
        "label",
        "referencesTo",
        "referencedBy",
        "dataFlowEdgesTo",
        "health",
        "evaluations",
        "updates",
    ]
    .into();
    assert_eq!(keys, expected, "list entries carry no arguments/exports");
    assert_eq!(first["name"], "local.file");
    assert_eq!(first["type"], "block");
    assert_eq!(first["localID"], "local.file.token");
    assert_eq!(first["moduleID"], "");
    assert_eq!(first["label"], "token");
    assert_eq!(first["health"]["state"], "healthy");
    assert!(first["health"]["updatedTime"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(
        list[2]["dataFlowEdgesTo"],
        json!(["prometheus.remote_write.default"])
    );
    assert_eq!(list[2]["health"]["state"], "unhealthy");
    assert!(!a.body.contains("hunter2") && !a.body.contains("s3cr3t"));

    let a = get(
        r.addr,
        "/api/v0/web/components/prometheus.remote_write.default",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.body.contains("hunter2"), "secret leaked: {}", a.body);
    let one: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(
        one["arguments"],
        json!({"endpoint": {
            "url": "http://127.0.0.1:9090/api/v1/write",
            "bearer_token": "(secret)",
            "timeout_ratio": "NaN",
        }})
    );
    assert_eq!(
        one["exports"],
        json!({"receiver": "receiver(prometheus.remote_write.default)"})
    );
    assert_eq!(one["evaluations"], 1);
    assert_eq!(one["updates"], 0);
    assert_eq!(one["referencesTo"], json!(["local.file.token"]));

    // OptionalSecret marked secret is redacted; percent-encoded ids work.
    let a = get(r.addr, "/api/v0/web/components/local%2Efile%2Etoken").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.body.contains("s3cr3t"), "secret leaked: {}", a.body);
    let one: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(one["exports"], json!({"content": "(secret)"}));
    assert_eq!(one["arguments"]["is_secret"], true);

    let a = get(r.addr, "/api/v0/web/components/prometheus.relabel.x").await;
    let one: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(
        one["arguments"]["forward_to"],
        json!(["receiver(prometheus.remote_write.default)"])
    );

    let a = get(r.addr, "/api/v0/web/components/local.file.nope").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = get(r.addr, "/api/v0/web/components/").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    stop(r).await;
}

/// The value of the first sample named exactly `name` (labels ignored).
fn sample(text: &str, name: &str) -> Option<f64> {
    parse_exposition(text)
        .into_iter()
        .find(|s| s.name == name)
        .map(|s| s.value)
}

struct Sample {
    name: String,
    labels: String,
    value: f64,
}

/// A strict-enough parser of the Prometheus text format: every line is a
/// comment (`# HELP`, `# TYPE`, `# EOF`, …) or `name[{labels}] value`.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let kind = rest.split(' ').nth(1).expect("TYPE has a kind");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "type the Prometheus text format knows: {line}"
                );
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("series and value");
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => {
                assert!(l.ends_with('}'), "labels closed in {line:?}");
                (n, l.trim_end_matches('}'))
            }
            None => (series, ""),
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "metric name in {line:?}"
        );
        out.push(Sample {
            name: name.to_string(),
            labels: labels.to_string(),
            value,
        });
    }
    out
}

#[tokio::test]
async fn metrics_in_prometheus_text_format() {
    let ctl = Arc::new(FakeController::default());
    ctl.set_components(pipeline());
    let r = start(ctl.clone()).await;

    let a = get(r.addr, "/metrics").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let samples = parse_exposition(&a.body);
    let names: BTreeSet<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    for want in [
        "smelter_build_info",
        "smelter_config_last_load_successful",
        "smelter_config_last_load_success_timestamp_seconds",
        "smelter_config_load_failures_total",
        "smelter_component_evaluations_total",
        "smelter_component_updates_total",
        "smelter_component_controller_running_components",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_cpu_seconds_total",
        "process_start_time_seconds",
    ] {
        assert!(names.contains(want), "{want} missing from:\n{}", a.body);
    }
    let per = |name: &str, id: &str| {
        samples
            .iter()
            .find(|s| s.name == name && s.labels == format!("component_id=\"{id}\""))
            .map(|s| s.value)
    };
    assert_eq!(
        per(
            "smelter_component_evaluations_total",
            "prometheus.relabel.x"
        ),
        Some(5.0)
    );
    assert_eq!(
        per("smelter_component_updates_total", "prometheus.relabel.x"),
        Some(3.0)
    );
    assert_eq!(
        per("smelter_component_evaluations_total", "local.file.token"),
        Some(2.0)
    );
    let unhealthy = samples
        .iter()
        .find(|s| {
            s.name == "smelter_component_controller_running_components"
                && s.labels == "health_type=\"unhealthy\""
        })
        .map(|s| s.value);
    assert_eq!(unhealthy, Some(1.0));
    assert!(
        samples
            .iter()
            .find(|s| s.name == "process_resident_memory_bytes")
            .unwrap()
            .value
            > 0.0
    );

    // Debian's promtool, where installed, is the reference parser and linter.
    promtool_check(&a.body);

    // A scraper that asks for OpenMetrics gets it.
    let om = request_with(
        r.addr,
        Method::GET,
        "/metrics",
        "",
        &[(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )],
    )
    .await;
    assert!(om.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    assert!(om.body.ends_with("# EOF\n"));
    assert!(om
        .body
        .contains("# TYPE smelter_component_evaluations counter\n"));
    assert!(a
        .body
        .contains("# TYPE smelter_component_evaluations_total counter\n"));
    stop(r).await;
}

/// `promtool check metrics` on `text`, if promtool is installed.
fn promtool_check(text: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("promtool not installed; skipping its check");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn unknown_paths_methods_and_large_bodies() {
    let ctl = Arc::new(FakeController::default());
    let r = start(ctl.clone()).await;
    for path in [
        "/",
        "/nope",
        "/-/readyx",
        "/api/v0/web/componentsx",
        "/metrics/x",
    ] {
        let a = get(r.addr, path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
    }
    let a = request(r.addr, Method::POST, "/-/ready", "").await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.headers["allow"], "GET, HEAD");

    let big = "x".repeat(server::MAX_REQUEST_BODY_BYTES + 1);
    let a = request(r.addr, Method::POST, "/-/reload", &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(ctl.reloads.load(Ordering::SeqCst), 0);
    stop(r).await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let gate = Arc::new(Notify::new());
    let ctl = Arc::new(FakeController {
        gate: Some(gate.clone()),
        ..Default::default()
    });
    let r = start(ctl.clone()).await;
    let addr = r.addr;
    let in_flight = tokio::spawn(async move { request(addr, Method::POST, "/-/reload", "").await });
    while ctl.reloads.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    r.shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !r.task.is_finished(),
        "serve waits for the in-flight request"
    );
    // No new connections once shutdown began.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    gate.notify_one();
    let a = in_flight.await.unwrap();
    assert_eq!(a.status, StatusCode::OK);
    tokio::time::timeout(Duration::from_secs(5), r.task)
        .await
        .expect("serve ends")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn idle_keep_alive_connections_do_not_hold_up_shutdown() {
    let ctl = Arc::new(FakeController::default());
    let r = start(ctl).await;
    // One client, kept alive across the shutdown: its pooled connection is idle.
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let resp = client
        .get(format!("http://{}/-/ready", r.addr).parse().unwrap())
        .await
        .unwrap();
    resp.into_body().collect().await.unwrap();
    stop(r).await;
    drop(client);
}

#[tokio::test]
async fn bind_reports_bad_addresses_and_ports_in_use() {
    let taken = server::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = server::bind(&addr).await.unwrap_err();
    assert!(matches!(err, BindError::InUse { .. }), "{err:?}");
    assert!(err.to_string().contains("address already in use"), "{err}");

    for (bad, why) in [
        ("127.0.0.1", "missing port"),
        ("127.0.0.1:http", "is not a number"),
        ("127.0.0.1:70000", "is not a number"),
        ("::1:80", "must be in brackets"),
        ("[::1:80", "unbalanced brackets"),
    ] {
        let err = server::bind(bad).await.unwrap_err();
        assert!(matches!(err, BindError::Invalid { .. }), "{bad}: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(why) && msg.contains("--server.http.listen-addr"),
            "{bad}: {msg}"
        );
    }

    let any = server::bind(":0").await.unwrap();
    assert!(any.local_addr().unwrap().ip().is_unspecified());
    let local = server::bind("localhost:0").await.unwrap();
    assert!(local.local_addr().unwrap().ip().is_loopback());
}
