//! `prometheus.receive_http` → `prometheus.remote_write` → Debian's real
//! Prometheus, through the `smelter run` binary: the aggregator role end to
//! end, and the durability promise — a client answered 2xx never loses a
//! sample, even when smelter is SIGKILLed and restarted on the same storage.
//!
//! The client writes remote-write 1.0 requests of known series with known
//! values and timestamps; what arrived is read back through the receiver's
//! query API. Every wait is bounded.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::StatusCode;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

mod common;
use common::free_port;
use common::prometheus::{check_all_arrived, get, make_batch, now_ms, value, Prometheus};
use common::smelter::Smelter;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// POSTs `batch` as a remote-write request; the status, or `None` when
/// nothing answered (smelter down or killed mid-request).
async fn push(
    client: &HttpClient,
    port: u16,
    batch: &smelter_storage::Batch,
) -> Option<StatusCode> {
    let body = smelter_storage::remote_write::encode(batch).expect("encode");
    let req = hyper::Request::post(format!("http://127.0.0.1:{port}/api/v1/metrics/write"))
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "snappy")
        .header("x-prometheus-remote-write-version", "0.1.0")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    match tokio::time::timeout(Duration::from_secs(10), client.request(req)).await {
        Ok(Ok(resp)) => Some(resp.status()),
        _ => None,
    }
}

/// The pipeline's configuration: one receiver, one remote_write with an
/// endpoint per URL (named `e0`, `e1`, …), sending quickly in small requests
/// so several shards and requests are exercised.
fn config(receive_port: u16, urls: &[String]) -> String {
    let mut endpoints = String::new();
    for (i, url) in urls.iter().enumerate() {
        endpoints.push_str(&format!(
            r#"
	endpoint {{
		name = "e{i}"
		url  = "{url}"
		remote_timeout = "5s"
		queue_config {{
			max_samples_per_send = 500
			batch_send_deadline  = "50ms"
			min_backoff          = "20ms"
			max_backoff          = "500ms"
		}}
	}}
"#
        ));
    }
    format!(
        r#"prometheus.receive_http "in" {{
	http {{
		listen_address = "127.0.0.1"
		listen_port    = {receive_port}
	}}
	forward_to = [prometheus.remote_write.out.receiver]
}}

prometheus.remote_write "out" {{{endpoints}}}
"#
    )
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("config.alloy"), text).expect("config");
}

/// Waits until the receiver port answers (smelter's server is ready before
/// every component has bound its socket).
async fn wait_receiving(client: &HttpClient, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let empty = smelter_storage::Batch::default();
    while push(client, port, &empty).await.is_none() {
        assert!(Instant::now() < deadline, "receive_http did not listen");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_sample_reaches_two_endpoints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, pb) = (free_port(), free_port());
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("dir");
    }
    let prom_a = Prometheus::start(&dir.path().join("a"), pa, false).await;
    let prom_b = Prometheus::start(&dir.path().join("b"), pb, false).await;
    let receive_port = free_port();
    write_config(
        dir.path(),
        &config(receive_port, &[prom_a.write_url(), prom_b.write_url()]),
    );
    let mut smelter = Smelter::start(dir.path());
    smelter.wait_ready();
    let client = client();
    wait_receiving(&client, receive_port).await;

    let (k, series, per) = (50, 40, 5);
    let base = now_ms() - 1_200_000;
    for b in 0..k {
        let batch = make_batch("rwp_delivery", b, series, per, base);
        let status = push(&client, receive_port, &batch).await;
        assert_eq!(status, Some(StatusCode::NO_CONTENT), "request {b}");
    }
    let n = k * per;
    check_all_arrived(&prom_a, "rwp_delivery", series, n, now_ms()).await;
    check_all_arrived(&prom_b, "rwp_delivery", series, n, now_ms()).await;

    // The counters Prometheus' dashboards read, per endpoint.
    for (i, prom) in [&prom_a, &prom_b].into_iter().enumerate() {
        let line = format!(
            "prometheus_remote_storage_samples_total{{remote_name=\"e{i}\",url=\"{}\"}}",
            prom.write_url()
        );
        common::smelter::wait_until("the samples counter to settle", || {
            smelter.metric(&line) == Some((n * series) as f64)
        });
    }
    smelter.terminate();
}

/// What arrived at the receiver for metric `name`: series label → the
/// (timestamp, value) pairs stored.
async fn stored(prom: &Prometheus, name: &str) -> HashMap<String, HashSet<(i64, u64)>> {
    let url = format!(
        "{}/api/v1/query?query={name}%5B2h%5D&time={}",
        prom.base(),
        now_ms() as f64 / 1000.0
    );
    let (status, body) = get(&url).await.expect("query");
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let mut out: HashMap<String, HashSet<(i64, u64)>> = HashMap::new();
    for r in v["data"]["result"].as_array().expect("matrix") {
        let series = r["metric"]["series"].as_str().expect("series").to_string();
        let points = out.entry(series).or_default();
        for p in r["values"].as_array().expect("values") {
            let ts = (p[0].as_f64().expect("ts") * 1000.0).round() as i64;
            let v: f64 = p[1].as_str().expect("value").parse().expect("f64");
            points.insert((ts, v.to_bits()));
        }
    }
    out
}

/// Requests a writer sends at most: request `j` carries samples at `base + j s`,
/// and every one of them must lie in the past when the `[2h]` query at "now"
/// looks for it (with 1 s steps from 30 minutes ago, a fast machine that got
/// 1 864 requests through wrote into the future and the check failed).
const MAX_REQUESTS: usize = 4_000;

/// The timestamp of request 0: `MAX_REQUESTS` seconds and a margin before
/// now, well inside the queries' two hours.
fn history_base() -> i64 {
    now_ms() - (MAX_REQUESTS as i64 + 600) * 1000
}

/// A fixed pseudo-random sequence (xorshift), so a failing run can be
/// repeated with the same kill points.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_sample() {
    const KILLS: usize = 3;
    const SERIES: usize = 20;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("prom")).expect("dir");
    // A strict receiver (no out-of-order window): after a crash each shard
    // sends exactly its marked request again first, which the receiver has
    // all of or none of, so a refusal of known samples never takes new ones
    // with it.
    let prom = Prometheus::start(&dir.path().join("prom"), free_port(), false).await;
    let receive_port = free_port();
    write_config(dir.path(), &config(receive_port, &[prom.write_url()]));
    let client = client();
    let mut rng = Xorshift(0x5eed_1234_abcd_9876);

    let base = history_base();
    // Request j carries sample j of every series; acknowledged[j] says
    // whether smelter answered it 2xx.
    let mut acknowledged: Vec<bool> = Vec::new();
    for kill in 0..=KILLS {
        let mut smelter = Smelter::start(dir.path());
        smelter.wait_ready();
        wait_receiving(&client, receive_port).await;
        if kill == KILLS {
            // The last run: nothing more is written, the backlog drains.
            let want: usize = acknowledged.iter().filter(|a| **a).count();
            eprintln!("{want} acknowledged requests of {}", acknowledged.len());
            wait_all_acknowledged(&prom, "rwp_crash", &acknowledged, SERIES, base).await;
            smelter.terminate();
            return;
        }
        // Write for a while, then SIGKILL at a random moment while a
        // request may be in flight.
        let run_for = Duration::from_millis(200 + rng.below(1200));
        let started = Instant::now();
        let writer = {
            let client = client.clone();
            let first = acknowledged.len();
            tokio::spawn(async move {
                let mut results = Vec::new();
                loop {
                    let j = first + results.len();
                    if j >= MAX_REQUESTS {
                        return results;
                    }
                    let batch = make_batch("rwp_crash", j, SERIES, 1, base);
                    match push(&client, receive_port, &batch).await {
                        Some(s) if s.is_success() => results.push(true),
                        Some(s) => panic!("request {j}: unexpected {s}"),
                        None => {
                            results.push(false);
                            return results;
                        }
                    }
                }
            })
        };
        tokio::time::sleep(run_for.saturating_sub(started.elapsed())).await;
        smelter.signal(libc::SIGKILL);
        let results = writer.await.expect("writer");
        let _ = smelter.child.wait();
        eprintln!(
            "run {kill}: {} requests acknowledged before SIGKILL after {run_for:?}",
            results.iter().filter(|a| **a).count()
        );
        acknowledged.extend(results);
    }
}

/// Waits (bounded) until every sample of every acknowledged request is
/// stored with its value; then checks it exactly.
async fn wait_all_acknowledged(
    prom: &Prometheus,
    name: &str,
    acknowledged: &[bool],
    series: usize,
    base: i64,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = stored(prom, name).await;
        let mut missing = Vec::new();
        for (j, _) in acknowledged.iter().enumerate().filter(|(_, a)| **a) {
            for i in 0..series {
                let ts = base + j as i64 * 1000;
                let key = format!("{i:03}");
                let present = got
                    .get(&key)
                    .is_some_and(|p| p.contains(&(ts, value(i, j).to_bits())));
                if !present {
                    missing.push((i, j));
                }
            }
        }
        if missing.is_empty() {
            let labels: BTreeMap<_, _> = got.iter().map(|(k, v)| (k, v.len())).collect();
            eprintln!("stored per series: {labels:?}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} acknowledged samples missing, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_of_the_queue_settings_lose_nothing_in_order() {
    const SERIES: usize = 20;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("prom")).expect("dir");
    // Strict: no out-of-order window, so a sample re-sent out of order by a
    // queue swap would make the receiver refuse a whole request.
    let prom = Prometheus::start(&dir.path().join("prom"), free_port(), false).await;
    let receive_port = free_port();
    let cfg = |max_per_send: usize| {
        config(receive_port, &[prom.write_url()]).replace(
            "max_samples_per_send = 500",
            &format!("max_samples_per_send = {max_per_send}"),
        )
    };
    write_config(dir.path(), &cfg(500));
    let mut smelter = Smelter::start(dir.path());
    smelter.wait_ready();
    let client = client();
    wait_receiving(&client, receive_port).await;

    let base = history_base();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (client, stop) = (client.clone(), stop.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                let j = acknowledged.len();
                if j >= MAX_REQUESTS {
                    break;
                }
                let batch = make_batch("rwp_reload", j, SERIES, 1, base);
                let status = push(&client, receive_port, &batch).await;
                assert_eq!(status, Some(StatusCode::NO_CONTENT), "request {j}");
                acknowledged.push(true);
            }
            acknowledged
        })
    };
    for max_per_send in [300, 700, 45] {
        tokio::time::sleep(Duration::from_millis(400)).await;
        write_config(dir.path(), &cfg(max_per_send));
        let answer = common::smelter::request(smelter.port, "POST", "/-/reload");
        assert_eq!(answer.map(|(s, _)| s), Some(200), "reload");
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, std::sync::atomic::Ordering::Release);
    let acknowledged = writer.await.expect("writer");
    eprintln!(
        "{} requests acknowledged across 3 reloads",
        acknowledged.len()
    );
    wait_all_acknowledged(&prom, "rwp_reload", &acknowledged, SERIES, base).await;
    let (_, metrics) = common::smelter::get(smelter.port, "/metrics");
    let dropped: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("prometheus_remote_storage_samples_dropped_total"))
        .collect();
    assert!(dropped.is_empty(), "samples dropped: {dropped:?}");
    smelter.terminate();
}
