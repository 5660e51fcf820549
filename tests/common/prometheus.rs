//! A real Prometheus (Debian's 2.42, `/usr/bin/prometheus`) as remote-write
//! receiver on a free 127.0.0.1 port, and the test series the remote-write
//! tests send it: known labels, values exact in f64, timestamps 1 s apart,
//! checked back through the receiver's query API.
//!
//! Every Prometheus runs with its own tempdir and is stopped at the end
//! (also on panic, by `Drop`); every wait is bounded.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::StatusCode;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use smelter_storage::model::{Batch, Labels, Sample, Series};

#[allow(unused_imports)]
pub use super::free_port;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// A real Prometheus acting as remote-write receiver.
pub struct Prometheus {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    ooo: bool,
}

impl Prometheus {
    pub async fn start(dir: &Path, port: u16, ooo: bool) -> Prometheus {
        let mut p = Prometheus {
            child: None,
            port,
            dir: dir.to_owned(),
            ooo,
        };
        p.spawn().await;
        p
    }

    pub async fn spawn(&mut self) {
        let config = self.dir.join("prometheus.yml");
        let yaml = if self.ooo {
            "storage:\n  tsdb:\n    out_of_order_time_window: 2h\n"
        } else {
            "global:\n  scrape_interval: 1m\n"
        };
        std::fs::write(&config, yaml).expect("config");
        let log = std::fs::File::create(self.dir.join("prometheus.log")).expect("log");
        let child = Command::new("/usr/bin/prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg("--web.enable-remote-write-receiver")
            .arg(format!(
                "--storage.tsdb.path={}",
                self.dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start /usr/bin/prometheus");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((StatusCode::OK, _)) = get(&format!("{}/-/ready", self.base())).await {
                return;
            }
            assert!(Instant::now() < deadline, "prometheus did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn write_url(&self) -> String {
        format!("{}/api/v1/write", self.base())
    }

    /// SIGTERM and wait (bounded), SIGKILL if it lingers.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: plain kill(2) on our own child's pid.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `query` evaluated at `at_ms`: label set (as map) → value.
    pub async fn query(&self, query: &str, at_ms: i64) -> HashMap<BTreeMap<String, String>, f64> {
        let url = format!(
            "{}/api/v1/query?query={}&time={}",
            self.base(),
            percent_encoding::utf8_percent_encode(query, percent_encoding::NON_ALPHANUMERIC),
            at_ms as f64 / 1000.0
        );
        let (status, body) = get(&url).await.expect("query");
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let mut out = HashMap::new();
        for r in v["data"]["result"].as_array().expect("vector") {
            let mut labels: BTreeMap<String, String> =
                serde_json::from_value(r["metric"].clone()).expect("metric");
            // Some functions keep the metric name, others drop it.
            labels.remove("__name__");
            let value: f64 = r["value"][1].as_str().expect("value").parse().expect("f64");
            out.insert(labels, value);
        }
        out
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

pub async fn get(url: &str) -> Result<(StatusCode, Bytes), String> {
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let resp = tokio::time::timeout(
        Duration::from_secs(10),
        client.get(url.parse().map_err(|e| format!("{e}"))?),
    )
    .await
    .map_err(|_| "timeout".to_string())?
    .map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

/// The labels of test series `i` of metric `name`.
pub fn series_labels(name: &str, i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", name.to_string()),
        ("job", "rwtest".to_string()),
        ("series", format!("{i:03}")),
    ])
}

/// Value of sample `j` of series `i`: exact in f64, distinct per sample.
pub fn value(i: usize, j: usize) -> f64 {
    (i * 1_000_000 + j) as f64
}

/// Batch `b` of `series` series × `per` samples each, 1 s apart, starting
/// at `base_ms`: sample `j = b * per + k` of series `i` at `base + j s`.
pub fn make_batch(name: &str, b: usize, series: usize, per: usize, base_ms: i64) -> Batch {
    Batch {
        series: (0..series)
            .map(|i| {
                Series::new(
                    series_labels(name, i),
                    (0..per)
                        .map(|k| {
                            let j = b * per + k;
                            Sample::new(value(i, j), base_ms + j as i64 * 1000)
                        })
                        .collect(),
                )
            })
            .collect(),
        metadata: vec![],
    }
}

pub async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks through the receiver's query API that every series of `name` has
/// exactly `n` samples and the expected values (sum and last value).
pub async fn check_all_arrived(prom: &Prometheus, name: &str, series: usize, n: usize, at_ms: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counts = prom
            .query(&format!("count_over_time({name}[1h])"), at_ms)
            .await;
        let complete = counts.len() == series && counts.values().all(|c| *c == n as f64);
        if complete {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: expected {series} series × {n} samples, got {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sums = prom
        .query(&format!("sum_over_time({name}[1h])"), at_ms)
        .await;
    let lasts = prom
        .query(&format!("last_over_time({name}[1h])"), at_ms)
        .await;
    for i in 0..series {
        let key: BTreeMap<String, String> = series_labels(name, i)
            .iter()
            .filter(|(k, _)| *k != "__name__")
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let want_sum: f64 = (0..n).map(|j| value(i, j)).sum();
        assert_eq!(sums.get(&key), Some(&want_sum), "sum of series {i}");
        assert_eq!(
            lasts.get(&key),
            Some(&value(i, n - 1)),
            "last of series {i}"
        );
    }
}
