//! Building, updating and stopping components as their arguments change.
//!
//! The control plane says *which* nodes have new arguments; this module acts on
//! it, the way Alloy's builtin component node does: build on the first valid
//! arguments, hand later ones to the running task (never a restart), keep the
//! last good arguments when an evaluation or validation fails (and say so in
//! the node's health), and on removal cancel the task and wait for it so that
//! what it held (files, sockets) is released before the reload returns.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::state::NodeState;
use crate::component::{
    registry, Build, BuildContext, Component, ComponentError, DataPlaneLink, Derive, Exports,
    ExportsChange, Health, HealthState, RunContext,
};
use crate::controller::id_map::IdMap;
use crate::controller::per_core::in_runs;
use crate::syntax::Value;

/// How long a stopping component may take before the runtime stops waiting.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

enum Running {
    /// A component with its own task.
    Task {
        cancel: CancellationToken,
        args: watch::Sender<Arc<Value>>,
        /// Closed when the task has ended (its sender lives in the task).
        done: oneshot::Receiver<()>,
    },
    /// A [`Build::Derived`] kind, whose exports this runtime derives on
    /// every update into the node's exports and health: nothing runs,
    /// nothing to stop.
    Derived(Derive),
}

/// What a build made.
enum Built {
    Task(Box<dyn Component>),
    /// The exports were derived and published.
    Derived(Derive),
}

/// A component's task, built but not yet handed to tokio.
type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Fewer first builds than this in one epoch are built one after the other:
/// below it, starting threads costs more than the builds.
const PARALLEL_BUILD_MIN: usize = 256;

/// A component to build ahead of [`Lifecycle::apply_args`]: see
/// [`Lifecycle::prebuild`].
pub(crate) struct BuildJob {
    pub id: String,
    pub registration: &'static registry::Registration,
    /// The node's component health, which the component reports into.
    pub health: Health,
    pub args: Arc<Value>,
}

/// A component built (ahead, or in place), with the exports handle it was
/// built with.
struct Prebuilt {
    exports: Exports,
    built: Result<Built, ComponentError>,
}

/// What every build gets besides its own arguments, shareable between
/// the threads of [`Lifecycle::prebuild`].
struct BuildEnv<'a> {
    tokio: &'a Handle,
    storage_path: &'a Arc<Path>,
    http_listen_addr: Option<SocketAddr>,
    exports_tx: &'a mpsc::UnboundedSender<ExportsChange>,
}

impl BuildEnv<'_> {
    /// Build component `id` with `health` and `args`: the builder alone,
    /// no task yet. Runs inside the tokio context: a builder may spawn.
    fn build(
        &self,
        id: &str,
        registration: &registry::Registration,
        health: &Health,
        args: &Value,
        link: DataPlaneLink,
    ) -> Prebuilt {
        let exports = Exports::new(id, self.exports_tx.clone());
        let build = match registration.build {
            Build::Task(build) => build,
            Build::Derived(kind) => {
                let built = (kind.derive)(args).map(|value| {
                    // Published at once, as a build does, so dependants can
                    // be evaluated in the next epoch.
                    exports.publish(value);
                    health.healthy(kind.healthy);
                    Built::Derived(kind)
                });
                return Prebuilt { exports, built };
            }
        };
        let ctx = BuildContext {
            id: id.to_string(),
            storage_path: self.storage_path.clone(),
            http_listen_addr: self.http_listen_addr,
            exports: exports.clone(),
            health: health.clone(),
            data_plane: link,
        };
        let _guard = self.tokio.enter();
        Prebuilt {
            exports,
            built: build(ctx, args).map(Built::Task),
        }
    }
}

pub(crate) struct Lifecycle {
    tokio: Handle,
    storage_path: Arc<Path>,
    http_listen_addr: Option<SocketAddr>,
    exports_tx: mpsc::UnboundedSender<ExportsChange>,
    running: IdMap<String, Running>,
    /// Components built since the last [`Lifecycle::take_built`].
    built: Vec<String>,
    /// Tasks built during the current epoch: spawned together by
    /// [`Lifecycle::spawn_pending`], from inside the runtime, because each
    /// `spawn` from this (non-tokio) thread wakes a parked worker — a
    /// syscall per component when 100 k are built.
    pending: Vec<Pending>,
    /// Components built by [`Lifecycle::prebuild`] and not yet applied.
    prebuilt: IdMap<String, Prebuilt>,
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
            running: IdMap::default(),
            built: Vec::new(),
            pending: Vec::new(),
            prebuilt: IdMap::default(),
        }
    }

    fn env(&self) -> BuildEnv<'_> {
        BuildEnv {
            tokio: &self.tokio,
            storage_path: &self.storage_path,
            http_listen_addr: self.http_listen_addr,
            exports_tx: &self.exports_tx,
        }
    }

    /// Build `jobs` — first builds of components outside the data plane,
    /// none of them running — on every core, for the
    /// [`Lifecycle::apply_args`] calls that follow in the same epoch: a
    /// first load of 100 k components spends a third of its control-plane
    /// time in builders (decoding arguments, computing first exports).
    /// What `apply_args` does not take is dropped by
    /// [`Lifecycle::discard_prebuilt`].
    pub fn prebuild(&mut self, jobs: Vec<BuildJob>) {
        if jobs.len() < PARALLEL_BUILD_MIN {
            return;
        }
        let env = self.env();
        let built = in_runs(&jobs, PARALLEL_BUILD_MIN / 2, |_, run| {
            run.iter()
                .map(|job| {
                    let built = env.build(
                        &job.id,
                        job.registration,
                        &job.health,
                        &job.args,
                        DataPlaneLink::default(),
                    );
                    (job.id.clone(), built)
                })
                .collect::<Vec<_>>()
        });
        self.prebuilt.extend(built.into_iter().flatten());
    }

    /// Drop the components built ahead that no `apply_args` took (their
    /// node was dropped from the epoch's work meanwhile).
    pub fn discard_prebuilt(&mut self) {
        self.prebuilt.clear();
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
            match running {
                // The task reads the newest value whenever it gets to it.
                Running::Task { args: tx, .. } => {
                    tx.send_replace(args.clone());
                }
                // As `run_derived_exports` does in a task: a derivation
                // error keeps the last exports.
                Running::Derived(kind) => match (kind.derive)(&args) {
                    Ok(value) => {
                        if let Some(exports) = &node.exports {
                            exports.publish(value);
                        }
                        node.component_health.healthy(kind.healthy);
                    }
                    Err(e) => node.component_health.unhealthy(e.to_string()),
                },
            }
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
        // A node is built once (a failed build resets it): the health it
        // was created with is still the untouched default, and the
        // component reports into it.
        // Building may do blocking I/O (open a database, bind a socket).
        let Prebuilt { exports, built } = match self.prebuilt.remove(id) {
            Some(built) => built,
            None => self
                .env()
                .build(id, registration, &node.component_health, args, link),
        };
        let running = match built {
            Ok(Built::Task(component)) => self.task(id, node, component, args),
            Ok(Built::Derived(kind)) => Running::Derived(kind),
            Err(e) => {
                // What a failed build reported is not the next build's.
                node.component_health = Health::default();
                return Err(e);
            }
        };
        node.run_health.healthy("started component");
        node.exports = Some(exports);
        self.built.push(id.to_string());
        self.running.insert(id.to_string(), running);
        Ok(())
    }

    /// The task that runs `component`, queued for [`Lifecycle::spawn_pending`].
    fn task(
        &mut self,
        id: &str,
        node: &NodeState,
        component: Box<dyn Component>,
        args: &Arc<Value>,
    ) -> Running {
        let _guard = self.tokio.enter();
        let cancel = CancellationToken::new();
        // The task shares the control plane's arguments: components read
        // `RunContext::args`.
        let (args_tx, args_rx) = watch::channel(Arc::clone(args));
        let run = component.run(RunContext {
            args: args_rx,
            cancel: cancel.clone(),
        });
        let run_health = node.run_health.clone();
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
        Running::Task {
            cancel,
            args: args_tx,
            done,
        }
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
        let (cancel, done) = match self.running.remove(id) {
            Some(Running::Task { cancel, done, .. }) => (cancel, done),
            Some(Running::Derived(_)) => {
                // Nothing runs; logged as a task's end is, as Alloy does.
                tracing::info!(component = %id, "node exited without error");
                return;
            }
            None => return,
        };
        cancel.cancel();
        // The timer must be created inside the runtime, hence the async block.
        let waited = self
            .tokio
            .block_on(async { tokio::time::timeout(STOP_DEADLINE, done).await });
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
