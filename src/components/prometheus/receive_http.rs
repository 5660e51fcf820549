//! `prometheus.receive_http`: a data-plane source serving Prometheus remote
//! write 1.0 (`POST /api/v1/metrics/write`, snappy-compressed protobuf).
//!
//! Place in the data flow: the entry of a pipeline. Each decoded request
//! becomes one batch pushed into the component's `SourceHandle`; the client is
//! answered 204 only once the batch's `AckHandle` resolved, i.e. every sink it
//! reaches acknowledged it (DESIGN, "Time and acknowledgement through
//! progress"). Where it goes (`forward_to`) is the runtime's business: the
//! handle stays valid across data-plane rebuilds.
//!
//! Bad input is answered, counted and logged, never a panic: bodies over
//! 10 MiB (compressed) or 64 MiB (decompressed) get 413, undecodable ones
//! 400. A data plane that cannot take the batch within 10 s (backpressure)
//! gets 503, and an unacknowledged batch after 30 s as well; the client
//! retries (at-least-once).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use smelter_storage::remote_write::{DecodeError, Decoder};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::component::{
    Args, Build, BuildContext, Component, ComponentError, Health, MetricsSource, Registration,
    RunContext, RunFuture,
};
use crate::controller::schema::Schema;
use crate::syntax::Value;

/// The remote-write path Alloy serves.
pub const PATH: &str = "/api/v1/metrics/write";
/// Largest compressed body accepted.
pub const MAX_BODY: usize = 10 << 20;
/// Largest decompressed body accepted.
pub const MAX_DECOMPRESSED: usize = 64 << 20;
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);
const ACK_TIMEOUT: Duration = Duration::from_secs(30);
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

pub fn registration() -> Registration {
    Registration {
        name: "prometheus.receive_http",
        schema,
        validate: |v| Arguments::from_value(v).map(|_| ()),
        build: Build::Task(build),
    }
}

fn schema() -> Schema {
    Schema::new()
        .attr("forward_to", true)
        .attr("accepted_remote_write_protobuf_messages", false)
        .attr("append_metadata", false)
        .attr("enable_type_and_unit_labels", false)
        .block(
            "http",
            false,
            Schema::new()
                .attr("listen_address", false)
                .attr("listen_port", false)
                .attr("conn_limit", false)
                .attr("server_idle_timeout", false)
                .attr("server_read_timeout", false)
                .attr("server_write_timeout", false),
        )
}

#[derive(Debug, Clone, PartialEq)]
struct Arguments {
    listen: SocketAddr,
}

impl Arguments {
    fn from_value(v: &Value) -> Result<Self, ComponentError> {
        let args = Args::new(v)?;
        let forward_to: Value = args.required("forward_to")?;
        if !matches!(forward_to, Value::Array(_)) {
            return Err(ComponentError::args(
                "forward_to must be a list of receivers",
            ));
        }
        let (address, port) = match args.block("http")? {
            Some(http) => (
                http.or("listen_address", String::new())?,
                http.or("listen_port", 8080i64)?,
            ),
            None => (String::new(), 8080),
        };
        let port = u16::try_from(port)
            .map_err(|_| ComponentError::args(format!("http listen_port {port} out of range")))?;
        // Alloy's default "" listens on every interface.
        let host = if address.is_empty() {
            "0.0.0.0"
        } else {
            address.as_str()
        };
        let listen = format!("{host}:{port}")
            .parse::<SocketAddr>()
            .or_else(|_| format!("[{host}]:{port}").parse::<SocketAddr>())
            .map_err(|_| {
                ComponentError::args(format!(
                    "http listen_address {address:?} is not an IP address"
                ))
            })?;
        Ok(Arguments { listen })
    }
}

/// Request outcomes of one component, for tests and `/metrics`.
#[derive(Debug, Default)]
pub struct ReceiveStats {
    pub accepted: AtomicU64,
    pub samples: AtomicU64,
    /// 400: undecodable bodies.
    pub malformed: AtomicU64,
    /// 413: bodies over the limits.
    pub too_large: AtomicU64,
    /// 503: the data plane did not take or acknowledge the batch in time.
    pub unavailable: AtomicU64,
}

/// `smelter_prometheus_receive_http_requests_total{component, code}` in the
/// process' `/metrics`: every answered remote-write request, by status code.
static REQUESTS: LazyLock<Family<Vec<(String, String)>, Counter>> = LazyLock::new(|| {
    let family = Family::default();
    crate::metrics::register(|r| {
        r.register(
            "smelter_prometheus_receive_http_requests",
            "Remote-write requests answered by prometheus.receive_http, by status code",
            family.clone(),
        )
    });
    family
});

fn count(component: &str, status: StatusCode) {
    REQUESTS
        .get_or_create(&vec![
            ("component".to_string(), component.to_string()),
            ("code".to_string(), status.as_u16().to_string()),
        ])
        .inc();
}

static STATS: LazyLock<Mutex<HashMap<String, Arc<ReceiveStats>>>> = LazyLock::new(Mutex::default);

/// The request counters of component `id` (since it was last built).
pub fn stats(id: &str) -> Option<Arc<ReceiveStats>> {
    STATS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id)
        .cloned()
}

struct Shared {
    id: String,
    source: MetricsSource,
    stats: Arc<ReceiveStats>,
}

struct ReceiveHttp {
    args: Arguments,
    listener: TcpListener,
    shared: Arc<Shared>,
    health: Health,
}

fn bind(addr: SocketAddr) -> Result<TcpListener, ComponentError> {
    // Bound while building, so a port in use is a build error the user sees.
    let std = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|_| l))
        .map_err(|e| ComponentError::runtime(format!("listening on {addr}: {e}")))?;
    TcpListener::from_std(std)
        .map_err(|e| ComponentError::runtime(format!("listening on {addr}: {e}")))
}

fn build(ctx: BuildContext, args: &Value) -> Result<Box<dyn Component>, ComponentError> {
    let args = Arguments::from_value(args)?;
    let source = ctx
        .data_plane
        .source()
        .ok_or_else(|| ComponentError::runtime("not connected to the data plane"))?;
    let listener = bind(args.listen)?;
    let stats = Arc::new(ReceiveStats::default());
    STATS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(ctx.id.clone(), stats.clone());
    Ok(Box::new(ReceiveHttp {
        args,
        listener,
        shared: Arc::new(Shared {
            id: ctx.id,
            source,
            stats,
        }),
        health: ctx.health,
    }))
}

impl Component for ReceiveHttp {
    fn run(self: Box<Self>, mut ctx: RunContext) -> RunFuture {
        Box::pin(async move {
            let ReceiveHttp {
                mut args,
                mut listener,
                shared,
                health,
            } = *self;
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let mut connections = JoinSet::new();
            let listening = |addr: SocketAddr| format!("listening on {addr}");
            health.healthy(listening(args.listen));
            tracing::info!(component = %shared.id, addr = %args.listen, "remote-write receiver listening");
            loop {
                tokio::select! {
                    _ = ctx.cancel.cancelled() => break,
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                    changed = ctx.args.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        let value = ctx.args.borrow_and_update().clone();
                        match Arguments::from_value(&value) {
                            Ok(new) if new.listen != args.listen => match bind(new.listen) {
                                Ok(l) => {
                                    listener = l;
                                    args = new;
                                    health.healthy(listening(args.listen));
                                }
                                Err(e) => health.unhealthy(e.to_string()),
                            },
                            Ok(_) => {}
                            Err(e) => tracing::warn!(component = %shared.id, error = %e, "ignoring invalid arguments"),
                        }
                    }
                    accepted = listener.accept() => {
                        let (stream, peer) = match accepted {
                            Ok(a) => a,
                            Err(e) => {
                                tracing::warn!(component = %shared.id, error = %e, "accepting a connection");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                continue;
                            }
                        };
                        let shared = shared.clone();
                        let service = service_fn(move |req| {
                            let shared = shared.clone();
                            async move { Ok::<_, Infallible>(handle(req, &shared).await) }
                        });
                        let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                        connections.spawn(async move {
                            if let Err(e) = conn.await {
                                tracing::debug!(%peer, error = %e, "remote-write connection ended with an error");
                            }
                        });
                    }
                }
            }
            // Open connections end with the component; their clients retry.
            connections.shutdown().await;
            Ok(())
        })
    }
}

fn reply(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *response.status_mut() = status;
    response
}

async fn handle(req: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let response = answer(req, shared).await;
    count(&shared.id, response.status());
    response
}

async fn answer(req: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    if req.uri().path() != PATH {
        return reply(StatusCode::NOT_FOUND, "not found");
    }
    if req.method() != Method::POST {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "only POST is allowed");
    }
    let stats = &shared.stats;
    let too_large = |what: String| {
        stats.too_large.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(component = %shared.id, reason = %what, "remote-write request rejected");
        reply(StatusCode::PAYLOAD_TOO_LARGE, &what)
    };
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return too_large(format!(
                "request body exceeds the limit of {MAX_BODY} bytes"
            ));
        }
        Err(e) => {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            return reply(
                StatusCode::BAD_REQUEST,
                &format!("reading the request body: {e}"),
            );
        }
    };
    // Series stay in wire form (checked and hashed, no label set built):
    // a WAL downstream stores that form, a processor decodes it.
    let batch = match Decoder::new(MAX_DECOMPRESSED).decode_encoded(&body) {
        Ok(batch) => batch,
        Err(e @ DecodeError::TooLarge { .. }) => return too_large(e.to_string()),
        Err(e) => {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(component = %shared.id, error = %e, "malformed remote-write request rejected");
            return reply(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    if batch.is_empty() {
        stats.accepted.fetch_add(1, Ordering::Relaxed);
        return reply(StatusCode::NO_CONTENT, "");
    }
    let samples = batch.sample_count() as u64;
    let unavailable = |what: &str| {
        stats.unavailable.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(component = %shared.id, reason = what, "remote-write request not acknowledged");
        reply(StatusCode::SERVICE_UNAVAILABLE, what)
    };
    let ack = match tokio::time::timeout(PUSH_TIMEOUT, shared.source.push(batch.into())).await {
        Ok(Ok(ack)) => ack,
        Ok(Err(e)) => return unavailable(&e.to_string()),
        Err(_) => return unavailable("the data plane is full, retry later"),
    };
    match tokio::time::timeout(ACK_TIMEOUT, ack).await {
        Ok(Ok(_epoch)) => {
            stats.accepted.fetch_add(1, Ordering::Relaxed);
            stats.samples.fetch_add(samples, Ordering::Relaxed);
            let mut response = reply(StatusCode::NO_CONTENT, "");
            *response.body_mut() = Full::new(Bytes::new());
            response
        }
        Ok(Err(e)) => unavailable(&e.to_string()),
        Err(_) => unavailable("the batch was not acknowledged in time"),
    }
}
