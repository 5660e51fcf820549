//! The component contract: what every Alloy component kind implemented by
//! smelter provides, and what the controller gives it.
//!
//! In the data flow of `DESIGN.md` a component sits between the control plane
//! and the world: the controller evaluates its block into arguments (a
//! [`Value`] object), [`Registration::build`] makes the component from the first
//! arguments, [`Component::run`] runs it as a tokio task until cancelled, new
//! arguments arrive while it runs through [`RunContext::args`], and whatever it
//! publishes with [`Exports::publish`] flows back into the control plane so
//! that only its dependants are evaluated again. A component never blocks a
//! dataflow worker: its I/O lives on tokio.

pub mod args;
pub mod batch;
pub mod derived;
pub mod health;
pub mod registry;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::syntax::Value;

pub use args::Args;
pub use batch::DataPlaneBatch;
pub use health::{Health, HealthReport, HealthState};
pub use registry::{Build, DataPlaneRegistration, Derive, Registration, REGISTRY};

/// Why a component could not be built, updated, or stopped running.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentError {
    /// The evaluated arguments do not fit the component's Arguments.
    #[error("decoding arguments: {0}")]
    Arguments(String),
    /// The component failed while running (I/O, a peer, …).
    #[error("{0}")]
    Runtime(String),
}

impl ComponentError {
    pub fn args(msg: impl std::fmt::Display) -> Self {
        ComponentError::Arguments(msg.to_string())
    }

    /// An argument or setting smelter does not implement yet, refused
    /// rather than silently ignored.
    pub fn unsupported(component: &str, what: &str) -> Self {
        ComponentError::Arguments(format!(
            "{what} is not supported by smelter's {component} yet"
        ))
    }

    pub fn runtime(msg: impl std::fmt::Display) -> Self {
        ComponentError::Runtime(msg.to_string())
    }
}

/// The future a running component is.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<(), ComponentError>> + Send>>;

/// A built component, ready to run.
pub trait Component: Send + 'static {
    /// Run until `ctx.cancel` fires; apply each new value of `ctx.args`
    /// (already validated by [`Registration::validate`]) while running.
    fn run(self: Box<Self>, ctx: RunContext) -> RunFuture;
}

/// What a running component receives from the controller.
pub struct RunContext {
    /// The latest arguments; `changed()` wakes on each update. Shared with
    /// the control plane (a 100 k-component graph would otherwise hold a
    /// second deep copy of every component's arguments).
    pub args: watch::Receiver<Arc<Value>>,
    pub cancel: CancellationToken,
}

impl RunContext {
    /// The next arguments, or `None` once the component is cancelled (or
    /// the controller is gone): the loop of a component that does its work
    /// in tasks of its own and only reacts to updates.
    pub async fn next_args(&mut self) -> Option<Arc<Value>> {
        tokio::select! {
            _ = self.cancel.cancelled() => None,
            changed = self.args.changed() => {
                changed.ok()?;
                Some(self.args.borrow_and_update().clone())
            }
        }
    }
}

/// A node's exports changed: sent to the controller, which feeds the
/// control plane's exports input.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportsChange {
    pub node: String,
    /// Shared with the publishing handle and, in the runtime, with the
    /// control plane: a publish deep-copies nothing.
    pub exports: Arc<Value>,
}

/// The handle through which a component publishes its exports.
#[derive(Clone)]
pub struct Exports {
    node: String,
    current: Arc<Mutex<Arc<Value>>>,
    tx: mpsc::UnboundedSender<ExportsChange>,
}

impl Exports {
    pub fn new(node: impl Into<String>, tx: mpsc::UnboundedSender<ExportsChange>) -> Self {
        Exports {
            node: node.into(),
            current: Arc::new(Mutex::new(Arc::new(Value::Null))),
            tx,
        }
    }

    /// Publish new exports; equal exports are not sent again, as in Alloy,
    /// so a component may publish on every tick without waking anyone.
    pub fn publish(&self, exports: Value) {
        let mut current = match self.current.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if **current == exports {
            return;
        }
        let exports = Arc::new(exports);
        *current = exports.clone();
        drop(current);
        // The controller may be gone during shutdown; nothing to tell then.
        let _ = self.tx.send(ExportsChange {
            node: self.node.clone(),
            exports,
        });
    }

    /// The last published exports (for the components API).
    pub fn current(&self) -> Value {
        Value::clone(&self.shared())
    }

    /// The last published exports, shared (no copy).
    pub fn shared(&self) -> Arc<Value> {
        match self.current.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// What a component is built with.
pub struct BuildContext {
    /// The node ID, e.g. `local.file.token`.
    pub id: String,
    /// `--storage.path`, shared by every component: see
    /// [`BuildContext::data_path`].
    pub storage_path: Arc<Path>,
    /// The HTTP server's address (`--server.http.listen-addr`, as bound),
    /// for components that point at smelter itself; `None` when no server
    /// runs.
    pub http_listen_addr: Option<std::net::SocketAddr>,
    pub exports: Exports,
    pub health: Health,
    /// The component's link to the metrics data plane; empty for components
    /// that are not part of it (see [`DataPlaneRole`]).
    pub data_plane: DataPlaneLink,
}

impl BuildContext {
    /// `<--storage.path>/<id>`: the component's own directory for state.
    /// Joined on demand: few components keep state, and a 100 k-component
    /// load would otherwise build a path per component.
    pub fn data_path(&self) -> PathBuf {
        self.storage_path.join(&self.id)
    }
}

// ---------------------------------------------------------------------------
// The data-plane side of the contract (DESIGN, "Receivers").
//
// A component that moves telemetry declares a [`DataPlaneRole`] in the
// registry. The runtime reads `forward_to` (a list of receiver capsules) from
// its evaluated arguments and turns it into data-plane edges; the component
// itself never holds a pointer to the next one. What the component needs at
// run time reaches it through [`BuildContext::data_plane`]: a source gets the
// handle it pushes batches into, a sink hands over the object the dataflow
// writes into.
// ---------------------------------------------------------------------------

/// A batch of series in the model: what processors transform.
pub type MetricsBatch = smelter_storage::Batch;

/// The handle a source pushes batches into (valid across data-plane rebuilds).
pub type MetricsSource = smelter_dataflows::SourceHandle<DataPlaneBatch>;

/// What the dataflow writes into at a sink.
pub type MetricsSink = Arc<dyn smelter_dataflows::Sink<DataPlaneBatch>>;

/// A processor's arguments compiled into the operator the dataflow runs on
/// every batch (on a worker thread: no blocking, no I/O).
pub trait BatchProcessor: Send + Sync + 'static {
    /// The batch to forward, or `None` when nothing of it is left.
    fn process(&self, batch: MetricsBatch) -> Option<MetricsBatch>;
}

/// Compiles evaluated arguments into a processor; called by the runtime on
/// every (validated) arguments change, which then reaches the running
/// dataflow through `DataPlane::update_args`, without a rebuild.
pub type CompileFn = fn(&Value) -> Result<Arc<dyn BatchProcessor>, ComponentError>;

/// How a component kind takes part in the data plane.
#[derive(Clone, Copy)]
pub enum DataPlaneRole {
    /// Produces batches (an HTTP receiver, a scrape loop): gets a
    /// [`MetricsSource`] through [`DataPlaneLink::source`].
    Source,
    /// Transforms batches with operators compiled from its arguments.
    Processor(CompileFn),
    /// Consumes batches: hands a [`MetricsSink`] to
    /// [`DataPlaneLink::set_sink`] while it is built.
    Sink,
}

/// A component's link to the data plane, given at build time.
#[derive(Clone, Default)]
pub struct DataPlaneLink {
    source: Option<MetricsSource>,
    sink: Arc<Mutex<Option<MetricsSink>>>,
}

impl DataPlaneLink {
    /// A link for a source component.
    pub fn for_source(handle: MetricsSource) -> Self {
        DataPlaneLink {
            source: Some(handle),
            sink: Arc::default(),
        }
    }

    /// The handle a source pushes into (`None` for other components).
    pub fn source(&self) -> Option<MetricsSource> {
        self.source.clone()
    }

    /// A sink component hands over what the dataflow writes into.
    pub fn set_sink(&self, sink: MetricsSink) {
        let mut slot = match self.sink.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *slot = Some(sink);
    }

    /// The sink set by the component, taken by the runtime after the build.
    pub fn take_sink(&self) -> Option<MetricsSink> {
        match self.sink.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        }
    }
}

/// The receiver export of data-plane component `id`: what `forward_to` lists.
pub fn receiver_export(id: &str) -> Value {
    Value::receiver(id, "receiver")
}
