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
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use smelter_dataflows::control_plane::{ArgsChange, Change, ControlPlane, NodeId};
use tokio::sync::{mpsc, oneshot};

use super::data_plane::DataPlaneRuntime;
use super::lifecycle::{BuildJob, Lifecycle};
use super::shared_value::SharedValue;
use super::state::{NodeState, SharedState};
use crate::component::registry::{self, data_plane_role};
use crate::component::{DataPlaneLink, DataPlaneRole, ExportsChange, Health};
use crate::controller::arguments::evaluate_body;
use crate::controller::id_map::IdMap;
use crate::controller::incremental::Patch;
use crate::controller::loader::{Plan, PlannedNode};
use crate::syntax::ast::BlockStmt;
use crate::syntax::{
    Diagnostic, EvalContext, Pos, Position, Scope, SourceFile, StabilityLevel, Value,
};

pub(crate) enum Command {
    /// Install a checked plan; the reply carries evaluation errors, if any.
    Load {
        plan: Plan,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Replace the installed nodes of the same IDs (an incremental reload
    /// of a plan whose other nodes did not change); reply as for `Load`.
    Patch {
        patch: Patch,
        reply: oneshot::Sender<Result<(), String>>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// Node names ↔ the control plane's dense IDs.
#[derive(Default)]
struct Interner {
    ids: IdMap<String, NodeId>,
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

    /// Room for `additional` more names without rehashing: a first load
    /// interns every node at once.
    fn reserve(&mut self, additional: usize) {
        self.ids.reserve(additional);
        self.names.reserve(additional);
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
    /// The file, or the fragment of it, that the block's positions refer to.
    file: SourceFile,
    block: Arc<BlockStmt>,
    /// How many shifts of its file ([`FileHistory`]) had been applied when
    /// the block was installed: the later ones moved it.
    shifts_seen: usize,
}

/// One configuration file as the running graph knows it: its current text,
/// and the shifts incremental reloads applied since the last full load.
/// A block whose text did not change keeps its syntax tree (and its
/// positions in the text it was parsed from) when an edit before it moves
/// it; its positions are mapped through the shifts that followed, so
/// errors name the current `file:line:col`.
struct FileHistory {
    current: SourceFile,
    /// (offset in the text before the shift, bytes added from there on).
    shifts: Vec<(Pos, i64)>,
}

/// The syntax the control plane's evaluation reads.
#[derive(Default)]
struct Texts {
    bodies: HashMap<u64, Body>,
    files: HashMap<Arc<str>, FileHistory>,
}

impl Texts {
    /// Install the body of text hash `hash`, parsed from `file`'s current
    /// text (or a fragment of it).
    fn install(&mut self, hash: u64, file: &SourceFile, block: &Arc<BlockStmt>) {
        let shifts_seen = self.files.get(file.name()).map_or(0, |h| h.shifts.len());
        self.bodies.insert(
            hash,
            Body {
                file: file.clone(),
                block: block.clone(),
                shifts_seen,
            },
        );
    }

    /// `position`, found in `body`'s text, as a position in its file now.
    fn locate(&self, body: &Body, position: &Position) -> Position {
        if !position.is_valid() {
            return position.clone();
        }
        let Some(history) = self.files.get(&*position.filename) else {
            return position.clone();
        };
        let mut offset = i64::from(position.offset);
        for &(at, delta) in history.shifts.iter().skip(body.shifts_seen) {
            if offset >= i64::from(at) {
                offset += delta;
            }
        }
        Pos::try_from(offset).map_or_else(|_| position.clone(), |o| history.current.position(o))
    }

    /// A diagnostic of `body`'s evaluation, positioned in its file now.
    fn relocate(&self, body: &Body, mut diag: Diagnostic) -> Diagnostic {
        diag.start = self.locate(body, &diag.start);
        diag.end = self.locate(body, &diag.end);
        diag
    }
}

type Bodies = Rc<RefCell<Texts>>;

/// Nodes evaluated during the current epoch (possibly repeated), so that
/// the evaluation counters shown in the shared state are refreshed for those
/// nodes only instead of for the whole graph after every epoch.
type Evaluated = Rc<RefCell<Vec<NodeId>>>;

/// How many argument changes are applied under one hold of the shared
/// state's write lock: fewer lock round trips, yet readers never wait long.
const LOCK_CHUNK: usize = 256;

pub(crate) struct Engine {
    plane: ControlPlane<u64, SharedValue, String>,
    bodies: Bodies,
    interner: Rc<RefCell<Interner>>,
    evaluated: Evaluated,
    /// The installed plan by node ID (a hash map: a reload looks up every
    /// node once and never needs them in order).
    current: IdMap<String, PlannedNode>,
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
        let evaluated: Evaluated = Rc::default();
        let (b, i, e) = (bodies.clone(), interner.clone(), evaluated.clone());
        let plane = ControlPlane::new(move |node, key: &u64, deps: &[(NodeId, SharedValue)]| {
            e.borrow_mut().push(node);
            evaluate(&b, &i, stability, *key, deps)
        });
        Engine {
            plane,
            bodies,
            interner,
            evaluated,
            current: IdMap::default(),
            lifecycle,
            data_plane: DataPlaneRuntime::new(workers, shared.data_plane.clone()),
            shared,
        }
    }

    /// Serve commands and export changes until shutdown or until every
    /// command sender is gone.
    ///
    /// Export changes come straight from the components' [`Exports`]
    /// handles: those published while building (on this thread) are all
    /// queued by the time an epoch ends, so the next epoch takes them as one
    /// batch.
    ///
    /// [`Exports`]: crate::component::Exports
    pub fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut exports_rx: mpsc::UnboundedReceiver<ExportsChange>,
    ) {
        let waiter = match tokio::runtime::Builder::new_current_thread().build() {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!(error = %e, "control plane: cannot wait for commands");
                self.lifecycle.stop_all();
                return;
            }
        };
        let mut exports_open = true;
        loop {
            enum Next {
                Command(Option<Command>),
                Exports(Option<ExportsChange>),
            }
            let next = waiter.block_on(async {
                tokio::select! {
                    biased;
                    e = exports_rx.recv(), if exports_open => Next::Exports(e),
                    c = commands.recv() => Next::Command(c),
                }
            });
            let mut exports = Vec::new();
            let mut pending = Vec::new();
            match next {
                Next::Command(None) => break,
                Next::Command(Some(c)) => pending.push(c),
                Next::Exports(Some(e)) => exports.push(e),
                Next::Exports(None) => exports_open = false,
            }
            // Everything queued so far, as one batch.
            while let Ok(e) = exports_rx.try_recv() {
                exports.push(e);
            }
            while let Ok(c) = commands.try_recv() {
                pending.push(c);
            }
            for command in pending {
                match command {
                    Command::Load { plan, reply } => {
                        self.apply_exports(std::mem::take(&mut exports));
                        let _ = reply.send(self.load(plan));
                    }
                    Command::Patch { patch, reply } => {
                        self.apply_exports(std::mem::take(&mut exports));
                        let _ = reply.send(self.patch(patch));
                    }
                    Command::Shutdown(done) => {
                        self.lifecycle.stop_all();
                        let _ = done.send(());
                        return;
                    }
                }
            }
            self.apply_exports(exports);
        }
        self.lifecycle.stop_all();
    }

    fn load(&mut self, plan: Plan) -> Result<(), String> {
        let mut changes = Vec::new();
        let new: IdMap<String, PlannedNode> =
            plan.nodes.into_iter().map(|n| (n.id.clone(), n)).collect();
        // Bodies that may have lost their node: those of changed and removed
        // nodes (kept O(changed) rather than a sweep over every body).
        let mut stale_bodies = Vec::new();

        let removed: Vec<String> = self
            .current
            .keys()
            .filter(|id| !new.contains_key(*id))
            .cloned()
            .collect();
        for id in &removed {
            if let Some(old) = self.current.get(id) {
                stale_bodies.push(old.text_hash);
            }
            self.lifecycle.stop(id);
            self.data_plane.remove(id);
            self.write_nodes().remove(id);
            if let Some(node) = self.interner.borrow().get(id) {
                changes.push(Change::Remove { node });
            }
        }

        let unknown = new.len().saturating_sub(self.current.len());
        self.interner.borrow_mut().reserve(unknown);
        self.write_nodes().reserve(unknown);
        self.upsert(new.values(), &mut changes, &mut stale_bodies);
        {
            // A full load starts the files' histories afresh: every body,
            // changed or not, now refers to the text just loaded.
            let mut texts = self.bodies.borrow_mut();
            texts.files.clear();
            for node in new.values() {
                texts
                    .files
                    .entry(node.file.name().clone())
                    .or_insert_with(|| FileHistory {
                        current: node.file.clone(),
                        shifts: Vec::new(),
                    });
            }
            for node in new.values() {
                texts.install(node.text_hash, &node.file, &node.block);
            }
        }
        let previous = std::mem::replace(&mut self.current, new);
        // The previous plan holds a whole syntax tree (every block of the last
        // reload): free it off the control-plane thread.
        self.lifecycle.drop_later(previous);
        self.settle(changes, stale_bodies)
    }

    /// Install the patch's nodes over the nodes of the same IDs; every other
    /// node is unchanged, so the work is proportional to the patch.
    fn patch(&mut self, patch: Patch) -> Result<(), String> {
        let Patch { nodes, files } = patch;
        let mut changes = Vec::new();
        let mut stale_bodies = Vec::new();
        self.upsert(nodes.iter(), &mut changes, &mut stale_bodies);
        {
            let mut texts = self.bodies.borrow_mut();
            for edit in files {
                let history = texts
                    .files
                    .entry(edit.file.name().clone())
                    .or_insert_with(|| FileHistory {
                        current: edit.file.clone(),
                        shifts: Vec::new(),
                    });
                if edit.delta != 0 {
                    history.shifts.push((edit.at, edit.delta));
                }
                history.current = edit.file;
            }
            // Every node of the patch, changed or not: an unchanged one may
            // have moved within the changed region.
            for node in &nodes {
                texts.install(node.text_hash, &node.file, &node.block);
            }
        }
        for node in nodes {
            self.current.insert(node.id.clone(), node);
        }
        self.settle(changes, stale_bodies)
    }

    /// Queue an upsert for each of `nodes` whose text or references differ
    /// from the installed node of its ID, with its bookkeeping.
    /// The caller installs the bodies; `stale` gets the text hashes of the
    /// bodies replaced.
    fn upsert<'a>(
        &self,
        nodes: impl Iterator<Item = &'a PlannedNode>,
        changes: &mut Vec<Change<u64, SharedValue>>,
        stale: &mut Vec<u64>,
    ) {
        let mut interner = self.interner.borrow_mut();
        let mut states = write_nodes(&self.shared);
        let null = Arc::new(Value::Null);
        for node in nodes {
            let id = &node.id;
            let old = self.current.get(id);
            if let Some(old) = old.filter(|old| old.text_hash != node.text_hash) {
                stale.push(old.text_hash);
            }
            let unchanged =
                old.is_some_and(|old| old.text_hash == node.text_hash && old.deps == node.deps);
            if unchanged {
                continue;
            }
            let nid = interner.intern(id);
            let deps = node.deps.iter().map(|d| interner.intern(d)).collect();
            changes.push(Change::Upsert {
                node: nid,
                body: node.text_hash,
                deps,
            });
            let state = states.entry(id.clone()).or_insert_with(|| NodeState {
                kind: node.kind.clone(),
                label: node.label.clone(),
                eval_health: Health::default(),
                run_health: Health::default(),
                component_health: Health::default(),
                arguments: null.clone(),
                exports: None,
                references_to: Vec::new(),
                evaluations: 0,
                updates: 0,
            });
            state.references_to = node.deps.clone();
        }
    }

    /// Apply a load's changes, then evaluate the dependants of the
    /// components it built; drop the bodies no node uses any more.
    fn settle(
        &mut self,
        changes: Vec<Change<u64, SharedValue>>,
        stale_bodies: Vec<u64>,
    ) -> Result<(), String> {
        // A body is keyed by its file name and text, which name its node, so
        // a stale body is live again only if a changed node now has it.
        let upserted: std::collections::HashSet<u64> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Upsert { body, .. } => Some(*body),
                _ => None,
            })
            .collect();
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
                        // Shared with the handle: the same `Arc` arrives
                        // again through the exports channel and compares
                        // equal by pointer.
                        let value = nodes.get(id)?.exports.as_ref()?.shared();
                        let node = interner.get(id)?;
                        (*value != Value::Null).then_some(Change::Export {
                            node,
                            value: Some(SharedValue(value)),
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
        if !stale_bodies.is_empty() {
            let live = upserted;
            let mut texts = self.bodies.borrow_mut();
            for hash in stale_bodies {
                if !live.contains(&hash) {
                    texts.bodies.remove(&hash);
                }
            }
        }
        self.shared
            .set_retained_bodies(self.bodies.borrow().bodies.len());
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
                        value: Some(SharedValue(c.exports)),
                    })
                })
                .collect()
        };
        if let Err(e) = self.apply(changes) {
            tracing::warn!(error = %e, "evaluating after an exports change");
        }
    }

    /// Feed changes to the control plane and act on the arguments that changed.
    fn apply(&mut self, changes: Vec<Change<u64, SharedValue>>) -> Result<(), String> {
        if changes.is_empty() {
            return Ok(());
        }
        self.evaluated.borrow_mut().clear();
        let args = self.plane.apply(changes).map_err(|e| e.to_string())?;
        let mut errors = Vec::new();
        // Sort the changes out under one borrow, then act on them: building a
        // component needs the engine mutably.
        let mut fresh: Vec<(String, Arc<Value>, bool)> = Vec::new();
        {
            let interner = self.interner.borrow();
            let mut nodes = write_nodes(&self.shared);
            for ArgsChange { node, new, .. } in args {
                let Some(id) = interner.name(node) else {
                    continue;
                };
                match new {
                    Some(Ok(value)) => {
                        // Whether it is a data-plane source, looked up under
                        // the lock already held.
                        let source = nodes.get(id).is_some_and(|s| {
                            matches!(data_plane_role(&s.kind), Some(DataPlaneRole::Source))
                        });
                        fresh.push((id.to_string(), value.0, source));
                    }
                    Some(Err(e)) => {
                        if let Some(state) = nodes.get_mut(id) {
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
        }
        // Data-plane sources are built last: they get the handle they push
        // into, so the plane must hold them first. Sinks and processors are
        // built before the plane is synced, so its graph can include them.
        let (sources, others): (Vec<_>, Vec<_>) =
            fresh.into_iter().partition(|(_, _, source)| *source);
        self.prebuild(&others);
        for (id, value, _) in others {
            self.apply_component(&id, value, DataPlaneLink::default(), &mut errors);
        }
        self.lifecycle.discard_prebuilt();
        for (id, value, _) in &sources {
            let valid = self
                .kind_of(id)
                .and_then(|k| registry::find(&k))
                .is_some_and(|r| (r.validate)(value).is_ok());
            if valid {
                self.data_plane.set_source(id, value);
            }
        }
        self.data_plane.sync();
        for (id, value, _) in sources {
            let link = match self.lifecycle.is_running(&id) {
                false => self
                    .data_plane
                    .source(&id)
                    .map(DataPlaneLink::for_source)
                    .unwrap_or_default(),
                true => DataPlaneLink::default(),
            };
            self.apply_component(&id, value, link, &mut errors);
        }
        self.lifecycle.spawn_pending();
        // Refresh the counters of the nodes evaluated in this epoch only.
        let mut evaluated = std::mem::take(&mut *self.evaluated.borrow_mut());
        evaluated.sort_unstable();
        evaluated.dedup();
        let counters = self.plane.counters();
        let interner = self.interner.borrow();
        for chunk in evaluated.chunks(LOCK_CHUNK) {
            let mut nodes = write_nodes(&self.shared);
            for &nid in chunk {
                if let Some(state) = interner.name(nid).and_then(|id| nodes.get_mut(id)) {
                    state.evaluations = counters.get(nid);
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    /// Build ahead, on every core, the components of `fresh` that are
    /// built for the first time and are not part of the data plane (whose
    /// builds wait for the plane's links).
    fn prebuild(&mut self, fresh: &[(String, Arc<Value>, bool)]) {
        let jobs: Vec<BuildJob> = {
            let nodes = read_nodes(&self.shared);
            fresh
                .iter()
                .filter(|(id, _, _)| !self.lifecycle.is_running(id))
                .filter_map(|(id, args, _)| {
                    let state = nodes.get(id)?;
                    if data_plane_role(&state.kind).is_some() {
                        return None;
                    }
                    Some(BuildJob {
                        id: id.clone(),
                        registration: registry::find(&state.kind)?,
                        health: state.component_health.clone(),
                        args: args.clone(),
                    })
                })
                .collect()
        };
        self.lifecycle.prebuild(jobs);
    }

    fn kind_of(&self, id: &str) -> Option<String> {
        self.write_nodes().get(id).map(|n| n.kind.clone())
    }

    /// Hand new arguments to component `id` and, for a data-plane component,
    /// record what the data plane needs from them (synced by the caller).
    fn apply_component(
        &mut self,
        id: &str,
        value: Arc<Value>,
        link: DataPlaneLink,
        errors: &mut Vec<String>,
    ) {
        let shared = self.shared.clone();
        let mut nodes = write_nodes(&shared);
        let Some(state) = nodes.get_mut(id) else {
            return;
        };
        let role = data_plane_role(&state.kind);
        let touched = match self
            .lifecycle
            .apply_args(id, state, value.clone(), link.clone())
        {
            Ok(touched) => touched,
            Err(e) => {
                // Positioned like an evaluation error: the block, where it
                // is now.
                let at = self
                    .current
                    .get(id)
                    .map(|n| {
                        let texts = self.bodies.borrow();
                        let here = n.file.position(n.block.name_pos);
                        match texts.bodies.get(&n.text_hash) {
                            Some(body) => texts.locate(body, &here).to_string(),
                            None => here.to_string(),
                        }
                    })
                    .unwrap_or_default();
                errors.push(format!("{at}: {id}: {e}"));
                false
            }
        };
        if touched {
            shared.count_update();
        }
        // Only arguments the component accepted reach the data plane; a
        // refused update keeps the last good ones there too.
        if !Arc::ptr_eq(&state.arguments, &value) && state.arguments != value {
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

    fn write_nodes(&self) -> std::sync::RwLockWriteGuard<'_, IdMap<String, NodeState>> {
        write_nodes(&self.shared)
    }
}

fn write_nodes(shared: &SharedState) -> std::sync::RwLockWriteGuard<'_, IdMap<String, NodeState>> {
    match shared.nodes.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn read_nodes(shared: &SharedState) -> std::sync::RwLockReadGuard<'_, IdMap<String, NodeState>> {
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
    deps: &[(NodeId, SharedValue)],
) -> Result<SharedValue, String> {
    let texts = bodies.borrow();
    let body = texts
        .bodies
        .get(&key)
        .ok_or_else(|| "internal error: block body not found".to_string())?;
    let interner = interner.borrow();
    let mut scope = Scope::new();
    for (dep, exports) in deps {
        if let Some(name) = interner.name(*dep) {
            // Read in place: no copy of the exports per evaluation.
            scope.borrow_path(name, &exports.0);
        }
    }
    let ctx = EvalContext::new(&body.file, &scope).with_stability(stability);
    evaluate_body(&ctx, &body.block.body)
        .map(SharedValue::new)
        .map_err(|diags| {
            diags
                .0
                .into_iter()
                .map(|d| texts.relocate(body, d).to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })
}
