//! Building, updating and stopping components as their arguments change.
//!
//! The control plane says *which* nodes have new arguments; this module acts on
//! it, the way Alloy's builtin component node does: build on the first valid
//! arguments, hand later ones to the running task (never a restart), keep the
//! last good arguments when an evaluation or validation fails (and say so in
//! the node's health), and on removal cancel the task and wait for it so that
//! what it held (files, sockets) is released before the reload returns.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::state::NodeState;
use crate::component::{
    registry, BuildContext, ComponentError, DataPlaneLink, Exports, ExportsChange, Health,
    HealthState, RunContext,
};
use crate::syntax::Value;

/// How long a stopping component may take before the runtime stops waiting.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

struct Running {
    cancel: CancellationToken,
    args: watch::Sender<Arc<Value>>,
    /// Closed when the task has ended (its sender lives in the task).
    done: oneshot::Receiver<()>,
}

/// A component's task, built but not yet handed to tokio.
type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

pub(crate) struct Lifecycle {
    tokio: Handle,
    storage_path: Arc<Path>,
    http_listen_addr: Option<SocketAddr>,
    exports_tx: mpsc::UnboundedSender<ExportsChange>,
    running: HashMap<String, Running>,
    /// Components built since the last [`Lifecycle::take_built`].
    built: Vec<String>,
    /// Tasks built during the current epoch: spawned together by
    /// [`Lifecycle::spawn_pending`], from inside the runtime, because each
    /// `spawn` from this (non-tokio) thread wakes a parked worker — a
    /// syscall per component when 100 k are built.
    pending: Vec<Pending>,
}

impl Lifecycle {
    pub fn new(
        tokio: Handle,
        storage_path: PathBuf,
        http_listen_addr: Option<SocketAddr>,
        exports_tx: mpsc::UnboundedSender<ExportsChange>,
    ) -> Self {
        Lifecycle {
            tokio,
            storage_path: storage_path.into(),
            http_listen_addr,
            exports_tx,
            running: HashMap::new(),
            built: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// New evaluated arguments for `id`: build it, or update it if they differ
    /// from what it runs with. Returns whether the component was touched, or
    /// why its arguments were refused (as Alloy, a decode or build failure is
    /// an evaluation error of the load: the node is unhealthy and keeps its
    /// last good arguments). `link` is what a data-plane component is built
    /// with (unused otherwise).
    pub fn apply_args(
        &mut self,
        id: &str,
        node: &mut NodeState,
        args: Arc<Value>,
        link: DataPlaneLink,
    ) -> Result<bool, String> {
        let Some(registration) = registry::find(&node.kind) else {
            node.eval_health.unhealthy(format!(
                "component {:?} is not implemented by smelter",
                node.kind
            ));
            return Ok(false);
        };
        if let Some(running) = self.running.get(id) {
            if let Err(e) = (registration.validate)(&args) {
                let message = format!("component evaluation failed: {e}");
                node.eval_health.unhealthy(message.clone());
                return Err(message);
            }
            node.eval_health.healthy("component evaluated");
            if Arc::ptr_eq(&node.arguments, &args) || node.arguments == args {
                return Ok(false);
            }
            // The task reads the newest value whenever it gets to it.
            running.args.send_replace(args.clone());
            node.arguments = args;
            node.updates += 1;
            return Ok(true);
        }
        // Every build decodes its arguments first and refuses what
        // `validate` refuses, so the arguments are decoded once per build;
        // only a failed build asks `validate` which of the two failed, for
        // the message.
        match self.build(id, node, registration, &args, link) {
            Ok(()) => {
                node.eval_health.healthy("component evaluated");
                node.arguments = args;
                node.updates += 1;
                Ok(true)
            }
            Err(e) => {
                let message = match (registration.validate)(&args) {
                    Err(invalid) => format!("component evaluation failed: {invalid}"),
                    Ok(()) => format!("building component: {e}"),
                };
                node.eval_health.unhealthy(message.clone());
                Err(message)
            }
        }
    }

    fn build(
        &mut self,
        id: &str,
        node: &mut NodeState,
        registration: &registry::Registration,
        args: &Arc<Value>,
        link: DataPlaneLink,
    ) -> Result<(), ComponentError> {
        let exports = Exports::new(id, self.exports_tx.clone());
        let component_health = Health::default();
        let ctx = BuildContext {
            id: id.to_string(),
            storage_path: self.storage_path.clone(),
            http_listen_addr: self.http_listen_addr,
            exports: exports.clone(),
            health: component_health.clone(),
            data_plane: link,
        };
        // Building may do blocking I/O (open a database, bind a socket); it
        // runs inside the tokio context so it may also spawn.
        let _guard = self.tokio.enter();
        let component = (registration.build)(ctx, args)?;
        let cancel = CancellationToken::new();
        // The task shares the control plane's arguments: components read
        // `RunContext::args`.
        let (args_tx, args_rx) = watch::channel(Arc::clone(args));
        let run = component.run(RunContext {
            args: args_rx,
            cancel: cancel.clone(),
        });
        let run_health = node.run_health.clone();
        run_health.healthy("started component");
        let component_id = id.to_string();
        let (done_tx, done) = oneshot::channel::<()>();
        self.pending.push(Box::pin(async move {
            // Dropped when the task ends, however it ends.
            let _done = done_tx;
            match run.await {
                Ok(()) => {
                    tracing::info!(component = %component_id, "node exited without error");
                    run_health.set(HealthState::Exited, "component shut down cleanly");
                }
                Err(e) => {
                    tracing::error!(component = %component_id, error = %e, "node exited with error");
                    run_health.set(
                        HealthState::Exited,
                        format!("component shut down with error: {e}"),
                    );
                }
            }
        }));
        node.exports = Some(exports);
        node.component_health = component_health;
        self.built.push(id.to_string());
        self.running.insert(
            id.to_string(),
            Running {
                cancel,
                args: args_tx,
                done,
            },
        );
        Ok(())
    }

    /// The components built since the last call.
    pub fn take_built(&mut self) -> Vec<String> {
        std::mem::take(&mut self.built)
    }

    /// Hand the tasks built since the last call to tokio, in one wake-up.
    pub fn spawn_pending(&mut self) {
        match self.pending.len() {
            0 => {}
            1 => {
                if let Some(task) = self.pending.pop() {
                    self.tokio.spawn(task);
                }
            }
            _ => {
                let tasks = std::mem::take(&mut self.pending);
                self.tokio.spawn(async move {
                    for task in tasks {
                        tokio::spawn(task);
                    }
                });
            }
        }
    }

    /// Whether `id` runs (was built).
    pub fn is_running(&self, id: &str) -> bool {
        self.running.contains_key(id)
    }

    /// Stop `id` and wait (bounded) until its task has ended.
    pub fn stop(&mut self, id: &str) {
        self.spawn_pending();
        let Some(running) = self.running.remove(id) else {
            return;
        };
        running.cancel.cancel();
        // The timer must be created inside the runtime, hence the async block.
        let waited = self
            .tokio
            .block_on(async { tokio::time::timeout(STOP_DEADLINE, running.done).await });
        if waited.is_err() {
            tracing::warn!(component = %id, "component did not stop within the deadline");
        }
    }

    /// Drop `value` on a blocking tokio thread: for large structures (a
    /// whole plan's syntax trees) whose freeing should not hold up the
    /// control plane.
    pub fn drop_later<T: Send + 'static>(&self, value: T) {
        self.tokio.spawn_blocking(move || drop(value));
    }

    /// Stop everything (process shutdown).
    pub fn stop_all(&mut self) {
        let ids: Vec<String> = self.running.keys().cloned().collect();
        for id in ids {
            self.stop(&id);
        }
    }
}
