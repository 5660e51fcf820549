//! Synthetic scrape targets: T loopback HTTP servers, each exposing S series
//! whose values change on every scrape, with a configurable churn.
//!
//! Place in the data flow: **targets** → collector (scrape) → receiver. Every
//! page served adds its S samples to the produced count, the left side of
//! the report's "lost" column. Closing the targets makes later scrapes fail
//! (503, not counted) while pages already being served complete, so the
//! produced count is exact when a run drains.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::StatusCode;
use tokio_util::sync::CancellationToken;

use super::http::{bind, reply, serve};
use super::series;
use super::BenchError;

/// The shape of the targets.
#[derive(Debug, Clone, Copy)]
pub struct TargetSpec {
    pub targets: u32,
    pub series: u32,
    /// Series replaced per minute on each target.
    pub churn_per_minute: u32,
}

struct Shared {
    spec: TargetSpec,
    started: Instant,
    open: AtomicBool,
    produced: AtomicU64,
    scrapes: AtomicU64,
}

/// The running targets.
pub struct Targets {
    addrs: Vec<SocketAddr>,
    shared: Arc<Shared>,
    cancel: CancellationToken,
}

impl Targets {
    /// Starts `spec.targets` servers on ports the kernel picks.
    pub async fn start(spec: TargetSpec) -> Result<Targets, BenchError> {
        let shared = Arc::new(Shared {
            spec,
            started: Instant::now(),
            open: AtomicBool::new(true),
            produced: AtomicU64::new(0),
            scrapes: AtomicU64::new(0),
        });
        let cancel = CancellationToken::new();
        let mut addrs = Vec::with_capacity(spec.targets as usize);
        for target in 0..spec.targets {
            let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
            addrs.push(
                listener
                    .local_addr()
                    .map_err(|e| BenchError::io("reading a target's address", e))?,
            );
            let shared = shared.clone();
            tokio::spawn(serve(listener, cancel.clone(), move |_req| {
                let shared = shared.clone();
                async move { page(&shared, target) }
            }));
        }
        Ok(Targets {
            addrs,
            shared,
            cancel,
        })
    }

    /// `host:port` of every target, in order.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Samples served so far.
    pub fn produced(&self) -> u64 {
        self.shared.produced.load(Ordering::SeqCst)
    }

    /// Pages served so far.
    pub fn scrapes(&self) -> u64 {
        self.shared.scrapes.load(Ordering::SeqCst)
    }

    /// From now on every scrape fails; [`Targets::produced`] stops growing
    /// once the pages in flight are out.
    pub fn close(&self) {
        self.shared.open.store(false, Ordering::SeqCst);
    }
}

impl Drop for Targets {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn page(shared: &Shared, target: u32) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    if !shared.open.load(Ordering::SeqCst) {
        return reply(StatusCode::SERVICE_UNAVAILABLE, "benchmark target closed\n");
    }
    let spec = shared.spec;
    let scrape = shared.scrapes.fetch_add(1, Ordering::SeqCst);
    let minutes = shared.started.elapsed().as_secs_f64() / 60.0;
    let churned = (minutes * f64::from(spec.churn_per_minute)) as u64;
    let mut body = String::with_capacity(spec.series as usize * 210);
    for slot in 0..spec.series {
        let generation = series::generation(slot, spec.series, churned);
        series::write_line(
            &mut body,
            &series::labels(target, slot, generation),
            series::value(slot, scrape),
        );
    }
    shared
        .produced
        .fetch_add(u64::from(spec.series), Ordering::SeqCst);
    let mut response = reply(StatusCode::OK, body);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
