//! The control-plane thread: owns the differential control plane and the
//! component lifecycle, and applies loads and export changes one batch at a
//! time.
//!
//! The control plane is a timely worker and is not `Send`, so it lives on its
//! own thread; everything reaches it as a [`Command`]. Export changes that
//! arrive together are applied as one epoch, so a dependant of several changed
//! nodes is evaluated once (Alloy batches its queue for the same reason).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use smelter_dataflows::control_plane::{ArgsChange, Change, ControlPlane, NodeId};
use tokio::sync::{mpsc, oneshot};

use super::lifecycle::Lifecycle;
use super::state::{NodeState, SharedState};
use crate::component::{ExportsChange, Health};
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
    shared: Arc<SharedState>,
}

impl Engine {
    pub fn new(lifecycle: Lifecycle, shared: Arc<SharedState>, stability: StabilityLevel) -> Self {
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

        let mut result = self.apply(changes);
        // Components built by this load published their first exports while
        // being built (as Alloy's `New` does through `OnStateChange`). Feed
        // them in now, so that their dependants are evaluated as part of this
        // load, as in Alloy's topological walk: the load's outcome (and
        // `/-/ready`) then covers them. The same values arriving later
        // through the exports channel are no-ops in the control plane.
        loop {
            let built = self.lifecycle.take_built();
            if built.is_empty() {
                break;
            }
            let exports: Vec<_> = {
                let interner = self.interner.borrow();
                let nodes = read_nodes(&self.shared);
                built
                    .iter()
                    .filter_map(|id| {
                        let value = nodes.get(id)?.exports.as_ref()?.current();
                        let node = interner.get(id)?;
                        (value != Value::Null).then_some(Change::Export {
                            node,
                            value: Some(value),
                        })
                    })
                    .collect()
            };
            if let Err(e) = self.apply(exports) {
                result = match result {
                    Ok(()) => Err(e),
                    Err(earlier) => Err(format!("{earlier}\n{e}")),
                };
            }
        }
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
        for ArgsChange { node, new, .. } in args {
            let Some(id) = self.interner.borrow().name(node).map(str::to_string) else {
                continue;
            };
            let shared = self.shared.clone();
            let mut nodes = write_nodes(&shared);
            let Some(state) = nodes.get_mut(&id) else {
                continue;
            };
            match new {
                Some(Ok(value)) => {
                    if let Err(e) = self.lifecycle.apply_args(&id, state, value) {
                        // Positioned like an evaluation error: the block.
                        let at = self
                            .current
                            .get(&id)
                            .map(|n| n.file.position(n.block.name_pos).to_string())
                            .unwrap_or_default();
                        errors.push(format!("{at}: {id}: {e}"));
                    }
                }
                Some(Err(e)) => {
                    state
                        .eval_health
                        .unhealthy(format!("component evaluation failed: {e}"));
                    errors.push(e);
                }
                // Removed, or waiting for a dependency's first exports.
                None => {}
            }
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

fn read_nodes(shared: &SharedState) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, NodeState>> {
    match shared.nodes.read() {
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
