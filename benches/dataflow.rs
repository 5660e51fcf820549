//! Dataflow throughput: real remote-write requests (protobuf + snappy,
//! encoded with `smelter_storage::remote_write`) posted over loopback HTTP
//! to `prometheus.receive_http`, through `prometheus.relabel` (the 10-rule
//! chain of `benches/relabel.rs`) to a sink that counts samples, on 1 and 2
//! timely workers — the graph the runtime builds for
//! `receive_http → relabel → sink` (`src/controller/runtime/data_plane.rs`:
//! one source, one processor, spread edges).
//!
//! Not a criterion bench: one run is a whole pipeline with its own threads.
//! `cargo bench --bench dataflow -- [--workers N] [--rounds R]`; results
//! and commands in `benches/DATAFLOW.md`. A receiver answers a request once
//! the sink acknowledged its epoch, so clients keep `CONCURRENCY` requests
//! in flight, as a Prometheus agent's shards do.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/relabel_chain.rs"]
mod relabel_chain;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use smelter::component::{
    receiver_export, registry, BatchProcessor, Build, BuildContext, DataPlaneBatch, DataPlaneLink,
    Exports, Health, RunContext,
};
use smelter::components::prometheus::relabel;
use smelter::syntax::Value;
use smelter_dataflows::{DataPlane, Epoch, Graph, NodeId};
use smelter_storage::{Batch, Labels, Sample, Series};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Series per request (Prometheus' default `max_samples_per_send` is 2000).
const PER_REQUEST: usize = 2_000;
const CONCURRENCY: usize = 8;

struct CountingSink {
    samples: Arc<AtomicU64>,
}

impl smelter_dataflows::Sink<DataPlaneBatch> for CountingSink {
    fn write(&self, _worker: usize, _epoch: Epoch, batch: DataPlaneBatch) {
        self.samples
            .fetch_add(batch.sample_count() as u64, Ordering::Relaxed);
    }
}

/// Every request body of `rounds` rounds: each round sends all series once
/// with that round's timestamp, as an agent does every scrape interval.
fn bodies(rounds: usize) -> Vec<Bytes> {
    let labels: Vec<Labels> = relabel_chain::series()
        .iter()
        .map(|s| Labels::from_pairs(s.iter()))
        .collect();
    let mut out = Vec::new();
    for round in 0..rounds {
        let ts = 1_700_000_000_000 + round as i64 * 15_000;
        for chunk in labels.chunks(PER_REQUEST) {
            let batch = Batch {
                series: chunk
                    .iter()
                    .map(|l| Series::new(l.clone(), vec![Sample::new(round as f64, ts)]))
                    .collect(),
                metadata: Vec::new(),
            };
            let body = smelter_storage::remote_write::encode(&batch).expect("encode");
            out.push(Bytes::from(body));
        }
    }
    out
}

/// The process's user + system CPU time in seconds (`/proc/self/stat`).
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|s| s.parse().ok())
        .collect();
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    f.iter().sum::<u64>() as f64 / ticks
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

async fn post_all(port: u16, bodies: Arc<Vec<Bytes>>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, next, bodies) = (client.clone(), next.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { return };
                let req =
                    hyper::Request::post(format!("http://127.0.0.1:{port}/api/v1/metrics/write"))
                        .header("Content-Encoding", "snappy")
                        .header("Content-Type", "application/x-protobuf")
                        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                        .body(Full::new(body.clone()))
                        .expect("request");
                let resp = client.request(req).await.expect("request sent");
                let status = resp.status();
                let _ = resp.into_body().collect().await;
                assert_eq!(status, 204, "request {i} refused");
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
}

fn run(workers: usize, rounds: usize) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let counted_total = Arc::new(AtomicU64::new(0));
    let (src, op, out) = (NodeId(0), NodeId(1), NodeId(2));
    let processor = relabel::compile(&relabel_chain::component_args()).expect("compile");
    let mut graph = Graph::new();
    graph.source(src);
    // As the runtime runs a processor: wire form from the receiver is
    // decoded first.
    graph.processor(
        op,
        processor,
        |p: &Arc<dyn BatchProcessor>, b: DataPlaneBatch| {
            let batch = b.into_decoded().expect("the receiver checked it");
            p.process(batch).map(DataPlaneBatch::from)
        },
    );
    graph.sink_with(
        out,
        CountingSink {
            samples: counted_total.clone(),
        },
    );
    graph.edge(src, op).edge(op, out);
    let plane = DataPlane::build(graph, workers).expect("data plane");
    let handle = plane.source(src).expect("source handle");

    let port = free_port();
    let args = Value::object([
        (
            "forward_to",
            Value::Array(vec![receiver_export("prometheus.relabel.bench")]),
        ),
        (
            "http",
            // A block is an array of its instances.
            Value::Array(vec![Value::object([
                ("listen_address", Value::from("127.0.0.1")),
                ("listen_port", Value::from(i64::from(port))),
            ])]),
        ),
    ]);
    let reg = registry::find("prometheus.receive_http").expect("registered");
    let (exports_tx, _exports_rx) = tokio::sync::mpsc::unbounded_channel();
    let id = "prometheus.receive_http.bench";
    let cancel = CancellationToken::new();
    // Held until the end: a closed arguments channel stops the component.
    let (args_tx, args_rx) = watch::channel(std::sync::Arc::new(args.clone()));
    let receiver = {
        let _guard = tokio.enter();
        let Build::Task(build) = reg.build else {
            panic!("prometheus.receive_http runs a task")
        };
        let component = build(
            BuildContext {
                id: id.to_string(),
                storage_path: std::env::temp_dir().join("smelter-dataflow-bench").into(),
                http_listen_addr: None,
                exports: Exports::new(id, exports_tx),
                health: Health::default(),
                data_plane: DataPlaneLink::for_source(handle),
            },
            &args,
        )
        .expect("build receive_http");
        tokio.spawn(component.run(RunContext {
            args: args_rx,
            cancel: cancel.clone(),
        }))
    };
    tokio.block_on(async {
        let start = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "receiver did not start"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    // Round 0 warms the relabel cache (the steady state of an agent that
    // sends the same series every interval); later rounds are measured.
    let warm = Arc::new(bodies(1));
    let measured = Arc::new(bodies(rounds));
    tokio.block_on(post_all(port, warm));
    let kept_per_round = counted_total.load(Ordering::Relaxed);
    let (cpu0, wall0) = (process_cpu_s(), Instant::now());
    tokio.block_on(post_all(port, measured.clone()));
    let (cpu, wall) = (process_cpu_s() - cpu0, wall0.elapsed().as_secs_f64());
    let sent = (rounds * relabel_chain::SERIES) as f64;
    let counted = counted_total.load(Ordering::Relaxed) - kept_per_round;
    assert_eq!(
        counted,
        kept_per_round * rounds as u64,
        "every kept sample reached the sink"
    );
    println!(
        "workers={workers}: {:.0} samples in ({} requests of {PER_REQUEST}, {CONCURRENCY} in flight) in {wall:.2} s: \
         {:.2} M samples/s wall, {:.2} M samples per process CPU-second ({cpu:.2} CPU-s, {:.2} cores busy); {counted} reached the sink ({kept_per_round} per round)",
        sent,
        measured.len(),
        sent / wall / 1e6,
        sent / cpu / 1e6,
        cpu / wall,
    );
    cancel.cancel();
    drop(args_tx);
    tokio.block_on(async {
        let _ = receiver.await;
    });
    drop(plane);
}

fn main() {
    let mut workers: Vec<usize> = vec![1, 2];
    let mut rounds = 10;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--workers" => {
                workers = vec![args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--workers N")]
            }
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--rounds R")
            }
            // cargo bench passes `--bench`; criterion-style filters are ignored.
            _ => {}
        }
    }
    for w in workers {
        run(w, rounds);
    }
}
