//! `smelter bench`: the report's counts are right (a collector that loses
//! nothing shows produced = received, 0 lost, 0 out of order), the
//! receiver's order check catches a shuffled stream, and a missing peer is a
//! clear error naming its package. Exact counts only, never timings.

use std::path::Path;
use std::process::Command;

use smelter::bench::order::{OrderChecker, OrderCounts};
use smelter::bench::receiver::Receiver;
use smelter::bench::series::series_labels;
use smelter_storage::remote_write::encode;
use smelter_storage::{Batch, Labels, Sample, Series};

const SERIES: u32 = 10;
const PER_SERIES: i64 = 100;

/// Every series' samples in order, series interleaved as a sender would.
fn ordered_stream() -> Vec<(Labels, Sample)> {
    let labels: Vec<Labels> = (0..SERIES).map(|s| series_labels(0, s, 0)).collect();
    let mut out = Vec::new();
    for t in 0..PER_SERIES {
        for l in &labels {
            out.push((l.clone(), Sample::new(t as f64, 1_000 + t * 1_000)));
        }
    }
    out
}

/// Swaps each series' samples pairwise (t1 t0 t3 t2 …): exactly half of
/// them arrive older than the series' newest.
fn shuffled_stream() -> Vec<(Labels, Sample)> {
    let mut s = ordered_stream();
    let step = SERIES as usize;
    let mut i = 0;
    while i + step < s.len() {
        for k in 0..step {
            s.swap(i + k, i + step + k);
        }
        i += 2 * step;
    }
    s
}

fn check(stream: &[(Labels, Sample)]) -> OrderCounts {
    let checker = OrderChecker::default();
    let mut counts = OrderCounts::default();
    for (labels, sample) in stream {
        counts.add(checker.observe(labels.stable_hash(), std::slice::from_ref(sample)));
    }
    assert_eq!(checker.series(), SERIES as usize);
    counts
}

#[test]
fn order_checker_passes_an_ordered_stream() {
    let counts = check(&ordered_stream());
    assert_eq!(
        counts,
        OrderCounts {
            in_order: u64::from(SERIES) * PER_SERIES as u64,
            duplicate: 0,
            out_of_order: 0,
        }
    );
}

#[test]
fn order_checker_catches_a_shuffled_stream() {
    let counts = check(&shuffled_stream());
    let half = u64::from(SERIES) * PER_SERIES as u64 / 2;
    assert_eq!(
        counts,
        OrderCounts {
            in_order: half,
            duplicate: 0,
            out_of_order: half,
        }
    );
}

#[test]
fn order_checker_counts_redelivery_as_duplicates() {
    let mut stream = ordered_stream();
    let again: Vec<_> = stream[stream.len() - 5..].to_vec();
    stream.extend(again);
    let counts = check(&stream);
    assert_eq!(counts.duplicate, 5);
    assert_eq!(counts.out_of_order, 0);
}

/// The receiver over real HTTP: a shuffled stream sent as remote-write
/// requests (protobuf + snappy) is decoded, counted, and its disorder found.
#[tokio::test]
async fn receiver_decodes_and_counts_a_shuffled_stream_over_http() {
    let receiver = Receiver::start().await.expect("receiver starts");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let stream = shuffled_stream();
    for chunk in stream.chunks(SERIES as usize) {
        let batch = Batch {
            series: chunk
                .iter()
                .map(|(l, s)| Series::new(l.clone(), vec![*s]))
                .collect(),
            metadata: Vec::new(),
        };
        let body = encode(&batch).expect("encodes");
        let req = hyper::Request::post(receiver.url())
            .header("Content-Encoding", "snappy")
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .expect("request");
        let response = client.request(req).await.expect("receiver answers");
        assert_eq!(response.status(), hyper::StatusCode::NO_CONTENT);
    }
    let snap = receiver.snapshot();
    assert_eq!(snap.requests, PER_SERIES as u64);
    assert_eq!(snap.samples, u64::from(SERIES) * PER_SERIES as u64);
    assert_eq!(snap.out_of_order, u64::from(SERIES) * PER_SERIES as u64 / 2);
    assert_eq!(snap.duplicates, 0);
}

fn bench(args: &[&str], out: &Path, path_env: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smelter"));
    cmd.arg("bench")
        .args(args)
        .arg("--output")
        .arg(out)
        .args(["--progress", "quiet"]);
    if let Some(p) = path_env {
        cmd.env("PATH", p);
    }
    cmd.output().expect("smelter runs")
}

#[test]
fn missing_peer_names_its_package() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty-path");
    std::fs::create_dir(&empty).expect("mkdir");
    let out = bench(
        &["--no-smelter", "--peer", "vmagent"],
        &dir.path().join("out"),
        empty.to_str(),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("apt-get install -y victoria-metrics"),
        "stderr: {stderr}"
    );
}

/// A tiny real run of smelter and Prometheus in agent mode, neither of
/// which loses anything in `steady`: every sample the targets served
/// reaches the receiver once, in order, and the report files are written.
#[test]
fn tiny_steady_run_delivers_every_sample_produced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    // Prometheus hands targets to its scrape loops up to 5 s after start,
    // so the warm-up covers that; the window then holds a few scrapes.
    let out = bench(
        &[
            "--peer",
            "prometheus-agent",
            "--targets",
            "2",
            "--series",
            "50",
            "--churn",
            "0",
            "--interval",
            "1s",
            "--warmup",
            "6s",
            "--duration",
            "3s",
            "--rounds",
            "1",
        ],
        &out_dir,
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("| steady | smelter |"), "{stdout}");
    assert!(stdout.contains("| steady | prometheus-agent |"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("report.json")).expect("report.json"),
    )
    .expect("valid JSON");
    let runs = report["runs"].as_array().expect("runs");
    let collectors: Vec<&str> = runs
        .iter()
        .map(|r| r["collector"].as_str().expect("collector"))
        .collect();
    assert_eq!(collectors, ["smelter", "prometheus-agent"]);
    for (i, run) in runs.iter().enumerate() {
        let produced = run["produced"].as_u64().expect("produced");
        let who = collectors[i];
        assert!(
            produced > 0 && produced.is_multiple_of(50),
            "{who}: produced {produced}"
        );
        assert_eq!(run["received"].as_u64(), Some(produced), "{who}");
        assert_eq!(run["lost"].as_i64(), Some(0), "{who}");
        assert_eq!(run["out_of_order"].as_u64(), Some(0), "{who}");
        assert_eq!(run["duplicates"].as_u64(), Some(0), "{who}");
        assert_eq!(
            report["summary"][i]["produced"].as_u64(),
            Some(produced),
            "{who}"
        );
    }
    assert!(out_dir.join("steady.svg").is_file());
}
