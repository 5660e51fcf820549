//! The control-plane thread: owns the differential control plane and the
//! component lifecycle, and applies loads and export changes one batch at a
//! time.
//!
//! The control plane is a timely worker and is not `Send`, so it lives on its
//! own thread; everything reaches it as a [`Command`]. Export changes that
//! arrive together are applied as one epoch, so a dependant of several changed
//! nodes is evaluated once (Alloy batches its queue for the same reason).
//!
//! The thread also keeps the data plane in step ([`super::data_plane`]): after
//! each batch of argument changes it builds processors and sinks, syncs the
//! data plane (rebuild only if edges changed, else `update_args`), then builds
//! new sources with the handle they push into.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use smelter_dataflows::control_plane::{ArgsChange, Change, ControlPlane, NodeId};
use tokio::sync::{mpsc, oneshot};

use super::data_plane::DataPlaneRuntime;
use super::lifecycle::Lifecycle;
use super::state::{NodeState, SharedState};
use crate::component::registry::{self, data_plane_role};
use crate::component::{DataPlaneLink, DataPlaneRole, ExportsChange, Health};
use crate::controller::arguments::evaluate_body;
use crate::controller::loader::{Plan, PlannedNode};
use crate::syntax::ast::BlockStmt;
use crate::syntax::{EvalContext, Scope, SourceFile, StabilityLevel, Value};

pub(crate) enum Command {
    /// Install a checked plan; the reply carries evaluation errors, if any.
    Load {
        plan: Plan,
        reply: oneshot::Sender<Result<(), String>>,
    },
    Exports(ExportsChange),
    Shutdown(oneshot::Sender<()>),
}

/// Node names ↔ the control plane's dense IDs.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, NodeId>,
    names: Vec<String>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> NodeId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = NodeId(self.names.len() as u32);
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    fn get(&self, name: &str) -> Option<NodeId> {
        self.ids.get(name).copied()
    }

    fn name(&self, id: NodeId) -> Option<&str> {
        self.names.get(id.0 as usize).map(String::as_str)
    }
}

/// A block body the control plane refers to by its text hash.
struct Body {
    file: SourceFile,
    block: Arc<BlockStmt>,
}

type Bodies = Rc<RefCell<HashMap<u64, Body>>>;

pub(crate) struct Engine {
    plane: ControlPlane<u64, Value, String>,
    bodies: Bodies,
    interner: Rc<RefCell<Interner>>,
    current: BTreeMap<String, PlannedNode>,
    lifecycle: Lifecycle,
    data_plane: DataPlaneRuntime,
    shared: Arc<SharedState>,
}

impl Engine {
    pub fn new(
        lifecycle: Lifecycle,
        shared: Arc<SharedState>,
        stability: StabilityLevel,
        workers: usize,
    ) -> Self {
        let bodies: Bodies = Rc::default();
        let interner: Rc<RefCell<Interner>> = Rc::default();
        let (b, i) = (bodies.clone(), interner.clone());
        let plane = ControlPlane::new(move |_node, key: &u64, deps: &[(NodeId, Value)]| {
            evaluate(&b, &i, stability, *key, deps)
        });
        Engine {
            plane,
            bodies,
            interner,
            current: BTreeMap::new(),
            lifecycle,
            data_plane: DataPlaneRuntime::new(workers, shared.data_plane.clone()),
            shared,
        }
    }

    /// Serve commands until shutdown or until every sender is gone.
    pub fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        while let Some(first) = commands.blocking_recv() {
            let mut exports = Vec::new();
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Exports(change) => exports.push(change),
                    Command::Load { plan, reply } => {
                        self.apply_exports(std::mem::take(&mut exports));
                        let _ = reply.send(self.load(plan));
                    }
                    Command::Shutdown(done) => {
                        self.lifecycle.stop_all();
                        let _ = done.send(());
                        return;
                    }
                }
                next = commands.try_recv().ok();
            }
            self.apply_exports(exports);
        }
        self.lifecycle.stop_all();
    }

    fn load(&mut self, plan: Plan) -> Result<(), String> {
        let mut changes = Vec::new();
        let new: BTreeMap<String, PlannedNode> =
            plan.nodes.into_iter().map(|n| (n.id.clone(), n)).collect();

        let removed: Vec<String> = self
            .current
            .keys()
            .filter(|id| !new.contains_key(*id))
            .cloned()
            .collect();
        for id in &removed {
            self.lifecycle.stop(id);
            self.data_plane.remove(id);
            self.write_nodes().remove(id);
            if let Some(node) = self.interner.borrow().get(id) {
                changes.push(Change::Remove { node });
            }
        }

        for (id, node) in &new {
            let unchanged = self
                .current
                .get(id)
                .is_some_and(|old| old.text_hash == node.text_hash && old.deps == node.deps);
            if unchanged {
                continue;
            }
            let mut interner = self.interner.borrow_mut();
            let nid = interner.intern(id);
            let deps = node.deps.iter().map(|d| interner.intern(d)).collect();
            self.bodies.borrow_mut().insert(
                node.text_hash,
                Body {
                    file: node.file.clone(),
                    block: node.block.clone(),
                },
            );
            changes.push(Change::Upsert {
                node: nid,
                body: node.text_hash,
                deps,
            });
            let mut nodes = self.write_nodes();
            let state = nodes.entry(id.clone()).or_insert_with(|| NodeState {
                kind: node.kind.clone(),
                label: node.label.clone(),
                eval_health: Health::default(),
                run_health: Health::default(),
                component_health: Health::default(),
                arguments: Value::Null,
                exports: None,
                references_to: Vec::new(),
                evaluations: 0,
                updates: 0,
            });
            state.references_to = node.deps.clone();
        }
        self.current = new;

        let result = self.apply(changes);
        // Bodies no node uses any more.
        let live: std::collections::HashSet<u64> =
            self.current.values().map(|n| n.text_hash).collect();
        self.bodies.borrow_mut().retain(|k, _| live.contains(k));
        result
    }

    fn apply_exports(&mut self, exports: Vec<ExportsChange>) {
        if exports.is_empty() {
            return;
        }
        let changes: Vec<_> = {
            let interner = self.interner.borrow();
            exports
                .into_iter()
                .filter(|c| self.current.contains_key(&c.node))
                .filter_map(|c| {
                    interner.get(&c.node).map(|node| Change::Export {
                        node,
                        value: Some(c.exports),
                    })
                })
                .collect()
        };
        if let Err(e) = self.apply(changes) {
            tracing::warn!(error = %e, "evaluating after an exports change");
        }
    }

    /// Feed changes to the control plane and act on the arguments that changed.
    fn apply(&mut self, changes: Vec<Change<u64, Value>>) -> Result<(), String> {
        if changes.is_empty() {
            return Ok(());
        }
        let args = self.plane.apply(changes).map_err(|e| e.to_string())?;
        let mut errors = Vec::new();
        let mut evaluated = Vec::new();
        for ArgsChange { node, new, .. } in args {
            let Some(id) = self.interner.borrow().name(node).map(str::to_string) else {
                continue;
            };
            match new {
                Some(Ok(value)) => evaluated.push((id, value)),
                Some(Err(e)) => {
                    if let Some(state) = self.write_nodes().get_mut(&id) {
                        state
                            .eval_health
                            .unhealthy(format!("component evaluation failed: {e}"));
                    }
                    errors.push(e);
                }
                // Removed, or waiting for a dependency's first exports.
                None => {}
            }
        }
        // Data-plane sources are built last: they get the handle they push
        // into, so the plane must hold them first. Sinks and processors are
        // built before the plane is synced, so its graph can include them.
        let (sources, others): (Vec<_>, Vec<_>) = evaluated
            .into_iter()
            .partition(|(id, _)| matches!(self.role_of(id), Some(DataPlaneRole::Source)));
        for (id, value) in others {
            self.apply_component(&id, value, DataPlaneLink::default());
        }
        for (id, value) in &sources {
            let valid = self
                .kind_of(id)
                .and_then(|k| registry::find(&k))
                .is_some_and(|r| (r.validate)(value).is_ok());
            if valid {
                self.data_plane.set_source(id, value);
            }
        }
        self.data_plane.sync();
        for (id, value) in sources {
            let link = match self.lifecycle.is_running(&id) {
                false => self
                    .data_plane
                    .source(&id)
                    .map(DataPlaneLink::for_source)
                    .unwrap_or_default(),
                true => DataPlaneLink::default(),
            };
            self.apply_component(&id, value, link);
        }
        let counters = self.plane.counters().snapshot();
        let interner = self.interner.borrow();
        for (id, state) in self.write_nodes().iter_mut() {
            if let Some(nid) = interner.get(id) {
                state.evaluations = counters.get(&nid).copied().unwrap_or(0);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    fn kind_of(&self, id: &str) -> Option<String> {
        self.write_nodes().get(id).map(|n| n.kind.clone())
    }

    fn role_of(&self, id: &str) -> Option<DataPlaneRole> {
        self.kind_of(id).and_then(|k| data_plane_role(&k))
    }

    /// Hand new arguments to component `id` and, for a data-plane component,
    /// record what the data plane needs from them (synced by the caller).
    fn apply_component(&mut self, id: &str, value: Value, link: DataPlaneLink) {
        let shared = self.shared.clone();
        let mut nodes = write_nodes(&shared);
        let Some(state) = nodes.get_mut(id) else {
            return;
        };
        let role = data_plane_role(&state.kind);
        let touched = self
            .lifecycle
            .apply_args(id, state, value.clone(), link.clone());
        // Only arguments the component accepted reach the data plane; a
        // refused update keeps the last good ones there too.
        if state.arguments != value {
            return;
        }
        match role {
            Some(DataPlaneRole::Processor(compile)) if touched => match compile(&value) {
                Ok(op) => self.data_plane.set_processor(id, &value, op),
                Err(e) => state
                    .eval_health
                    .unhealthy(format!("compiling the processor: {e}")),
            },
            Some(DataPlaneRole::Sink) => self.data_plane.set_sink(id, link.take_sink()),
            _ => {}
        }
    }

    fn write_nodes(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, NodeState>> {
        write_nodes(&self.shared)
    }
}

fn write_nodes(
    shared: &SharedState,
) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, NodeState>> {
    match shared.nodes.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The control plane's evaluation function: one block, in a scope holding the
/// exports of the nodes it references.
fn evaluate(
    bodies: &Bodies,
    interner: &Rc<RefCell<Interner>>,
    stability: StabilityLevel,
    key: u64,
    deps: &[(NodeId, Value)],
) -> Result<Value, String> {
    let bodies = bodies.borrow();
    let body = bodies
        .get(&key)
        .ok_or_else(|| "internal error: block body not found".to_string())?;
    let interner = interner.borrow();
    let mut scope = Scope::new();
    for (dep, exports) in deps {
        if let Some(name) = interner.name(*dep) {
            let path: Vec<&str> = name.split('.').collect();
            scope.insert_path(&path, exports.clone());
        }
    }
    let ctx = EvalContext::new(&body.file, &scope).with_stability(stability);
    evaluate_body(&ctx, &body.block.body).map_err(|diags| {
        diags
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })
}
