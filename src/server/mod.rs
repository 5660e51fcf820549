//! smelter's HTTP server: the operator's window onto the running graph.
//!
//! In the data flow of `DESIGN.md` the server sits beside the controller, not
//! inside it: it reads the graph (components, health, arguments, exports,
//! evaluation counters) through the [`Controller`] trait, triggers reloads
//! (`/-/reload`, one of the three reload triggers), and exposes the process's
//! own metrics (`/metrics`, from [`crate::metrics`]). Keeping the controller
//! behind a trait lets the server be written and tested on its own, with a
//! test double, while the controller is built elsewhere.
//!
//! Endpoints follow Alloy's HTTP service (`internal/service/http/http.go`)
//! and its UI API; see [`routes`] for the table.

mod json;
mod listen;
mod routes;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::component::{HealthReport, HealthState};
use crate::syntax::Value;

pub use json::value_to_json;
pub use listen::{bind, BindError};
pub use routes::MAX_REQUEST_BODY_BYTES;

/// What the server needs from the component controller. The controller
/// implements it; the server only reads through it and asks for reloads.
pub trait Controller: Send + Sync + 'static {
    /// True once the first load of the configuration succeeded (`/-/ready`).
    fn ready(&self) -> bool;
    /// Every component of the running graph, for the list endpoint and the
    /// health check. `arguments`/`exports` may be left `None` here: the
    /// server drops them from the list anyway.
    fn components(&self) -> Vec<ComponentInfo>;
    /// One component by its node ID (`local.file.token`), with `arguments`
    /// and `exports` filled; `None` if there is no such component.
    fn component(&self, id: &str) -> Option<ComponentInfo>;
    /// Re-read and apply the configuration. `Err` carries the diagnostics
    /// text shown to the operator; the last good graph keeps running.
    ///
    /// The implementation (not the server) records the outcome with
    /// [`crate::metrics::config().record_load`](crate::metrics::ConfigMetrics::record_load),
    /// because loads also happen at start-up and on SIGHUP.
    fn reload(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// One component as the UI API shows it (Alloy's `componentInfo` JSON, plus
/// smelter's evaluation counters).
#[derive(Debug, Clone, Serialize)]
pub struct ComponentInfo {
    /// The component kind, e.g. `local.file`.
    pub name: String,
    /// Always `"block"` for components.
    #[serde(rename = "type")]
    pub block_type: String,
    /// The node ID, e.g. `local.file.token`.
    #[serde(rename = "localID")]
    pub local_id: String,
    /// The module the component lives in; `""` at the root.
    #[serde(rename = "moduleID")]
    pub module_id: String,
    /// The block label (`token`), `""` if none.
    pub label: String,
    /// Node IDs this component's expressions reference.
    #[serde(rename = "referencesTo")]
    pub references_to: Vec<String>,
    /// Node IDs whose expressions reference this component.
    #[serde(rename = "referencedBy")]
    pub referenced_by: Vec<String>,
    /// Node IDs this component sends data to (its `forward_to` receivers).
    #[serde(rename = "dataFlowEdgesTo")]
    pub data_flow_edges_to: Vec<String>,
    pub health: HealthReport,
    /// Evaluated arguments; shown only by the single-component endpoint,
    /// rendered by [`value_to_json`] so secrets never leave the process.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "json::serialize_opt_value"
    )]
    pub arguments: Option<Value>,
    /// Current exports; as `arguments`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "json::serialize_opt_value"
    )]
    pub exports: Option<Value>,
    /// How many times the block was evaluated (smelter's own; proves that a
    /// reload recomputes only what changed).
    pub evaluations: u64,
    /// How many times the running component received new arguments.
    pub updates: u64,
}

impl ComponentInfo {
    /// A component of kind `name` with node ID `local_id` (the label is what
    /// follows `name.` in the ID), health `unknown`, no edges, no counts.
    pub fn new(name: impl Into<String>, local_id: impl Into<String>) -> Self {
        let name = name.into();
        let local_id = local_id.into();
        let label = local_id
            .strip_prefix(name.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or("")
            .to_string();
        ComponentInfo {
            name,
            block_type: "block".to_string(),
            local_id,
            module_id: String::new(),
            label,
            references_to: Vec::new(),
            referenced_by: Vec::new(),
            data_flow_edges_to: Vec::new(),
            health: HealthReport::new(HealthState::Unknown, ""),
            arguments: None,
            exports: None,
            evaluations: 0,
            updates: 0,
        }
    }
}

/// How long [`serve`] waits for in-flight requests after shutdown is asked.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// A client must send its request headers within this time (slowloris guard).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serve HTTP/1.1 on `listener` until `shutdown` is cancelled, then stop
/// accepting, let in-flight requests finish (up to 10 s) and return.
///
/// Errors accepting one connection are logged and do not end the server.
pub async fn serve(
    listener: TcpListener,
    controller: Arc<dyn Controller>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let local = listener.local_addr()?;
    info!(addr = %local, "HTTP server listening");

    // Connection tasks, kept so that the ones still open after the grace
    // period can be aborted; finished ones are reaped as we go.
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather
                // than spin, and keep serving the connections we have.
                warn!(error = %e, "accepting an HTTP connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let ctl = controller.clone();
        let service = service_fn(move |req| {
            let ctl = ctl.clone();
            async move { Ok::<_, Infallible>(routes::handle(req, ctl.as_ref()).await) }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        connections.spawn(async move {
            if let Err(e) = conn.await {
                debug!(%peer, error = %e, "HTTP connection ended with an error");
            }
        });
    }

    drop(listener);
    info!(addr = %local, "HTTP server shutting down");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            warn!("HTTP connections still open after {SHUTDOWN_GRACE:?}; closing them");
        }
    }
    connections.abort_all();
    Ok(())
}
