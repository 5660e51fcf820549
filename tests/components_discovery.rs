//! `discovery.file` and `discovery.http` end to end: built through their
//! registrations, run on a real tokio runtime against real files in a
//! temporary directory and a real hyper server on 127.0.0.1, with the exports
//! read from the channel the controller would read. Every wait is bounded.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
mod common;

use common::component::{start, Running};
use smelter::component::{registry, HealthState};
use smelter::syntax::Value;
use tokio::net::TcpListener;

/// Wait (bounded) until the component exports exactly `want` as `targets`.
async fn wait_targets(run: &mut Running, want: &Value) {
    run.wait_exports(&Value::object([("targets", want.clone())]))
        .await;
}

fn target(labels: &[(&str, &str)]) -> Value {
    Value::object(labels.iter().map(|(k, v)| (*k, Value::string(*v))))
}

fn list(items: Vec<Value>) -> Value {
    Value::Array(items)
}

// ---------------------------------------------------------------- file

fn file_args(patterns: &[String], refresh: &str) -> Value {
    Value::object([
        (
            "files",
            Value::Array(patterns.iter().map(|p| Value::string(p.as_str())).collect()),
        ),
        ("refresh_interval", Value::string(refresh)),
    ])
}

fn p(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn file_reads_json_and_yaml_in_path_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        r#"[{"targets": ["127.0.0.1:9091", "127.0.0.1:9092"], "labels": {"env": "dev"}},
            {"targets": ["127.0.0.1:9093"]}]"#,
    )
    .expect("write");
    std::fs::write(
        &b,
        "- targets: ['10.0.0.1:9100']\n  labels:\n    env: prod\n    __metrics_path__: /m\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("ignored.txt"), "not matched").expect("write");
    let patterns = vec![p(&dir.path().join("*.yaml")), p(&dir.path().join("*.json"))];
    let mut run = start("discovery.file", dir.path(), file_args(&patterns, "1h"));
    wait_targets(
        &mut run,
        &list(vec![
            target(&[
                ("__address__", "127.0.0.1:9091"),
                ("__meta_filepath", &p(&a)),
                ("env", "dev"),
            ]),
            target(&[
                ("__address__", "127.0.0.1:9092"),
                ("__meta_filepath", &p(&a)),
                ("env", "dev"),
            ]),
            target(&[
                ("__address__", "127.0.0.1:9093"),
                ("__meta_filepath", &p(&a)),
            ]),
            target(&[
                ("__address__", "10.0.0.1:9100"),
                ("__meta_filepath", &p(&b)),
                ("__metrics_path__", "/m"),
                ("env", "prod"),
            ]),
        ]),
    )
    .await;
    assert_eq!(
        run.wait_health(HealthState::Healthy).await,
        "discovered 4 targets"
    );
    run.stop().await;
}

#[tokio::test]
async fn file_changes_are_picked_up_on_the_interval() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A pattern naming one file, refreshed every 100ms (the watcher may see
    // the change first; either way it must arrive, and nothing in between).
    let f = dir.path().join("sd.json");
    std::fs::write(&f, r#"[{"targets": ["h:1"]}]"#).expect("write");
    let mut run = start("discovery.file", dir.path(), file_args(&[p(&f)], "100ms"));
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "h:1"),
            ("__meta_filepath", &p(&f)),
        ])]),
    )
    .await;
    run.quiet(Duration::from_millis(300)).await;
    std::fs::write(&f, r#"[{"targets": ["h:2"], "labels": {"a": "b"}}]"#).expect("write");
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "h:2"),
            ("__meta_filepath", &p(&f)),
            ("a", "b"),
        ])]),
    )
    .await;
    // The file goes away: its targets go too.
    std::fs::remove_file(&f).expect("remove");
    wait_targets(&mut run, &list(vec![])).await;
    run.stop().await;
}

#[tokio::test]
async fn file_changes_are_picked_up_by_the_watcher() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pattern = p(&dir.path().join("tg_*.json"));
    // An hour between refreshes: only the watcher can see the new file.
    let mut run = start("discovery.file", dir.path(), file_args(&[pattern], "1h"));
    wait_targets(&mut run, &list(vec![])).await;
    let f = dir.path().join("tg_1.json");
    std::fs::write(&f, r#"[{"targets": ["w:1"]}]"#).expect("write");
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "w:1"),
            ("__meta_filepath", &p(&f)),
        ])]),
    )
    .await;
    run.stop().await;
}

#[tokio::test]
async fn malformed_file_is_reported_and_keeps_its_last_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.json");
    let bad = dir.path().join("bad.json");
    std::fs::write(&good, r#"[{"targets": ["g:1"]}]"#).expect("write");
    std::fs::write(&bad, r#"[{"targets": ["#).expect("write");
    let pattern = p(&dir.path().join("*.json"));
    let mut run = start(
        "discovery.file",
        dir.path(),
        file_args(std::slice::from_ref(&pattern), "100ms"),
    );
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "g:1"),
            ("__meta_filepath", &p(&good)),
        ])]),
    )
    .await;
    let msg = run.wait_health(HealthState::Unhealthy).await;
    assert!(msg.contains(&p(&bad)), "{msg}");
    // Fix it: both files are served, healthy again.
    std::fs::write(&bad, r#"[{"targets": ["b:1"]}]"#).expect("write");
    wait_targets(
        &mut run,
        &list(vec![
            target(&[("__address__", "b:1"), ("__meta_filepath", &p(&bad))]),
            target(&[("__address__", "g:1"), ("__meta_filepath", &p(&good))]),
        ]),
    )
    .await;
    run.wait_health(HealthState::Healthy).await;
    // Break it again: its last good targets stay (as Prometheus), unhealthy.
    std::fs::write(&bad, "[{").expect("write");
    run.wait_health(HealthState::Unhealthy).await;
    run.quiet(Duration::from_millis(300)).await;
    run.stop().await;
}

#[tokio::test]
async fn file_arguments_apply_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = dir.path().join("one.json");
    let two = dir.path().join("two.yml");
    std::fs::write(&one, r#"[{"targets": ["one:1"]}]"#).expect("write");
    std::fs::write(&two, "- targets: [two:2]\n").expect("write");
    let mut run = start("discovery.file", dir.path(), file_args(&[p(&one)], "1h"));
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "one:1"),
            ("__meta_filepath", &p(&one)),
        ])]),
    )
    .await;
    run.args.send_replace(file_args(&[p(&two)], "1h"));
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "two:2"),
            ("__meta_filepath", &p(&two)),
        ])]),
    )
    .await;
    run.stop().await;
}

#[test]
fn file_validation() {
    let reg = registry::find("discovery.file").expect("registered");
    let check = |files: &[&str]| {
        (reg.validate)(&Value::object([(
            "files",
            Value::Array(files.iter().map(|f| Value::string(*f)).collect()),
        )]))
    };
    assert!(check(&["/etc/sd/*.json", "x.yaml"]).is_ok());
    assert!(check(&[]).is_err());
    assert!(check(&["/etc/*/x.json"])
        .expect_err("star in a directory")
        .to_string()
        .contains("is not valid for file discovery"));
    assert!(check(&["/etc/sd/targets.txt"]).is_err());
    assert!((reg.validate)(&Value::object([("refresh_interval", Value::string("1m"))])).is_err());
}

// ---------------------------------------------------------------- http

#[derive(Clone)]
struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
    location: Option<String>,
}

fn json(body: &str) -> Reply {
    Reply {
        status: 200,
        content_type: "application/json",
        body: body.to_string(),
        location: None,
    }
}

#[derive(Default)]
struct Server {
    replies: BTreeMap<String, Reply>,
    /// The Authorization header of each request, by path.
    seen_auth: Vec<(String, Option<String>)>,
}

type Shared = Arc<Mutex<Server>>;

async fn handle(
    state: Shared,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if path == "/hang" {
        // Never answers within any test's patience.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let reply = {
        let mut s = state.lock().expect("lock");
        s.seen_auth.push((path.clone(), auth));
        s.replies.get(&path).cloned()
    };
    let reply = reply.unwrap_or(Reply {
        status: 404,
        content_type: "text/plain",
        body: "not found".into(),
        location: None,
    });
    let mut resp = Response::builder()
        .status(reply.status)
        .header("content-type", reply.content_type);
    if let Some(loc) = reply.location {
        resp = resp.header("location", loc);
    }
    Ok(resp
        .body(Full::new(Bytes::from(reply.body)))
        .expect("response"))
}

async fn serve(state: Shared) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn set(state: &Shared, path: &str, reply: Reply) {
    state
        .lock()
        .expect("lock")
        .replies
        .insert(path.to_string(), reply);
}

fn http_args(url: &str, refresh: &str, extra: Vec<(&str, Value)>) -> Value {
    let mut fields = vec![
        ("url", Value::string(url)),
        ("refresh_interval", Value::string(refresh)),
    ];
    fields.extend(extra);
    Value::object(fields)
}

#[tokio::test]
async fn http_serves_targets_and_follows_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = Shared::default();
    set(
        &state,
        "/sd",
        json(r#"[{"targets": ["a:1", "b:2"], "labels": {"__scheme__": "https", "team": "x"}}]"#),
    );
    let addr = serve(state.clone()).await;
    let url = format!("http://{addr}/sd");
    let mut run = start(
        "discovery.http",
        dir.path(),
        http_args(&url, "100ms", vec![]),
    );
    wait_targets(
        &mut run,
        &list(vec![
            target(&[
                ("__address__", "a:1"),
                ("__meta_url", &url),
                ("__scheme__", "https"),
                ("team", "x"),
            ]),
            target(&[
                ("__address__", "b:2"),
                ("__meta_url", &url),
                ("__scheme__", "https"),
                ("team", "x"),
            ]),
        ]),
    )
    .await;
    assert_eq!(
        run.wait_health(HealthState::Healthy).await,
        "discovered 2 targets"
    );
    set(&state, "/sd", json(r#"[{"targets": ["c:3"]}]"#));
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "c:3"),
            ("__meta_url", &url),
        ])]),
    )
    .await;
    run.stop().await;
}

#[tokio::test]
async fn http_failures_are_unhealthy_and_keep_last_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = Shared::default();
    set(&state, "/sd", json(r#"[{"targets": ["a:1"]}]"#));
    let addr = serve(state.clone()).await;
    let url = format!("http://{addr}/sd");
    let mut run = start(
        "discovery.http",
        dir.path(),
        http_args(&url, "100ms", vec![]),
    );
    let kept = list(vec![target(&[
        ("__address__", "a:1"),
        ("__meta_url", &url),
    ])]);
    wait_targets(&mut run, &kept).await;
    run.wait_health(HealthState::Healthy).await;

    let failures = [
        (
            Reply {
                status: 500,
                content_type: "application/json",
                body: "[]".into(),
                location: None,
            },
            "server returned HTTP status 500 Internal Server Error",
        ),
        (
            Reply {
                status: 200,
                content_type: "text/plain",
                body: "[]".into(),
                location: None,
            },
            "unsupported content type \"text/plain\"",
        ),
        (json("[{\"targets\": "), "EOF"),
    ];
    for (reply, expected) in failures {
        set(&state, "/sd", reply);
        let msg = run.wait_health(HealthState::Unhealthy).await;
        assert!(
            msg.contains(expected),
            "{msg:?} should contain {expected:?}"
        );
        run.quiet(Duration::from_millis(250)).await;
        // Recover between failures so each one is seen on its own.
        set(&state, "/sd", json(r#"[{"targets": ["a:1"]}]"#));
        run.wait_health(HealthState::Healthy).await;
    }
    run.stop().await;
}

#[tokio::test]
async fn http_connection_refused_is_unhealthy() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Bind then drop: the port is (very likely) closed.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    let url = format!("http://{addr}/sd");
    let mut run = start(
        "discovery.http",
        dir.path(),
        http_args(&url, "100ms", vec![]),
    );
    wait_targets(&mut run, &list(vec![])).await;
    let msg = run.wait_health(HealthState::Unhealthy).await;
    assert!(
        msg.starts_with(&format!("refreshing targets from {url}: ")),
        "{msg}"
    );
    run.stop().await;
}

#[tokio::test]
async fn http_arguments_apply_without_restart_with_auth_and_redirects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = Shared::default();
    set(&state, "/one", json(r#"[{"targets": ["one:1"]}]"#));
    set(&state, "/two", json(r#"[{"targets": ["two:2"]}]"#));
    set(
        &state,
        "/moved",
        Reply {
            status: 302,
            content_type: "text/plain",
            body: String::new(),
            location: Some("/two".into()),
        },
    );
    let addr = serve(state.clone()).await;
    let one = format!("http://{addr}/one");
    let moved = format!("http://{addr}/moved");
    let mut run = start(
        "discovery.http",
        dir.path(),
        http_args(&one, "1h", vec![("bearer_token", Value::secret("tok"))]),
    );
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "one:1"),
            ("__meta_url", &one),
        ])]),
    )
    .await;
    // A new URL (which redirects) and basic auth, applied while running
    // although the refresh interval is an hour.
    let basic = Value::Array(vec![Value::object([
        ("username", Value::string("u")),
        ("password", Value::secret("p")),
    ])]);
    run.args
        .send_replace(http_args(&moved, "1h", vec![("basic_auth", basic)]));
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "two:2"),
            ("__meta_url", &moved),
        ])]),
    )
    .await;
    let seen = state.lock().expect("lock").seen_auth.clone();
    assert_eq!(
        seen,
        vec![
            ("/one".to_string(), Some("Bearer tok".to_string())),
            ("/moved".to_string(), Some("Basic dTpw".to_string())),
            ("/two".to_string(), Some("Basic dTpw".to_string())),
        ]
    );
    run.stop().await;
}

#[tokio::test]
async fn http_new_arguments_abandon_a_hanging_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = Shared::default();
    set(&state, "/one", json(r#"[{"targets": ["one:1"]}]"#));
    let addr = serve(state.clone()).await;
    let hang = format!("http://{addr}/hang");
    let one = format!("http://{addr}/one");
    let mut run = start("discovery.http", dir.path(), http_args(&hang, "1h", vec![]));
    wait_targets(&mut run, &list(vec![])).await;
    // Let the request reach the server, then move the component elsewhere.
    tokio::time::sleep(Duration::from_millis(100)).await;
    run.args.send_replace(http_args(&one, "1h", vec![]));
    wait_targets(
        &mut run,
        &list(vec![target(&[
            ("__address__", "one:1"),
            ("__meta_url", &one),
        ])]),
    )
    .await;
    // A hanging request does not delay cancellation either.
    run.args.send_replace(http_args(&hang, "1h", vec![]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    run.stop().await;
}

#[test]
fn http_validation() {
    let reg = registry::find("discovery.http").expect("registered");
    let check = |fields: Vec<(&str, Value)>| (reg.validate)(&Value::object(fields));
    assert!(check(vec![("url", Value::string("http://127.0.0.1:8080/sd"))]).is_ok());
    assert!(check(vec![]).is_err());
    assert!(check(vec![("url", Value::string("https://x/sd"))])
        .expect_err("https")
        .to_string()
        .contains("not supported"));
    assert!(check(vec![
        ("url", Value::string("http://x/sd")),
        ("bearer_token", Value::secret("a")),
        ("bearer_token_file", Value::string("/f")),
    ])
    .is_err());
    assert!(check(vec![
        ("url", Value::string("http://x/sd")),
        ("refresh_interval", Value::string("0s")),
    ])
    .is_err());
    let schema = (reg.schema)();
    assert!(schema.field("url").is_some_and(|f| f.required));
    assert!(schema.field("basic_auth").is_some());
}
