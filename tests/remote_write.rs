//! The remote-write queue against Debian's real Prometheus 2.42 (a strict
//! remote-write receiver) and against a fake receiver for the answers no
//! real Prometheus gives (429, slow, 400 on demand).
//!
//! The real receiver and the test series live in `common/prometheus.rs`;
//! every wait is bounded.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use smelter::components::prometheus::remote_write::{EndpointConfig, Queue, QueueOptions};
use smelter_storage::model::Labels;
use smelter_storage::wal::Wal;

mod common;
use common::prometheus::{check_all_arrived, free_port, make_batch, now_ms, wait_for, Prometheus};

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

fn endpoint(name: &str, url: &str, max_per_send: usize) -> EndpointConfig {
    let mut cfg = EndpointConfig::new(name, url).expect("endpoint");
    cfg.queue.max_samples_per_send = max_per_send;
    cfg.queue.batch_send_deadline = Duration::from_millis(50);
    cfg.queue.max_backoff = Duration::from_millis(500);
    cfg.remote_timeout = Duration::from_secs(5);
    cfg
}

// ---------------------------------------------------------------------------
// delivery to two real receivers over several shards
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_every_sample_to_two_endpoints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, pb) = (free_port(), free_port());
    std::fs::create_dir_all(dir.path().join("a")).expect("dir");
    std::fs::create_dir_all(dir.path().join("b")).expect("dir");
    let prom_a = Prometheus::start(&dir.path().join("a"), pa, false).await;
    let prom_b = Prometheus::start(&dir.path().join("b"), pb, false).await;

    let wal = Wal::open(dir.path().join("wal")).expect("wal");
    let qa = Queue::open(
        &wal,
        endpoint("delivery-a", &prom_a.write_url(), 500),
        QueueOptions::default(),
    )
    .expect("queue a");
    let qb = Queue::open(
        &wal,
        endpoint("delivery-b", &prom_b.write_url(), 700),
        QueueOptions::default(),
    )
    .expect("queue b");
    assert_eq!(qa.positions().len(), 4, "several shards");

    let (k, series, per) = (60, 40, 10);
    let base = now_ms() - 1_200_000;
    let started = Instant::now();
    for b in 0..k {
        let batch = make_batch("rw_delivery", b, series, per, base);
        let (a, bb) = (
            qa.append(batch.clone()).expect("append"),
            qb.append(batch).expect("append"),
        );
        a.await.expect("ack a");
        bb.await.expect("ack b");
    }
    let total = (k * series * per) as u64;
    wait_for("delivery", Duration::from_secs(60), || {
        qa.metrics().samples_total() == total && qb.metrics().samples_total() == total
    })
    .await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "delivery: {total} samples × 2 endpoints in {secs:.2} s ({:.0} samples/s per endpoint)",
        total as f64 / secs
    );
    let at = base + (k * per) as i64 * 1000 + 60_000;
    check_all_arrived(&prom_a, "rw_delivery", series, k * per, at).await;
    check_all_arrived(&prom_b, "rw_delivery", series, k * per, at).await;
    assert_eq!(qa.metrics().failed_total(), 0);
    assert_eq!(qb.metrics().failed_total(), 0);
    // Delivered entries are truncated from the WAL.
    wait_for("truncation", Duration::from_secs(10), || {
        qa.backlog_samples().unwrap_or(1) == 0 && qb.backlog_samples().unwrap_or(1) == 0
    })
    .await;
    qa.close().await.expect("close");
    qb.close().await.expect("close");
}

// ---------------------------------------------------------------------------
// outage of a strict receiver (no out-of-order window): order per series
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_receiver_outage_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let pdir = dir.path().join("prom");
    std::fs::create_dir_all(&pdir).expect("dir");
    let mut prom = Prometheus::start(&pdir, port, false).await;

    let wal = Wal::open(dir.path().join("wal")).expect("wal");
    let q = Arc::new(
        Queue::open(
            &wal,
            endpoint("outage", &prom.write_url(), 1000),
            QueueOptions::default(),
        )
        .expect("queue"),
    );
    let (series, per) = (50, 2);
    let base = now_ms() - 1_800_000;
    let appended = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producer = {
        let (q, appended, stop) = (q.clone(), appended.clone(), stop.clone());
        tokio::spawn(async move {
            let mut b = 0;
            while !stop.load(Ordering::Relaxed) {
                let ack = q
                    .append(make_batch("rw_outage", b, series, per, base))
                    .expect("append");
                ack.await.expect("ack");
                b += 1;
                appended.store(b, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            b
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    prom.stop();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let sent_before_restart = q.metrics().samples_total();
    let backlog = q.backlog_samples().expect("backlog");
    let appended_at_restart = (appended.load(Ordering::Relaxed) * series * per) as u64;
    let down_for = down.elapsed().as_secs_f64();
    prom.spawn().await;
    let up = Instant::now();
    wait_for("backlog drain", Duration::from_secs(120), || {
        q.metrics().samples_total() >= appended_at_restart
    })
    .await;
    let drain = up.elapsed().as_secs_f64();
    println!(
        "outage: receiver down {down_for:.1} s; backlog {backlog} samples in the WAL \
         ({} unsent) drained in {drain:.2} s after the receiver was ready: {:.0} samples/s \
         (while the producer kept appending)",
        appended_at_restart - sent_before_restart,
        (appended_at_restart - sent_before_restart) as f64 / drain
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let batches = producer.await.expect("producer");
    let total = (batches * series * per) as u64;
    let drain_start = Instant::now();
    wait_for("backlog drain", Duration::from_secs(120), || {
        q.metrics().samples_total() >= total
    })
    .await;
    let drained = total - sent_before_restart;
    println!(
        "outage: {total} samples appended in {batches} batches, {drained} of them sent after \
         the restart; the rest delivered {:.2} s after the producer stopped",
        drain_start.elapsed().as_secs_f64()
    );
    assert_eq!(
        q.metrics().samples_total(),
        total,
        "exactly once without kills"
    );
    assert_eq!(
        q.metrics().failed_total(),
        0,
        "a 400 (out of order) means loss"
    );
    let at = base + (batches * per) as i64 * 1000 + 60_000;
    check_all_arrived(&prom, "rw_outage", series, batches * per, at).await;
    let q = Arc::try_unwrap(q).expect("sole owner");
    q.close().await.expect("close");
}

// ---------------------------------------------------------------------------
// crash of the sender mid-send, restart on the same WAL
// ---------------------------------------------------------------------------

/// Opens the WAL in `dir` again after an abort: the aborted sender's last
/// blocking WAL call may still hold the database for a moment, so opening
/// retries, bounded.
async fn reopen_wal(dir: &std::path::Path) -> Wal {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Wal::open(dir) {
            Ok(w) => return w,
            Err(e) => {
                assert!(Instant::now() < deadline, "reopen: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// If the check of `resumes_after_a_crash_mid_send` fails, whether the queue
/// dropped samples on the way, and why (`SHOW_DROPS=1` prints it on success
/// too). It once failed in ~30 runs with one whole entry missing from every
/// shard: the reader skipped an entry that reached the hot tail between two
/// of its look-ups (fixed in `remote_write/tail.rs`, `take_or_next_held`).
struct ShowDropsOnFailure<'a>(&'a Queue);

impl Drop for ShowDropsOnFailure<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("SHOW_DROPS").is_some() {
            let m = self.0.metrics();
            println!(
                "queue: sent {}, already delivered {}, failed {}, dropped http_400 {} ttl {} too_old {} wal_size_cap {}, positions {:?}",
                m.samples_total(),
                m.already_delivered_total(),
                m.failed_total(),
                m.dropped_total("http_400"),
                m.dropped_total("ttl"),
                m.dropped_total("too_old"),
                m.dropped_total("wal_size_cap"),
                self.0.positions(),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_a_crash_mid_send() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let pdir = dir.path().join("prom");
    std::fs::create_dir_all(&pdir).expect("dir");
    // Strict: no out-of-order window, so a re-sent sample the receiver has
    // newer ones of is refused, with its whole request.
    let prom = Prometheus::start(&pdir, port, false).await;
    let wal_dir = dir.path().join("wal");
    let (k, series, per) = (200, 20, 5);
    let base = now_ms() - 1_800_000;

    let mut cfg = endpoint("crash", &prom.write_url(), 100);
    cfg.queue.batch_send_deadline = Duration::from_millis(20);
    {
        let wal = Wal::open(&wal_dir).expect("wal");
        let q = Queue::open(&wal, cfg.clone(), QueueOptions::default()).expect("queue");
        // Appended together: one group commit acknowledges them all, and
        // the abort comes while the shards are still sending.
        let acks: Vec<_> = (0..k / 2)
            .map(|b| {
                q.append(make_batch("rw_crash", b, series, per, base))
                    .expect("append")
            })
            .collect();
        for ack in acks {
            ack.await.expect("ack");
        }
        wait_for("some sending", Duration::from_secs(30), || {
            q.metrics().samples_total() > 0
        })
        .await;
        let sent = q.metrics().samples_total();
        println!(
            "crash: aborted after {sent} of {} acked samples were sent",
            k / 2 * series * per
        );
        q.abort().await;
    }
    let wal = reopen_wal(&wal_dir).await;
    let q = Queue::open(&wal, cfg, QueueOptions::default()).expect("reopen");
    let before = q.metrics().samples_total();
    let backlog = q.backlog_samples().expect("backlog");
    println!("crash: reopened with {backlog} samples in the WAL backlog");
    println!("crash: resuming from positions {:?}", q.positions());
    for b in k / 2..k {
        q.append(make_batch("rw_crash", b, series, per, base))
            .expect("append")
            .await
            .expect("ack");
    }
    let at = base + (k * per) as i64 * 1000 + 60_000;
    let _show = ShowDropsOnFailure(&q);
    check_all_arrived(&prom, "rw_crash", series, k * per, at).await;
    let total = (k * series * per) as u64;
    let m = q.metrics();
    println!(
        "crash: all {total} acked samples arrived; counted sends {}, sent again and already there {}",
        m.samples_total(),
        m.already_delivered_total(),
    );
    assert!(m.samples_total() >= before);
    // Re-delivery never mixes samples the receiver has with new ones.
    assert_eq!(m.dropped_total("http_400"), 0);
    q.close().await.expect("close");
}

/// An append acknowledged by a queue that goes away before a flush covers
/// it (an abort right after the append) still becomes durable: the `Ack`
/// flushes the WAL itself, and the sink acknowledges its producers only
/// then. Whichever happened first here — the queue's flush or the abort —
/// `durable` resolves and the batch is in the WAL after a reopen.
#[tokio::test]
async fn an_ack_outliving_its_queue_makes_its_batch_durable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wal_dir = dir.path().join("wal");
    // Nothing listens on port 9 of loopback: nothing is delivered.
    let cfg = endpoint("orphan", "http://127.0.0.1:9/api/v1/write", 100);
    {
        let wal = Wal::open(&wal_dir).expect("wal");
        let q = Queue::open(&wal, cfg.clone(), QueueOptions::default()).expect("queue");
        let ack = q
            .append(make_batch("rw_orphan", 0, 2, 5, now_ms()))
            .expect("append");
        q.abort().await;
        drop(q);
        tokio::time::timeout(Duration::from_secs(10), ack.durable("test"))
            .await
            .expect("durable resolves");
    }
    let wal = reopen_wal(&wal_dir).await;
    let q = Queue::open(&wal, cfg, QueueOptions::default()).expect("reopen");
    assert_eq!(q.backlog_samples().expect("backlog"), 10);
    q.abort().await;
}

// ---------------------------------------------------------------------------
// a fake receiver: 500, 429, slow, then OK; and one that answers 400
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Fake {
    requests: AtomicUsize,
    /// (labels, timestamp) → value of every accepted sample.
    got: Mutex<HashMap<(Labels, i64), f64>>,
    /// Per series, the timestamps in arrival order (order check).
    order: Mutex<HashMap<Labels, Vec<i64>>>,
}

async fn fake_handle(
    fake: Arc<Fake>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let ok_headers = req.headers().get("content-encoding").map(|v| v.as_bytes()) == Some(b"snappy")
        && req
            .headers()
            .get("x-prometheus-remote-write-version")
            .map(|v| v.as_bytes())
            == Some(b"0.1.0")
        && req
            .headers()
            .get("user-agent")
            .is_some_and(|v| v.as_bytes().starts_with(b"smelter/"));
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let reply = |status: StatusCode, extra: Option<(&str, &str)>| {
        let mut r = Response::builder().status(status);
        if let Some((k, v)) = extra {
            r = r.header(k, v);
        }
        Ok(r.body(Full::new(Bytes::from_static(b"fake says no")))
            .expect("response"))
    };
    if !ok_headers {
        return reply(StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
    }
    let Ok(body) = body else {
        return reply(StatusCode::BAD_REQUEST, None);
    };
    if path == "/reject" {
        return reply(StatusCode::BAD_REQUEST, None);
    }
    let n = fake.requests.fetch_add(1, Ordering::SeqCst);
    match n {
        0 | 1 => return reply(StatusCode::INTERNAL_SERVER_ERROR, None),
        2 | 3 => return reply(StatusCode::TOO_MANY_REQUESTS, Some(("retry-after", "1"))),
        4 => {
            // Slower than remote_timeout: the sender gives up and retries.
            tokio::time::sleep(Duration::from_secs(3)).await;
            return reply(StatusCode::SERVICE_UNAVAILABLE, None);
        }
        _ => {}
    }
    let Ok(batch) = smelter_storage::remote_write::decode(&body, 32 << 20) else {
        return reply(StatusCode::BAD_REQUEST, None);
    };
    let mut got = fake.got.lock().expect("lock");
    let mut order = fake.order.lock().expect("lock");
    for s in batch.series {
        for x in &s.samples {
            got.insert((s.labels.clone(), x.timestamp_ms), x.value);
            order
                .entry(s.labels.clone())
                .or_default()
                .push(x.timestamp_ms);
        }
    }
    reply(StatusCode::NO_CONTENT, None)
}

async fn start_fake(fake: Arc<Fake>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let fake = fake.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| fake_handle(fake.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_500_429_and_slow_answers_and_drops_400() {
    let fake = Arc::new(Fake::default());
    let addr = start_fake(fake.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let wal = Wal::open(dir.path()).expect("wal");

    let mut cfg = endpoint("fake-flaky", &format!("http://{addr}/flaky"), 300);
    cfg.remote_timeout = Duration::from_secs(1);
    cfg.queue.min_backoff = Duration::from_millis(30);
    let q = Queue::open(&wal, cfg, QueueOptions::default()).expect("queue");
    let reject = Queue::open(
        &wal,
        endpoint("fake-reject", &format!("http://{addr}/reject"), 300),
        QueueOptions::default(),
    )
    .expect("queue");

    let (k, series, per) = (20, 10, 10);
    let base = now_ms() - 600_000;
    for b in 0..k {
        let batch = make_batch("rw_fake", b, series, per, base);
        reject
            .append(batch.clone())
            .expect("append")
            .await
            .expect("ack");
        q.append(batch).expect("append").await.expect("ack");
    }
    let total = (k * series * per) as u64;
    wait_for("fake delivery", Duration::from_secs(60), || {
        q.metrics().samples_total() == total
    })
    .await;
    wait_for("400 drops", Duration::from_secs(30), || {
        reject.metrics().dropped_total("http_400") == total
    })
    .await;
    let got = fake.got.lock().expect("lock").clone();
    assert_eq!(got.len() as u64, total, "every sample arrived");
    for b in 0..k {
        for s in make_batch("rw_fake", b, series, per, base).series {
            for x in s.samples {
                assert_eq!(got.get(&(s.labels.clone(), x.timestamp_ms)), Some(&x.value));
            }
        }
    }
    for (labels, ts) in fake.order.lock().expect("lock").iter() {
        assert!(ts.windows(2).all(|w| w[0] < w[1]), "order of {labels}");
    }
    assert!(q.metrics().retried_total() > 0, "500/429/slow were retried");
    assert_eq!(q.metrics().failed_total(), 0);
    assert_eq!(reject.metrics().samples_total(), 0);
    assert_eq!(reject.metrics().failed_total(), total);
    println!(
        "fake: {} requests, {} samples retried, {total} dropped on 400",
        fake.requests.load(Ordering::SeqCst),
        q.metrics().retried_total()
    );
    q.close().await.expect("close");
    reject.close().await.expect("close");
}

// ---------------------------------------------------------------------------
// TTL and the WAL size cap drop and count
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_and_size_cap_drop_and_count() {
    let fake = Arc::new(Fake::default());
    // Skip the fake's failure script.
    fake.requests.store(100, Ordering::SeqCst);
    let dir = tempfile::tempdir().expect("tempdir");
    let wal = Wal::open(dir.path()).expect("wal");
    // A receiver that never answers: the backlog only grows.
    let dead = free_port();
    let q = Queue::open(
        &wal,
        endpoint("capped", &format!("http://127.0.0.1:{dead}/w"), 100),
        QueueOptions {
            ttl: Duration::from_secs(3600),
            max_wal_size: Some(20_000),
        },
    )
    .expect("queue");
    let old = now_ms() - 2 * 3600 * 1000;
    let mut batch = make_batch("rw_ttl", 0, 5, 4, old);
    batch
        .series
        .extend(make_batch("rw_ttl_new", 0, 5, 4, now_ms() - 1000).series);
    q.append(batch).expect("append").await.expect("ack");
    assert_eq!(q.metrics().dropped_total("ttl"), 20);
    for b in 1..200 {
        q.append(make_batch("rw_cap", b, 20, 5, now_ms() - 1000 + b as i64))
            .expect("append")
            .await
            .expect("ack");
    }
    wait_for("size cap", Duration::from_secs(10), || {
        q.metrics().dropped_total("wal_size_cap") > 0
    })
    .await;
    println!(
        "cap: dropped {} samples over max_wal_size, backlog {} samples",
        q.metrics().dropped_total("wal_size_cap"),
        q.backlog_samples().expect("backlog")
    );
    q.close().await.expect("close");
    drop(fake);
}

/// A sink over two endpoints with a `ttl`: each endpoint counts the samples
/// it dropped (the batch is shared between them until one changes it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_counts_its_own_ttl_drops() {
    use smelter::component::{DataPlaneBatch, Health};
    use smelter::components::prometheus::remote_write::WalSink;
    use smelter_dataflows::Sink;

    let dir = tempfile::tempdir().expect("tempdir");
    let wal = Wal::open(dir.path()).expect("wal");
    let dead = free_port();
    let opts = QueueOptions {
        ttl: Duration::from_secs(3600),
        max_wal_size: None,
    };
    let queues: Vec<Arc<Queue>> = ["a", "b"]
        .iter()
        .map(|name| {
            let url = format!("http://127.0.0.1:{dead}/w");
            Arc::new(Queue::open(&wal, endpoint(name, &url, 100), opts).expect("queue"))
        })
        .collect();
    let sink = WalSink::new(
        "prometheus.remote_write.t",
        queues.clone(),
        tokio::runtime::Handle::current(),
        Health::default(),
    );
    let old = now_ms() - 2 * 3600 * 1000;
    let mut batch = make_batch("rw_ttl", 0, 5, 4, old);
    batch
        .series
        .extend(make_batch("rw_ttl_new", 0, 5, 4, now_ms() - 1000).series);
    tokio::task::spawn_blocking(move || sink.write(0, 1, DataPlaneBatch::Decoded(batch)))
        .await
        .expect("write");
    for q in &queues {
        assert_eq!(q.metrics().dropped_total("ttl"), 20, "{}", q.config().name);
        assert_eq!(q.backlog_samples().expect("backlog"), 20);
        q.close().await.expect("close");
    }
}

/// A batch that reaches a sink whose component is being removed is stored
/// nowhere: it is counted, not dropped silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reaching_a_removed_sink_is_counted() {
    use smelter::component::{DataPlaneBatch, Health};
    use smelter::components::prometheus::remote_write::{metrics, WalSink};
    use smelter_dataflows::Sink;

    let dir = tempfile::tempdir().expect("tempdir");
    let wal = Wal::open(dir.path()).expect("wal");
    let url = format!("http://127.0.0.1:{}/w", free_port());
    let q = Arc::new(
        Queue::open(&wal, endpoint("gone", &url, 100), QueueOptions::default()).expect("queue"),
    );
    let id = "prometheus.remote_write.removed_in_test";
    let sink = WalSink::new(
        id,
        vec![q],
        tokio::runtime::Handle::current(),
        Health::default(),
    );
    for q in sink.shut() {
        q.close().await.expect("close");
    }
    let batch = make_batch("rw_removed", 0, 3, 4, now_ms());
    tokio::task::spawn_blocking(move || sink.write(0, 1, DataPlaneBatch::Decoded(batch)))
        .await
        .expect("write");
    assert_eq!(metrics::dropped_in_removal_total(id), 12);
}

// ---------------------------------------------------------------------------
// shard scaling with the backlog
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reshards_while_behind_without_loss_or_reordering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdir = dir.path().join("prom");
    std::fs::create_dir_all(&pdir).expect("dir");
    // Strict receiver: a sample sent twice or out of order across a
    // resharding makes it refuse a whole request (counted as http_400).
    let prom = Prometheus::start(&pdir, free_port(), false).await;
    let wal = Wal::open(dir.path().join("wal")).expect("wal");
    let mut cfg = endpoint("reshard", &prom.write_url(), 25);
    cfg.queue.reshard_interval = Duration::from_millis(100);
    cfg.queue.max_shards = 16;
    let q = Queue::open(&wal, cfg, QueueOptions::default()).expect("queue");
    assert_eq!(q.metrics().shards_now(), 4);

    // A backlog far above 4 requests per shard, appended at once.
    let (k, series, per) = (100, 40, 10);
    let base = now_ms() - 1_800_000;
    let mut acks = Vec::new();
    for b in 0..k {
        acks.push(
            q.append(make_batch("rw_reshard", b, series, per, base))
                .expect("append"),
        );
    }
    for a in acks {
        a.await.expect("ack");
    }
    let mut most = 4;
    let total = (k * series * per) as u64;
    wait_for("the backlog to drain", Duration::from_secs(120), || {
        most = most.max(q.metrics().shards_now());
        q.metrics().samples_total() >= total
    })
    .await;
    println!("{total} samples drained; shards went up to {most}");
    assert!(most > 4, "the shard count never grew (max {most})");
    check_all_arrived(&prom, "rw_reshard", series, k * per, now_ms()).await;
    assert_eq!(q.metrics().dropped_total("http_400"), 0);
    // Caught up: back to the configured count.
    wait_for(
        "the shard count to come back",
        Duration::from_secs(30),
        || q.metrics().shards_now() == 4,
    )
    .await;
    q.close().await.expect("close");
}
