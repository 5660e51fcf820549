//! Ingest clients: the aggregator role's load. C clients push remote-write
//! requests of B samples each, as fast as the collector acknowledges them,
//! over disjoint slices of the series set.
//!
//! Place in the data flow: **ingest clients** → collector
//! (`receive_http` / its peers' write endpoint) → receiver. A request's
//! samples count as produced only once the collector answered 2xx, so the
//! report's "lost" column is what a collector acknowledged and never
//! delivered. Each series' timestamps strictly increase, so any disorder the
//! receiver sees is the collector's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE};
use hyper::{Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use smelter_storage::remote_write::Encoder;
use smelter_storage::{Batch, Labels, Sample, Series};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::series::series_labels;
use super::{wall_ms, BenchError};

/// The shape of the push load.
#[derive(Debug, Clone, Copy)]
pub struct IngestSpec {
    pub clients: u32,
    /// Series over all clients.
    pub series: u32,
    /// Samples per request.
    pub batch: u32,
}

/// Acknowledged and refused pushes so far.
#[derive(Debug, Default)]
pub struct PushCounts {
    pub acked_samples: AtomicU64,
    pub acked_requests: AtomicU64,
    /// Requests answered with an error status or lost to a network error.
    pub failed_requests: AtomicU64,
}

/// The running clients.
pub struct Ingest {
    counts: Arc<PushCounts>,
    cancel: CancellationToken,
    tasks: JoinSet<()>,
}

impl Ingest {
    /// Starts `spec.clients` clients pushing to `url`.
    pub fn start(spec: IngestSpec, url: &str) -> Result<Ingest, BenchError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| BenchError::Collector(format!("bad push URL {url:?}: {e}")))?;
        let counts = Arc::new(PushCounts::default());
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let clients = spec.clients.max(1);
        let per_client = (spec.series / clients).max(1);
        for c in 0..clients {
            let labels: Vec<Labels> = (0..per_client)
                .map(|slot| series_labels(c, slot, 0))
                .collect();
            tasks.spawn(push_loop(
                uri.clone(),
                labels,
                spec.batch.max(1) as usize,
                counts.clone(),
                cancel.clone(),
            ));
        }
        Ok(Ingest {
            counts,
            cancel,
            tasks,
        })
    }

    pub fn acked(&self) -> u64 {
        self.counts.acked_samples.load(Ordering::SeqCst)
    }

    pub fn failed_requests(&self) -> u64 {
        self.counts.failed_requests.load(Ordering::SeqCst)
    }

    /// Stops pushing; requests in flight finish first, so [`Ingest::acked`]
    /// is final afterwards.
    pub async fn stop(&mut self) {
        self.cancel.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn push_loop(
    uri: Uri,
    labels: Vec<Labels>,
    batch: usize,
    counts: Arc<PushCounts>,
    cancel: CancellationToken,
) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut encoder = Encoder::default();
    let mut cursor = 0usize;
    let mut round = 0u64;
    let mut timestamp = wall_ms();
    while !cancel.is_cancelled() {
        let mut request = Batch::default();
        while request.series.len() < batch.min(labels.len()) {
            request.series.push(Series::new(
                labels[cursor].clone(),
                vec![Sample::new(round as f64, timestamp)],
            ));
            cursor += 1;
            if cursor == labels.len() {
                // A new round: every series' next sample is newer than its last.
                cursor = 0;
                round += 1;
                timestamp = wall_ms().max(timestamp + 1);
            }
        }
        let samples = request.series.len() as u64;
        let mut body = Vec::new();
        if encoder.encode_into(&request, &mut body).is_err() {
            counts.failed_requests.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let req = Request::post(uri.clone())
            .header(CONTENT_ENCODING, "snappy")
            .header(CONTENT_TYPE, "application/x-protobuf")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(Full::new(Bytes::from(body)));
        let Ok(req) = req else {
            counts.failed_requests.fetch_add(1, Ordering::Relaxed);
            return;
        };
        match client.request(req).await {
            Ok(response) if response.status().is_success() => {
                let _ = response.into_body().collect().await;
                counts.acked_samples.fetch_add(samples, Ordering::SeqCst);
                counts.acked_requests.fetch_add(1, Ordering::Relaxed);
            }
            outcome => {
                if let Ok(response) = outcome {
                    let _ = response.into_body().collect().await;
                }
                counts.failed_requests.fetch_add(1, Ordering::Relaxed);
                // Back off as a real client would on 429/5xx or a refused connection.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
