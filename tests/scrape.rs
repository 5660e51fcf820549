//! `prometheus.scrape`'s engine against real HTTP on 127.0.0.1: a small
//! hyper server serving known pages, and Debian's `prometheus-node-exporter`.
//! Every wait is bounded.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use smelter::components::prometheus::scrape::{
    AppendFuture, Appender, Arguments, Backpressure, CollectingAppender, ScrapeEngine,
};
use smelter::syntax::Value;
use smelter_storage::{Batch, Labels, Sample};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);
const OM: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

const PAGE: &str = "# HELP http_requests_total Total requests.\n\
# TYPE http_requests_total counter\n\
http_requests_total{method=\"get\",code=\"200\"} 1027\n\
http_requests_total{method=\"post\",code=\"200\",job=\"app\"} 3 1395066363000\n\
temperature 21.5\n";

const PAGE_OM: &str = "# TYPE http_requests counter\n\
http_requests_total{method=\"get\"} 7.0\n\
# TYPE temperature gauge\n\
temperature{room=\"a\"} 19.25\n\
# EOF\n";

#[derive(Clone)]
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    gzip: bool,
    delay: Duration,
}

impl Reply {
    fn ok(content_type: &'static str, body: &str) -> Self {
        Reply {
            status: 200,
            content_type,
            body: body.as_bytes().to_vec(),
            gzip: false,
            delay: Duration::ZERO,
        }
    }
}

struct Server {
    addr: SocketAddr,
    reply: Arc<Mutex<Reply>>,
    last_headers: Arc<Mutex<Option<HeaderMap>>>,
    hits: Arc<AtomicUsize>,
}

impl Server {
    async fn start(reply: Reply) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reply = Arc::new(Mutex::new(reply));
        let last_headers = Arc::new(Mutex::new(None));
        let hits = Arc::new(AtomicUsize::new(0));
        let (r, h, n) = (reply.clone(), last_headers.clone(), hits.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (r, h, n) = (r.clone(), h.clone(), n.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (r, h, n) = (r.clone(), h.clone(), n.clone());
                        async move {
                            n.fetch_add(1, Ordering::SeqCst);
                            *h.lock().unwrap() = Some(req.headers().clone());
                            let reply = r.lock().unwrap().clone();
                            tokio::time::sleep(reply.delay).await;
                            let mut resp = Response::builder()
                                .status(StatusCode::from_u16(reply.status).unwrap())
                                .header("Content-Type", reply.content_type);
                            let body = if reply.gzip {
                                resp = resp.header("Content-Encoding", "gzip");
                                gzip(&reply.body)
                            } else {
                                reply.body.clone()
                            };
                            Ok::<_, std::convert::Infallible>(
                                resp.body(Full::new(Bytes::from(body))).unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Server {
            addr,
            reply,
            last_headers,
            hits,
        }
    }

    fn set(&self, f: impl FnOnce(&mut Reply)) {
        f(&mut self.reply.lock().unwrap());
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn target(addr: SocketAddr, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut t = BTreeMap::from([("__address__".to_string(), addr.to_string())]);
    for (k, v) in extra {
        t.insert(k.to_string(), v.to_string());
    }
    t
}

fn fast_args(targets: Vec<BTreeMap<String, String>>) -> Arguments {
    let mut a = Arguments::new("prometheus.scrape.test");
    a.targets = targets;
    a.scrape_interval = Duration::from_millis(200);
    a.scrape_timeout = Duration::from_millis(150);
    a
}

struct Running {
    appender: Arc<CollectingAppender>,
    tx: watch::Sender<Arguments>,
    cancel: CancellationToken,
    stats: Arc<smelter::components::prometheus::scrape::ScrapeStats>,
    join: tokio::task::JoinHandle<()>,
}

fn start(args: Arguments) -> Running {
    let appender = CollectingAppender::new();
    let engine = ScrapeEngine::new(appender.clone());
    let stats = engine.stats();
    let (tx, rx) = watch::channel(args);
    let cancel = CancellationToken::new();
    let join = tokio::spawn(engine.run(rx, cancel.clone()));
    Running {
        appender,
        tx,
        cancel,
        stats,
        join,
    }
}

impl Running {
    async fn wait(&self, pred: impl Fn(&[Batch]) -> bool) -> Vec<Batch> {
        let batches = self.appender.wait_for(WAIT, &pred).await;
        assert!(
            pred(&batches),
            "condition not met in {WAIT:?}: {batches:#?}"
        );
        batches
    }

    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(WAIT, self.join)
            .await
            .unwrap()
            .unwrap();
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// The sample of the series with exactly `l` in `b`.
fn sample(b: &Batch, l: &Labels) -> Option<Sample> {
    b.series
        .iter()
        .find(|s| &s.labels == l)
        .map(|s| s.samples[0])
}

/// The value of report series `name` of target `instance` in `b`.
fn report(b: &Batch, name: &str) -> Option<f64> {
    b.series
        .iter()
        .find(|s| s.labels.metric_name() == Some(name))
        .map(|s| s.samples[0].value)
}

fn up(b: &Batch) -> Option<f64> {
    report(b, "up")
}

fn scrape_ts(b: &Batch) -> i64 {
    b.series
        .iter()
        .find(|s| s.labels.metric_name() == Some("up"))
        .map(|s| s.samples[0].timestamp_ms)
        .unwrap()
}

#[tokio::test]
async fn text_page_gives_exact_samples_labels_and_report() {
    let server = Server::start(Reply::ok(TEXT, PAGE)).await;
    let inst = server.addr.to_string();
    let run = start(fast_args(vec![target(server.addr, &[("env", "prod")])]));
    let batches = run.wait(|b| b.len() >= 2).await;
    let first = &batches[0];
    let ts = scrape_ts(first);
    let job = "prometheus.scrape.test";
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![("instance", inst.as_str()), ("job", job), ("env", "prod")];
        p.extend_from_slice(extra);
        labels(&p)
    };
    let get = base(&[
        ("__name__", "http_requests_total"),
        ("method", "get"),
        ("code", "200"),
    ]);
    let post = base(&[
        ("__name__", "http_requests_total"),
        ("method", "post"),
        ("code", "200"),
        ("exported_job", "app"),
    ]);
    let temp = base(&[("__name__", "temperature")]);
    assert!(sample(first, &get)
        .unwrap()
        .bit_eq(&Sample::new(1027.0, ts)));
    // The page's timestamp is honored by default.
    assert!(sample(first, &post)
        .unwrap()
        .bit_eq(&Sample::new(3.0, 1_395_066_363_000)));
    assert!(sample(first, &temp).unwrap().bit_eq(&Sample::new(21.5, ts)));
    // 3 samples + 5 report series, nothing else.
    assert_eq!(first.series.len(), 8, "{first:#?}");
    assert_eq!(up(first), Some(1.0));
    assert_eq!(report(first, "scrape_samples_scraped"), Some(3.0));
    assert_eq!(
        report(first, "scrape_samples_post_metric_relabeling"),
        Some(3.0)
    );
    assert_eq!(report(first, "scrape_series_added"), Some(3.0));
    let duration = report(first, "scrape_duration_seconds").unwrap();
    assert!(duration > 0.0 && duration < 0.15, "{duration}");
    let up_labels = base(&[("__name__", "up")]);
    assert!(
        sample(first, &up_labels).is_some(),
        "report series carry the target labels"
    );
    // The second scrape adds no series; one interval later.
    let second = &batches[1];
    assert_eq!(report(second, "scrape_series_added"), Some(0.0));
    let gap = scrape_ts(second) - ts;
    assert!(
        (150..=400).contains(&gap),
        "interval between scrapes: {gap} ms"
    );
    // Request headers as Prometheus sends them.
    let headers = server.last_headers.lock().unwrap().clone().unwrap();
    let accept = headers.get("accept").unwrap().to_str().unwrap();
    assert!(
        accept.starts_with("application/openmetrics-text;version=1.0.0;q=0.5"),
        "{accept}"
    );
    assert!(accept.contains("text/plain;version=0.0.4"), "{accept}");
    assert_eq!(headers.get("accept-encoding").unwrap(), "gzip");
    assert_eq!(
        headers.get("x-prometheus-scrape-timeout-seconds").unwrap(),
        "0.15"
    );
    run.stop().await;
}

#[tokio::test]
async fn openmetrics_gzip_and_honor_labels() {
    let mut reply = Reply::ok(OM, PAGE_OM);
    reply.gzip = true;
    let server = Server::start(reply).await;
    let inst = server.addr.to_string();
    let mut args = fast_args(vec![target(server.addr, &[("room", "target")])]);
    args.honor_labels = true;
    let run = start(args);
    let batches = run.wait(|b| !b.is_empty()).await;
    let b = &batches[0];
    let ts = scrape_ts(b);
    let job = "prometheus.scrape.test";
    let total = labels(&[
        ("__name__", "http_requests_total"),
        ("method", "get"),
        ("instance", &inst),
        ("job", job),
        ("room", "target"),
    ]);
    // honor_labels: the page's `room` wins over the target's.
    let temp = labels(&[
        ("__name__", "temperature"),
        ("room", "a"),
        ("instance", &inst),
        ("job", job),
    ]);
    assert!(sample(b, &total).unwrap().bit_eq(&Sample::new(7.0, ts)));
    assert!(sample(b, &temp).unwrap().bit_eq(&Sample::new(19.25, ts)));
    assert_eq!(up(b), Some(1.0));
    assert_eq!(report(b, "scrape_samples_scraped"), Some(2.0));
    run.stop().await;
}

#[tokio::test]
async fn vanished_series_get_a_stale_marker() {
    let server = Server::start(Reply::ok(TEXT, PAGE)).await;
    let run = start(fast_args(vec![target(server.addr, &[])]));
    run.wait(|b| !b.is_empty()).await;
    server.set(|r| r.body = PAGE.replace("temperature 21.5\n", "").into_bytes());
    let is_temp = |s: &smelter_storage::Series| s.labels.metric_name() == Some("temperature");
    let batches = run
        .wait(|b| {
            b.iter().any(|b| {
                b.series
                    .iter()
                    .any(|s| is_temp(s) && s.samples[0].is_stale())
            })
        })
        .await;
    let i = batches
        .iter()
        .position(|b| {
            b.series
                .iter()
                .any(|s| is_temp(s) && s.samples[0].is_stale())
        })
        .unwrap();
    let b = &batches[i];
    let marker = b.series.iter().find(|s| is_temp(s)).unwrap();
    assert_eq!(marker.samples.len(), 1);
    assert_eq!(marker.samples[0].timestamp_ms, scrape_ts(b));
    assert_eq!(up(b), Some(1.0));
    assert_eq!(report(b, "scrape_samples_scraped"), Some(2.0));
    // Only one marker, and no marker for a series with an honored timestamp.
    assert_eq!(
        b.series.iter().filter(|s| s.samples[0].is_stale()).count(),
        1
    );
    // Later scrapes do not repeat it.
    let n = batches.len();
    let later = run.wait(|b| b.len() > n).await;
    assert!(!later[n].series.iter().any(is_temp));
    run.stop().await;
}

#[tokio::test]
async fn removed_target_gets_stale_markers_and_others_keep_their_loop() {
    let server = Server::start(Reply::ok(TEXT, PAGE)).await;
    let a = target(server.addr, &[("replica", "a")]);
    let b = target(server.addr, &[("replica", "b")]);
    let run = start(fast_args(vec![a.clone(), b]));
    let replica = |batch: &Batch| {
        batch
            .series
            .last()
            .and_then(|s| s.labels.get("replica").map(str::to_string))
    };
    run.wait(|bs| {
        bs.iter()
            .filter(|b| replica(b).as_deref() == Some("a"))
            .count()
            >= 2
            && bs.iter().any(|b| replica(b).as_deref() == Some("b"))
    })
    .await;
    assert_eq!(run.stats.snapshot().active_targets, 2);
    let before = run.appender.batches().len();
    run.tx.send(fast_args(vec![a])).unwrap();
    let all_stale =
        |b: &Batch| !b.series.is_empty() && b.series.iter().all(|s| s.samples[0].is_stale());
    let batches = run
        .wait(|bs| {
            bs[before..].iter().any(all_stale)
                && bs[before..]
                    .iter()
                    .filter(|b| replica(b).as_deref() == Some("a"))
                    .count()
                    >= 2
        })
        .await;
    let stale = batches[before..].iter().find(|b| all_stale(b)).unwrap();
    // Every series target b wrote: 2 tracked samples + 5 report series (the
    // sample with a page timestamp is not tracked).
    assert!(stale
        .series
        .iter()
        .all(|s| s.labels.get("replica") == Some("b")));
    assert_eq!(stale.series.len(), 7, "{stale:#?}");
    assert!(stale
        .series
        .iter()
        .any(|s| s.labels.metric_name() == Some("up")));
    assert!(stale
        .series
        .iter()
        .any(|s| s.labels.metric_name() == Some("temperature")));
    // Target a kept its loop: it never reports new series again.
    for b in batches[before..]
        .iter()
        .filter(|b| replica(b).as_deref() == Some("a"))
    {
        assert_eq!(report(b, "scrape_series_added"), Some(0.0));
    }
    // And target b is scraped no more.
    let n = batches.len();
    let later = run.wait(|bs| bs.len() >= n + 2).await;
    assert!(later[n..]
        .iter()
        .all(|b| replica(b).as_deref() == Some("a")));
    assert_eq!(run.stats.snapshot().active_targets, 1);
    run.stop().await;
}

async fn failing_scrape_marks_everything_stale(fail: impl FnOnce(&mut Reply)) {
    let server = Server::start(Reply::ok(TEXT, PAGE)).await;
    let run = start(fast_args(vec![target(server.addr, &[])]));
    run.wait(|b| !b.is_empty()).await;
    server.set(fail);
    let batches = run.wait(|b| b.iter().any(|b| up(b) == Some(0.0))).await;
    let b = batches.iter().find(|b| up(b) == Some(0.0)).unwrap();
    let ts = scrape_ts(b);
    let stale: Vec<_> = b
        .series
        .iter()
        .filter(|s| s.samples[0].is_stale())
        .collect();
    assert_eq!(stale.len(), 2, "{b:#?}");
    assert!(stale.iter().all(|s| s.samples[0].timestamp_ms == ts));
    // Markers and the report, no samples.
    assert_eq!(b.series.len(), 7);
    assert_eq!(report(b, "scrape_samples_scraped"), Some(0.0));
    assert_eq!(report(b, "scrape_series_added"), Some(0.0));
    assert!(run.stats.snapshot().failed_scrapes >= 1);
    // The next failure has nothing left to mark.
    let n = batches.iter().position(|x| std::ptr::eq(x, b)).unwrap() + 1;
    let later = run.wait(|bs| bs.len() > n).await;
    assert_eq!(later[n].series.len(), 5);
    run.stop().await;
}

#[tokio::test]
async fn http_500_is_up_0_with_stale_markers() {
    failing_scrape_marks_everything_stale(|r| r.status = 500).await;
}

#[tokio::test]
async fn timeout_is_up_0_with_stale_markers() {
    failing_scrape_marks_everything_stale(|r| r.delay = Duration::from_millis(400)).await;
}

#[tokio::test]
async fn sample_limit_fails_the_whole_scrape() {
    let server = Server::start(Reply::ok(TEXT, PAGE)).await;
    let mut args = fast_args(vec![target(server.addr, &[])]);
    args.limits.sample_limit = 2;
    let run = start(args);
    let batches = run.wait(|b| !b.is_empty()).await;
    let b = &batches[0];
    assert_eq!(up(b), Some(0.0));
    assert_eq!(b.series.len(), 5, "only the report: {b:#?}");
    assert_eq!(report(b, "scrape_samples_scraped"), Some(3.0));
    assert!(run.stats.snapshot().sample_limit_exceeded >= 1);
    run.stop().await;
    // At the limit it passes.
    let mut args = fast_args(vec![target(server.addr, &[])]);
    args.limits.sample_limit = 3;
    let run = start(args);
    let batches = run.wait(|b| !b.is_empty()).await;
    assert_eq!(up(&batches[0]), Some(1.0));
    run.stop().await;
}

#[tokio::test]
async fn body_size_limit_applies_after_decompression() {
    let big = format!("{PAGE}{}", "filler 1\n".repeat(1000));
    for gz in [false, true] {
        let mut reply = Reply::ok(TEXT, &big);
        reply.gzip = gz;
        let server = Server::start(reply).await;
        let mut args = fast_args(vec![target(server.addr, &[])]);
        args.limits.body_size_limit = 1000;
        let run = start(args);
        let batches = run.wait(|b| !b.is_empty()).await;
        assert_eq!(up(&batches[0]), Some(0.0), "gzip={gz}");
        assert_eq!(batches[0].series.len(), 5);
        assert!(run.stats.snapshot().body_size_limit_exceeded >= 1);
        run.stop().await;
        // A limit above the page passes.
        let mut args = fast_args(vec![target(server.addr, &[])]);
        args.limits.body_size_limit = big.len() as u64;
        let run = start(args);
        let batches = run.wait(|b| !b.is_empty()).await;
        assert_eq!(up(&batches[0]), Some(1.0), "gzip={gz}");
        assert_eq!(report(&batches[0], "scrape_samples_scraped"), Some(1003.0));
        run.stop().await;
    }
}

/// Refuses the first `refuse` appends, then collects.
struct Stubborn {
    refuse: AtomicUsize,
    inner: Arc<CollectingAppender>,
}

impl Appender for Stubborn {
    fn append(&self, batch: Batch) -> AppendFuture<'_> {
        Box::pin(async move {
            if self
                .refuse
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(Backpressure {
                    batch,
                    retry_after: Some(Duration::from_millis(150)),
                });
            }
            self.inner.append(batch).await
        })
    }
}

#[tokio::test]
async fn backpressure_delays_scrapes_and_is_counted() {
    let server = Server::start(Reply::ok(TEXT, PAGE)).await;
    let inner = CollectingAppender::new();
    let engine = ScrapeEngine::new(Arc::new(Stubborn {
        refuse: AtomicUsize::new(4),
        inner: inner.clone(),
    }));
    let stats = engine.stats();
    let (_tx, rx) = watch::channel(fast_args(vec![target(server.addr, &[])]));
    let cancel = CancellationToken::new();
    let join = tokio::spawn(engine.run(rx, cancel.clone()));
    let batches = inner.wait_for(WAIT, |b| b.len() >= 2).await;
    assert!(batches.len() >= 2);
    let s = stats.snapshot();
    assert_eq!(s.backpressure, 4);
    // 4 × 150 ms of refusals hold the first batch ~600 ms: scrapes were skipped.
    assert!(s.delayed_scrapes >= 1, "{s:?}");
    // The refused batch was delivered whole, first.
    assert_eq!(up(&batches[0]), Some(1.0));
    assert_eq!(report(&batches[0], "scrape_series_added"), Some(3.0));
    let gap = scrape_ts(&batches[1]) - scrape_ts(&batches[0]);
    assert!(gap >= 500, "next scrape waited for the appender: {gap} ms");
    assert!(server.hits.load(Ordering::SeqCst) <= batches.len() + 1);
    cancel.cancel();
    tokio::time::timeout(WAIT, join).await.unwrap().unwrap();
}

#[tokio::test]
async fn interval_and_timeout_labels_and_params_per_target() {
    let server = Server::start(Reply::ok(TEXT, PAGE)).await;
    let mut args = fast_args(vec![target(
        server.addr,
        &[
            ("__scrape_interval__", "300ms"),
            ("__scrape_timeout__", "100ms"),
            ("__metrics_path__", "/probe"),
            ("__param_module", "http_2xx"),
        ],
    )]);
    args.params = BTreeMap::from([("target".to_string(), vec!["x y".to_string()])]);
    let run = start(args);
    let batches = run.wait(|b| b.len() >= 2).await;
    let gap = scrape_ts(&batches[1]) - scrape_ts(&batches[0]);
    assert!((250..=450).contains(&gap), "{gap}");
    let headers = server.last_headers.lock().unwrap().clone().unwrap();
    assert_eq!(
        headers.get("x-prometheus-scrape-timeout-seconds").unwrap(),
        "0.1"
    );
    run.stop().await;
}

#[test]
fn arguments_decode_with_defaults_and_validation() {
    let targets = Value::Array(vec![Value::object([(
        "__address__",
        Value::string("127.0.0.1:9100"),
    )])]);
    let v = Value::object([("targets", targets.clone())]);
    let a = Arguments::from_value(&v, "prometheus.scrape.default").unwrap();
    assert_eq!(a.job_name, "prometheus.scrape.default");
    assert_eq!(a.scrape_interval, Duration::from_secs(60));
    assert_eq!(a.scrape_timeout, Duration::from_secs(10));
    assert_eq!(a.metrics_path, "/metrics");
    assert_eq!(a.scheme, "http");
    assert!(a.honor_timestamps && !a.honor_labels && !a.track_timestamps_staleness);
    assert_eq!(a.targets.len(), 1);

    let with = |k: &str, val: Value| {
        Arguments::from_value(
            &Value::object([("targets", targets.clone()), (k, val)]),
            "c",
        )
    };
    let err = Arguments::from_value(
        &Value::object([
            ("targets", targets.clone()),
            ("scrape_interval", Value::string("5s")),
            ("scrape_timeout", Value::string("10s")),
        ]),
        "c",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("greater than scrape_interval"),
        "{err}"
    );
    let err = with("scheme", Value::string("https")).unwrap_err();
    assert!(err.to_string().contains("https"), "{err}");
    assert!(err.to_string().contains("not supported"), "{err}");
    assert!(with("scheme", Value::string("ftp")).is_err());
    let a = with("enable_protobuf_negotiation", Value::Bool(true)).unwrap();
    assert!(
        !a.accept_header().contains("protobuf"),
        "{}",
        a.accept_header()
    );
    assert!(a
        .accept_header()
        .starts_with("application/openmetrics-text"));
    let a = with("job_name", Value::string("node")).unwrap();
    assert_eq!(a.job_name, "node");
    let err = Arguments::from_value(
        &Value::object([
            ("targets", targets.clone()),
            ("bearer_token", Value::secret("t")),
            (
                "basic_auth",
                Value::Array(vec![Value::object([("username", Value::string("u"))])]),
            ),
        ]),
        "c",
    )
    .unwrap_err();
    assert!(err.to_string().contains("at most one"), "{err}");
    assert!(
        Arguments::from_value(&Value::object([("job_name", Value::string("x"))]), "c").is_err()
    );
}

// ---------------------------------------------------------------------------
// Against Debian's prometheus-node-exporter.

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sample lines of a text or OpenMetrics page.
fn count_sample_lines(page: &str) -> usize {
    page.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count()
}

async fn get_page(addr: SocketAddr, accept: &str) -> String {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<Bytes>>();
    let req = hyper::Request::get(format!("http://{addr}/metrics"))
        .header("Accept", accept)
        .body(http_body_util::Empty::new())
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn node_exporter_samples_scraped_match_its_page() {
    let bin = "/usr/bin/prometheus-node-exporter";
    if !std::path::Path::new(bin).exists() {
        eprintln!("SKIPPED: {bin} is missing (apt-get install prometheus-node-exporter)");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let _child = Child(
        std::process::Command::new(bin)
            .arg(format!("--web.listen-address={addr}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "node exporter did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut args = fast_args(vec![target(addr, &[])]);
    args.scrape_interval = Duration::from_millis(1000);
    args.scrape_timeout = Duration::from_millis(900);
    let accept = args.accept_header();
    let run = start(args);
    // The page may change between two fetches (a series may come or go);
    // compare with a page fetched just before and just after a scrape and
    // accept the scrape when both agree.
    let mut checked = 0;
    for _ in 0..5 {
        let before = count_sample_lines(&get_page(addr, &accept).await);
        let n = run.appender.batches().len();
        let batches = run.wait(|b| b.len() > n).await;
        let after = count_sample_lines(&get_page(addr, &accept).await);
        let b = &batches[n];
        assert_eq!(up(b), Some(1.0), "{b:#?}");
        if before != after {
            continue;
        }
        let scraped = report(b, "scrape_samples_scraped").unwrap() as usize;
        assert_eq!(
            scraped, before,
            "samples scraped vs sample lines on the page"
        );
        assert_eq!(
            report(b, "scrape_samples_post_metric_relabeling"),
            Some(before as f64)
        );
        let stale = b.series.iter().filter(|s| s.samples[0].is_stale()).count();
        assert_eq!(
            b.series.len() - stale,
            scraped + 5,
            "every sample is in the batch"
        );
        assert!(
            scraped > 100,
            "node exporter serves hundreds of samples: {scraped}"
        );
        checked += 1;
        break;
    }
    assert_eq!(checked, 1, "the page kept changing between fetches");
    run.stop().await;
}
