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
pub mod health;
pub mod registry;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::syntax::Value;

pub use args::Args;
pub use health::{Health, HealthReport, HealthState};
pub use registry::{Registration, REGISTRY};

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
    /// The latest arguments; `changed()` wakes on each update.
    pub args: watch::Receiver<Value>,
    pub cancel: CancellationToken,
}

/// A node's exports changed: sent to the controller, which feeds the
/// control plane's exports input.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportsChange {
    pub node: String,
    pub exports: Value,
}

/// The handle through which a component publishes its exports.
#[derive(Clone)]
pub struct Exports {
    node: String,
    current: Arc<Mutex<Value>>,
    tx: mpsc::UnboundedSender<ExportsChange>,
}

impl Exports {
    pub fn new(node: impl Into<String>, tx: mpsc::UnboundedSender<ExportsChange>) -> Self {
        Exports {
            node: node.into(),
            current: Arc::new(Mutex::new(Value::Null)),
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
        if *current == exports {
            return;
        }
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
    /// `<--storage.path>/<id>`: the component's own directory for state.
    pub data_path: PathBuf,
    pub exports: Exports,
    pub health: Health,
}
