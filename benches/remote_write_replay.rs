//! Memory while a large backlog replays, and how fast it drains: the real
//! `smelter` binary (release) running `prometheus.receive_http` →
//! `prometheus.remote_write`, a client pushing remote-write requests into
//! it, and a decoding receiver in this process (`support/counting_receiver.rs`).
//!
//! 1. **steady**: the client pushes `RATE` samples/s for `STEADY_SECS`; the
//!    receiver is up. smelter's RSS is sampled every 50 ms (`/proc/<pid>/status`).
//! 2. **outage**: the receiver stops listening; the client pushes as fast as
//!    smelter acknowledges until `BACKLOG` samples are in the WAL.
//! 3. **crash**: smelter is SIGKILLed with the backlog on disk.
//! 4. **replay**: the receiver comes back, smelter starts again on the same
//!    storage, the client resumes the steady rate; RSS is sampled until the
//!    receiver has every acknowledged sample, then `AFTER_SECS` more.
//!
//! Printed: steady peak and mean RSS, replay peak RSS and its ratio to the
//! steady peak (goal ≤ 1.2), the ingest rate into the flushed WAL during the
//! outage, the drain rate and its ratio to the steady rate (goal ≥ 5×).
//!
//! A plain `harness = false` binary: one run takes minutes. Environment:
//! `RW_REPLAY_BACKLOG` (default 10 000 000 samples), `RW_REPLAY_RATE`
//! (100 000 samples/s), `RW_REPLAY_STEADY_SECS` (20), `RW_REPLAY_AFTER_SECS`
//! (10), `RW_REPLAY_MAX_SHARDS` (50, Alloy's default), `RW_REPLAY_PER_REQUEST`
//! (2 000 samples per client request = per WAL entry). Results and the
//! command: `benches/REMOTE_WRITE.md`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use smelter_storage::model::{Batch, Labels, Sample, Series};

#[path = "support/counting_receiver.rs"]
mod counting_receiver;
use counting_receiver::CountingReceiver;

// The tests' `smelter run` child process (it finds `free_port` below).
#[path = "../tests/common/smelter.rs"]
#[allow(dead_code)]
mod smelter;
use smelter::Smelter;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Series in the client's rotation.
const SERIES: usize = 10_000;
/// Series (= samples) per client request, unless `RW_REPLAY_PER_REQUEST`.
const DEFAULT_PER_REQUEST: u64 = 2_000;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Precomputed label sets shaped like node_exporter's (five labels).
fn labels() -> Vec<Labels> {
    (0..SERIES)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", format!("node_metric_{}", i % 100)),
                ("cpu", format!("{}", i % 16)),
                (
                    "instance",
                    format!("10.0.{}.{}:9100", i / 256 % 256, i % 256),
                ),
                ("job", "node".to_string()),
                (
                    "mode",
                    ["user", "system", "idle", "iowait"][i % 4].to_string(),
                ),
            ])
        })
        .collect()
}

/// Request `n` of the rotation: `per_request` consecutive series, one
/// sample each.
fn request_body(labels: &[Labels], per_request: usize, n: u64) -> Bytes {
    let ts = 1_700_000_000_000 + n as i64;
    let first = (n as usize * per_request) % SERIES;
    let batch = Batch {
        series: (0..per_request)
            .map(|k| {
                let l = labels[(first + k) % SERIES].clone();
                Series::new(l, vec![Sample::new(n as f64, ts)])
            })
            .collect(),
        metadata: vec![],
    };
    Bytes::from(smelter_storage::remote_write::encode(&batch).expect("encode"))
}

/// The client: pushes requests, counting the samples acknowledged 2xx.
#[derive(Clone)]
struct Pusher {
    client: HttpClient,
    url: String,
    labels: Arc<Vec<Labels>>,
    /// Series (= samples) per request.
    per_request: usize,
    next: Arc<AtomicU64>,
    acked: Arc<AtomicU64>,
}

impl Pusher {
    async fn push_one(&self) -> bool {
        let n = self.next.fetch_add(1, Ordering::AcqRel);
        let body = request_body(&self.labels, self.per_request, n);
        let req = hyper::Request::post(&self.url)
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "snappy")
            .body(Full::new(body))
            .expect("request");
        match self.client.request(req).await {
            Ok(resp) if resp.status().is_success() => {
                self.acked
                    .fetch_add(self.per_request as u64, Ordering::AcqRel);
                true
            }
            _ => false,
        }
    }

    /// Pushes at `rate` samples/s until `stop`.
    async fn steady(self, rate: u64, stop: Arc<AtomicBool>) {
        let every = Duration::from_secs_f64(self.per_request as f64 / rate as f64);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !stop.load(Ordering::Acquire) {
            tick.tick().await;
            self.push_one().await;
        }
    }
}

/// `prometheus_remote_storage_shards` of the one endpoint, if smelter answers.
fn shards_metric(port: u16) -> Option<f64> {
    let (_, body) = smelter::request(port, "GET", "/metrics")?;
    body.lines()
        .find(|l| l.starts_with("prometheus_remote_storage_shards{"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// Values of `probe`, taken every `period` on a thread of its own until
/// [`Sampler::finish`]; a probe that finds nothing is skipped.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<f64>>,
}

impl Sampler {
    fn start(period: Duration, mut probe: impl FnMut() -> Option<f64> + Send + 'static) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !s.load(Ordering::Acquire) {
                samples.extend(probe());
                std::thread::sleep(period);
            }
            samples
        });
        Sampler { stop, thread }
    }

    fn finish(self) -> Vec<f64> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap_or_default()
    }
}

/// smelter's RSS in MiB, every 50 ms.
fn rss_sampler(pid: u32) -> Sampler {
    Sampler::start(Duration::from_millis(50), move || {
        rss_kib(pid).map(|kib| kib as f64 / 1024.0)
    })
}

/// (peak, mean) of `samples` after the first `skip`.
fn peak_and_mean(samples: &[f64], skip: usize) -> (f64, f64) {
    let tail = &samples[skip.min(samples.len().saturating_sub(1))..];
    let peak = tail.iter().copied().fold(0.0, f64::max);
    let mean = tail.iter().sum::<f64>() / tail.len().max(1) as f64;
    (peak, mean)
}

/// A number field of `/proc/<pid>/status` (`VmRSS` in KiB, `Threads`).
fn status_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn rss_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmRSS")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

async fn wait_accepting(pusher: &Pusher) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pusher.push_one().await {
        assert!(Instant::now() < deadline, "smelter did not accept writes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_count(receiver: &CountingReceiver, at_least: u64, limit: Duration) -> Duration {
    let started = Instant::now();
    while receiver.count() < at_least {
        assert!(
            started.elapsed() < limit,
            "receiver has {} of {at_least} samples after {limit:?}",
            receiver.count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // gets a smoke run.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let backlog = env_or("RW_REPLAY_BACKLOG", if smoke { 20_000 } else { 10_000_000 });
    let rate = env_or("RW_REPLAY_RATE", 100_000);
    let steady_secs = env_or("RW_REPLAY_STEADY_SECS", if smoke { 1 } else { 20 });
    let after_secs = env_or("RW_REPLAY_AFTER_SECS", if smoke { 1 } else { 10 });
    let max_shards = env_or("RW_REPLAY_MAX_SHARDS", 50);
    if std::env::args().any(|a| a == "--list") {
        return;
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut receiver = CountingReceiver::start().await;
        let receive_port = free_port();
        std::fs::write(
            dir.path().join("config.alloy"),
            format!(
                r#"prometheus.receive_http "in" {{
	http {{
		listen_address = "127.0.0.1"
		listen_port    = {receive_port}
	}}
	forward_to = [prometheus.remote_write.out.receiver]
}}

prometheus.remote_write "out" {{
	endpoint {{
		name = "bench"
		url  = "http://{}/api/v1/write"
		queue_config {{
			max_shards = {max_shards}
		}}
	}}
}}
"#,
                receiver.addr
            ),
        )
        .expect("config");

        let pusher = Pusher {
            client: Client::builder(TokioExecutor::new()).build_http(),
            url: format!("http://127.0.0.1:{receive_port}/api/v1/metrics/write"),
            labels: Arc::new(labels()),
            per_request: env_or("RW_REPLAY_PER_REQUEST", DEFAULT_PER_REQUEST).max(1) as usize,
            next: Arc::new(AtomicU64::new(0)),
            acked: Arc::new(AtomicU64::new(0)),
        };

        // 1. steady
        let mut smelter = Smelter::start(dir.path());
        wait_accepting(&pusher).await;
        let rss = rss_sampler(smelter.child.id());
        let stop = Arc::new(AtomicBool::new(false));
        let steady = tokio::spawn(pusher.clone().steady(rate, stop.clone()));
        tokio::time::sleep(Duration::from_secs(steady_secs)).await;
        stop.store(true, Ordering::Release);
        let _ = steady.await;
        let acked = pusher.acked.load(Ordering::Acquire);
        wait_count(&receiver, acked, Duration::from_secs(60)).await;
        // Skip the first 2 s: start-up, not steady state.
        let (steady_peak, steady_mean) = peak_and_mean(&rss.finish(), 40);
        println!(
            "steady: {rate} samples/s for {steady_secs} s, {acked} samples delivered; RSS peak {steady_peak:.1} MiB, mean {steady_mean:.1} MiB"
        );

        // 2. outage: fill the WAL as fast as smelter acknowledges.
        receiver.stop();
        let before = pusher.acked.load(Ordering::Acquire);
        let started = Instant::now();
        let mut fillers = Vec::new();
        for _ in 0..4 {
            let p = pusher.clone();
            fillers.push(tokio::spawn(async move {
                while p.acked.load(Ordering::Acquire) - before < backlog {
                    p.push_one().await;
                }
            }));
        }
        for f in fillers {
            let _ = f.await;
        }
        let filled = pusher.acked.load(Ordering::Acquire) - before;
        let fill_time = started.elapsed();
        println!(
            "outage: {filled} samples acknowledged into the flushed WAL in {:.1} s ({:.0} samples/s); WAL dir {:.0} MiB",
            fill_time.as_secs_f64(),
            filled as f64 / fill_time.as_secs_f64(),
            dir_size(&dir.path().join("data")) as f64 / 1048576.0
        );

        // 3. crash with the backlog on disk.
        let _ = smelter.child.kill();
        let _ = smelter.child.wait();

        // 4. restart with the receiver still down: what opening the WAL with
        // the backlog costs on its own ...
        smelter = Smelter::start(dir.path());
        let rss = rss_sampler(smelter.child.id());
        wait_accepting(&pusher).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "restarted on the backlog, receiver still down: RSS {:.1} MiB",
            rss_kib(smelter.child.id()).unwrap_or(0) as f64 / 1024.0
        );
        // ... then replay while the steady load goes on.
        receiver.resume().await;
        let to_deliver = pusher.acked.load(Ordering::Acquire);
        let replay_started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let steady = tokio::spawn(pusher.clone().steady(rate, stop.clone()));
        let port = smelter.port;
        let shards = Sampler::start(Duration::from_millis(500), move || shards_metric(port));
        wait_count(&receiver, to_deliver, Duration::from_secs(1200)).await;
        let drain = replay_started.elapsed();
        let most_shards = shards.finish().into_iter().fold(0.0, f64::max);
        println!("shards during the drain: up to {most_shards}");
        tokio::time::sleep(Duration::from_secs(after_secs)).await;
        stop.store(true, Ordering::Release);
        let _ = steady.await;
        let acked = pusher.acked.load(Ordering::Acquire);
        wait_count(&receiver, acked, Duration::from_secs(120)).await;
        let threads = status_field(smelter.child.id(), "Threads").unwrap_or(0);
        let (replay_peak, replay_mean) = peak_and_mean(&rss.finish(), 0);
        println!("smelter threads after the replay: {threads}");
        let drain_rate = filled as f64 / drain.as_secs_f64();
        println!(
            "replay: {filled} backlog samples delivered {:.1} s after the restart ({drain_rate:.0} samples/s = {:.1}x the steady {rate}/s, while it kept arriving); RSS peak {replay_peak:.1} MiB, mean {replay_mean:.1} MiB",
            drain.as_secs_f64(),
            drain_rate / rate as f64
        );
        println!(
            "replay peak / steady peak = {:.2} (goal <= 1.2); received {} of {acked} acknowledged samples (more = re-delivered after the crash)",
            replay_peak / steady_peak.max(0.001),
            receiver.count()
        );
        let _ = smelter.child.kill();
        let _ = smelter.child.wait();
    });
}
