//! One remote-write POST and its retries: the last hop of the data flow,
//! `shard ─▶ sender ─▶ endpoint`.
//!
//! A shard hands over an encoded body (protobuf + snappy block); the sender
//! POSTs it with the remote-write 1.0 headers through a pooled hyper client
//! (one per queue, shared by its shards), and decides by the answer:
//!
//! - 2xx: delivered, counted in `prometheus_remote_storage_samples_total`;
//! - 5xx, a timeout or a network error: recoverable — retried with
//!   exponential backoff `min_backoff` → `max_backoff`, for ever (the data is
//!   safe in the WAL; only shutdown stops the loop), counted as retried;
//! - 429: retried like a 5xx when `retry_on_http_429`, waiting what
//!   `Retry-After` says when it gives seconds; dropped otherwise;
//! - any other status: the endpoint refuses the data; retrying cannot help,
//!   so the samples are dropped, counted as failed and as dropped with reason
//!   `http_<status>`, and logged with the start of the response body.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{
    HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, USER_AGENT,
};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio_util::sync::CancellationToken;

use super::args::EndpointConfig;
use super::metrics::EndpointMetrics;

/// The pooled client type of a queue.
pub(super) type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A pooled HTTP/1.1 client with `TCP_NODELAY`.
pub(super) fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector)
}

/// `User-Agent` of every request.
pub const USER_AGENT_VALUE: &str = concat!("smelter/", env!("CARGO_PKG_VERSION"));

/// How a send ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Delivered,
    /// Refused for good by the endpoint (counted and logged here).
    Dropped,
    /// The queue is shutting down; the data stays in the WAL.
    Cancelled,
    /// A request sent again after a restart, refused as out of order or a
    /// duplicate: the receiver has it already. Not counted as dropped.
    AlreadyThere,
}

/// Whether a 400's text says the receiver has newer samples of a series
/// already (Prometheus: "out of order sample", "duplicate sample for
/// timestamp"), which is what a re-sent request gets from a strict receiver.
fn already_there(why: &str) -> bool {
    let why = why.to_ascii_lowercase();
    why.contains("out of order") || why.contains("duplicate sample")
}

/// Sends bodies to one endpoint.
pub(super) struct Sender {
    client: HttpClient,
    cfg: Arc<EndpointConfig>,
    auth: Option<HeaderValue>,
    metrics: EndpointMetrics,
}

enum Attempt {
    Ok,
    Retry {
        after: Option<Duration>,
        why: String,
    },
    Fail {
        status: StatusCode,
        why: String,
    },
}

impl Sender {
    pub(super) fn new(
        client: HttpClient,
        cfg: Arc<EndpointConfig>,
        metrics: EndpointMetrics,
    ) -> Sender {
        // Validated when the arguments were decoded; a failure here would
        // only mean sending without credentials, which the endpoint refuses.
        let auth = cfg.auth.header().ok().flatten();
        Sender {
            client,
            cfg,
            auth,
            metrics,
        }
    }

    /// POSTs `body` (holding `samples` samples) until it is delivered,
    /// refused for good, `stop` fires while waiting to retry, or `cancel`
    /// fires. `resent`: the request may have been delivered before a
    /// restart, so an out-of-order refusal means it is there already.
    pub(super) async fn send(
        &self,
        body: Bytes,
        samples: u64,
        resent: bool,
        stop: &CancellationToken,
        cancel: &CancellationToken,
    ) -> Outcome {
        let q = &self.cfg.queue;
        let mut backoff = q.min_backoff;
        loop {
            let attempt = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Outcome::Cancelled,
                a = self.attempt(body.clone()) => a,
            };
            match attempt {
                Attempt::Ok => {
                    self.metrics.samples.inc_by(samples);
                    return Outcome::Delivered;
                }
                Attempt::Fail { status, why }
                    if resent && status == StatusCode::BAD_REQUEST && already_there(&why) =>
                {
                    self.metrics.already_there.inc_by(samples);
                    return Outcome::AlreadyThere;
                }
                Attempt::Fail { status, why } => {
                    self.metrics.failed.inc_by(samples);
                    self.metrics
                        .dropped(&format!("http_{}", status.as_u16()), samples);
                    tracing::error!(
                        remote_name = %self.cfg.name, url = %self.cfg.url, %status, samples,
                        "remote write refused, dropping samples: {why}"
                    );
                    return Outcome::Dropped;
                }
                Attempt::Retry { after, why } => {
                    self.metrics.retried.inc_by(samples);
                    let wait = after.unwrap_or(backoff);
                    tracing::warn!(
                        remote_name = %self.cfg.name, url = %self.cfg.url, samples,
                        retry_in = ?wait, "remote write failed, retrying: {why}"
                    );
                    tokio::select! {
                        _ = stop.cancelled() => return Outcome::Cancelled,
                        _ = tokio::time::sleep(wait) => {}
                    }
                    backoff = (backoff * 2).min(q.max_backoff).max(q.min_backoff);
                }
            }
        }
    }

    async fn attempt(&self, body: Bytes) -> Attempt {
        let mut req = Request::post(self.cfg.uri.clone())
            .header(CONTENT_ENCODING, "snappy")
            .header(CONTENT_TYPE, "application/x-protobuf")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .header(USER_AGENT, USER_AGENT_VALUE);
        for (k, v) in &self.cfg.headers {
            req = req.header(k, v);
        }
        if let Some(auth) = &self.auth {
            req = req.header(AUTHORIZATION, auth);
        }
        let req = match req.body(Full::new(body)) {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Fail {
                    status: StatusCode::BAD_REQUEST,
                    why: format!("building the request: {e}"),
                }
            }
        };
        let timeout = self.cfg.remote_timeout;
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(300)));
            // Read (a capped part of) the body so the connection is reused
            // and a refusal can be logged with its reason.
            let text = match Limited::new(resp.into_body(), 4096).collect().await {
                Ok(b) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
                Err(_) => String::new(),
            };
            Ok::<_, String>((status, retry_after, text))
        };
        let (status, retry_after, text) = match tokio::time::timeout(timeout, exchange).await {
            Err(_) => {
                return Attempt::Retry {
                    after: None,
                    why: format!("no answer within remote_timeout {timeout:?}"),
                }
            }
            Ok(Err(e)) => {
                return Attempt::Retry {
                    after: None,
                    why: e,
                }
            }
            Ok(Ok(r)) => r,
        };
        if status.is_success() {
            Attempt::Ok
        } else if status.is_server_error() {
            Attempt::Retry {
                after: None,
                why: format!("{status}: {text}"),
            }
        } else if status == StatusCode::TOO_MANY_REQUESTS && self.cfg.queue.retry_on_http_429 {
            Attempt::Retry {
                after: retry_after,
                why: format!("{status}: {text}"),
            }
        } else {
            Attempt::Fail { status, why: text }
        }
    }
}
