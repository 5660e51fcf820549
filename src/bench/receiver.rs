//! The benchmark's remote-write receiver: where every collector under test
//! delivers, decoded for real (snappy + protobuf through
//! [`smelter_storage::remote_write`]), counted per series and checked for
//! timestamp order.
//!
//! Place in the data flow: targets → collector → **receiver** → report. It
//! answers 204 to everything it can decode (it never rejects for order, so
//! the count of out-of-order samples is not hidden by retries), and can be
//! taken down and brought back on the same port for the outage scenario.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use smelter_storage::remote_write::Decoder;
use smelter_storage::Batch;
use tokio_util::sync::CancellationToken;

use super::http::{bind, reply, serve};
use super::order::{OrderChecker, OrderCounts};
use super::series::is_collector_series;
use super::BenchError;

/// Request bodies above this are refused (413), as a real receiver would.
const MAX_BODY: usize = 64 << 20;
const MAX_DECOMPRESSED: usize = 256 << 20;

/// What the receiver has seen so far.
#[derive(Debug, Default)]
pub struct Counts {
    pub requests: AtomicU64,
    /// Bodies that did not decode (answered 400).
    pub malformed: AtomicU64,
    /// The benchmark's series' samples, staleness markers excluded.
    pub samples: AtomicU64,
    /// Staleness markers of the benchmark's series.
    pub stale: AtomicU64,
    /// Samples of the collector's own series (`up`, `scrape_*`).
    pub collector_samples: AtomicU64,
    pub duplicates: AtomicU64,
    pub out_of_order: AtomicU64,
    /// The newest timestamp received (ms), for "fresh data again" after an outage.
    pub newest_ms: AtomicI64,
}

/// A copy of [`Counts`] at one instant.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub requests: u64,
    pub malformed: u64,
    pub samples: u64,
    pub stale: u64,
    pub collector_samples: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub newest_ms: i64,
}

impl Counts {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            requests: self.requests.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
            samples: self.samples.load(Ordering::Relaxed),
            stale: self.stale.load(Ordering::Relaxed),
            collector_samples: self.collector_samples.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            out_of_order: self.out_of_order.load(Ordering::Relaxed),
            newest_ms: self.newest_ms.load(Ordering::Relaxed),
        }
    }
}

/// The decoding side, separate from HTTP so tests can feed it batches.
#[derive(Debug, Default)]
pub struct Tally {
    pub counts: Counts,
    pub order: OrderChecker,
}

impl Tally {
    /// Counts one decoded request.
    pub fn record(&self, batch: &Batch) {
        let c = &self.counts;
        let mut order = OrderCounts::default();
        let (mut samples, mut stale, mut own) = (0, 0, 0);
        let mut newest = i64::MIN;
        for series in &batch.series {
            order.add(
                self.order
                    .observe(series.labels.stable_hash(), &series.samples),
            );
            let collector = series.labels.metric_name().is_some_and(is_collector_series);
            for s in &series.samples {
                newest = newest.max(s.timestamp_ms);
                if collector {
                    own += 1;
                } else if s.is_stale() {
                    stale += 1;
                } else {
                    samples += 1;
                }
            }
        }
        c.requests.fetch_add(1, Ordering::Relaxed);
        c.samples.fetch_add(samples, Ordering::Relaxed);
        c.stale.fetch_add(stale, Ordering::Relaxed);
        c.collector_samples.fetch_add(own, Ordering::Relaxed);
        c.duplicates.fetch_add(order.duplicate, Ordering::Relaxed);
        c.out_of_order
            .fetch_add(order.out_of_order, Ordering::Relaxed);
        c.newest_ms.fetch_max(newest, Ordering::Relaxed);
    }
}

/// A running receiver on a loopback port.
pub struct Receiver {
    addr: SocketAddr,
    tally: Arc<Tally>,
    cancel: CancellationToken,
}

impl Receiver {
    /// Starts a receiver on a port the kernel picks.
    pub async fn start() -> Result<Receiver, BenchError> {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener
            .local_addr()
            .map_err(|e| BenchError::io("reading the receiver's address", e))?;
        let receiver = Receiver {
            addr,
            tally: Arc::default(),
            cancel: CancellationToken::new(),
        };
        receiver.spawn(listener);
        Ok(receiver)
    }

    fn spawn(&self, listener: tokio::net::TcpListener) {
        let tally = self.tally.clone();
        tokio::spawn(serve(listener, self.cancel.clone(), move |req| {
            let tally = tally.clone();
            async move { handle(req, &tally).await }
        }));
    }

    /// The remote-write URL collectors send to.
    pub fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    pub fn snapshot(&self) -> Snapshot {
        self.tally.counts.snapshot()
    }

    /// Closes the port and every open connection: senders see connection
    /// refused until [`Receiver::come_back`].
    pub fn go_down(&mut self) {
        self.cancel.cancel();
    }

    /// Listens on the same port again, with the counts kept.
    pub async fn come_back(&mut self) -> Result<(), BenchError> {
        self.cancel = CancellationToken::new();
        let listener = bind(self.addr).await?;
        self.spawn(listener);
        Ok(())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn handle(
    req: Request<Incoming>,
    tally: &Tally,
) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return reply(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
    };
    match Decoder::new(MAX_DECOMPRESSED).decode(&body) {
        Ok(batch) => {
            tally.record(&batch);
            reply(StatusCode::NO_CONTENT, "")
        }
        Err(e) => {
            tally.counts.malformed.fetch_add(1, Ordering::Relaxed);
            reply(StatusCode::BAD_REQUEST, e.to_string())
        }
    }
}
