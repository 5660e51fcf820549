//! What the runtime knows about each running component, shared with readers
//! (the HTTP server's components API, `/-/healthy`, `/metrics`).
//!
//! The control-plane thread is the only writer; readers take a snapshot under
//! a read lock, so a slow HTTP client never holds up evaluation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;

use crate::component::health::HealthReport;
use crate::component::{Exports, Health};
use crate::controller::id_map::IdMap;
use crate::syntax::Value;

/// One component as the outside world sees it.
#[derive(Debug, Clone)]
pub struct ComponentSnapshot {
    pub id: String,
    pub kind: String,
    pub label: String,
    /// The least healthy of evaluation, run and self-reported health.
    pub health: HealthReport,
    /// The arguments last applied to the running component.
    pub arguments: Value,
    pub exports: Value,
    /// Nodes this one references.
    pub references_to: Vec<String>,
    /// Nodes referencing this one.
    pub referenced_by: Vec<String>,
    /// How often its block was evaluated by the control plane.
    pub evaluations: u64,
    /// How often it was built or given new arguments.
    pub updates: u64,
}

/// Per-node bookkeeping kept by the runtime.
pub(crate) struct NodeState {
    pub kind: String,
    pub label: String,
    pub eval_health: Health,
    pub run_health: Health,
    pub component_health: Health,
    /// Shared with the control plane's output (no copy per update).
    pub arguments: std::sync::Arc<Value>,
    pub exports: Option<Exports>,
    pub references_to: Vec<String>,
    pub evaluations: u64,
    pub updates: u64,
}

impl NodeState {
    fn snapshot(&self, id: &str, referenced_by: Vec<String>) -> ComponentSnapshot {
        let reports = [
            self.eval_health.get(),
            self.run_health.get(),
            self.component_health.get(),
        ];
        ComponentSnapshot {
            id: id.to_string(),
            kind: self.kind.clone(),
            label: self.label.clone(),
            health: HealthReport::least_healthy(reports.iter()),
            arguments: Value::clone(&self.arguments),
            exports: self
                .exports
                .as_ref()
                .map(Exports::current)
                .unwrap_or(Value::Null),
            references_to: self.references_to.clone(),
            referenced_by,
            evaluations: self.evaluations,
            updates: self.updates,
        }
    }
}

/// The runtime's shared view.
#[derive(Default)]
pub struct SharedState {
    /// By ID. A hash map: the control plane looks nodes up several times
    /// per build, and in a 100 k-node `BTreeMap` each look-up was ~17
    /// string comparisons on IDs sharing long prefixes; readers sort.
    pub(crate) nodes: RwLock<IdMap<String, NodeState>>,
    ready: AtomicBool,
    last_load_ok: AtomicBool,
    last_load_success_unix: AtomicU64,
    load_failures: AtomicU64,
    /// Sum of every node's `updates`: a cheap progress signal (benchmarks,
    /// tests) that needs no snapshot of the whole graph.
    total_updates: AtomicU64,
    /// Block bodies the control plane holds: one per node when nothing
    /// leaks (tests of reloads check it).
    retained_bodies: AtomicU64,
    /// Data-plane builds and argument updates.
    pub(crate) data_plane: std::sync::Arc<super::data_plane::DataPlaneStats>,
}

impl SharedState {
    /// `/-/ready`: the first load succeeded.
    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub(crate) fn record_load(&self, ok: bool) {
        self.last_load_ok.store(ok, Ordering::Release);
        if ok {
            self.ready.store(true, Ordering::Release);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            self.last_load_success_unix.store(now, Ordering::Release);
        } else {
            self.load_failures.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// How many builds and argument updates the runtime has applied in all.
    pub fn total_updates(&self) -> u64 {
        self.total_updates.load(Ordering::Acquire)
    }

    /// How many block bodies (syntax trees) the control plane holds: one
    /// per installed node once a load or reload has settled.
    pub fn retained_bodies(&self) -> u64 {
        self.retained_bodies.load(Ordering::Acquire)
    }

    pub(crate) fn set_retained_bodies(&self, n: usize) {
        self.retained_bodies.store(n as u64, Ordering::Release);
    }

    pub(crate) fn count_update(&self) {
        self.total_updates.fetch_add(1, Ordering::AcqRel);
    }

    /// (last load succeeded, unix time of the last success, failed loads).
    pub fn load_status(&self) -> (bool, u64, u64) {
        (
            self.last_load_ok.load(Ordering::Acquire),
            self.last_load_success_unix.load(Ordering::Acquire),
            self.load_failures.load(Ordering::Acquire),
        )
    }

    /// How often the data plane was built: its first build plus every
    /// rebuild (edges changed). An arguments-only change does not count.
    pub fn data_plane_builds(&self) -> u64 {
        self.data_plane.builds()
    }

    /// Processor argument changes applied to the running data plane.
    pub fn data_plane_arg_updates(&self) -> u64 {
        self.data_plane.arg_updates()
    }

    /// Every component, sorted by ID.
    pub fn components(&self) -> Vec<ComponentSnapshot> {
        let nodes = match self.nodes.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut incoming = referenced_by_all(&nodes);
        let mut sorted: Vec<(&String, &NodeState)> = nodes.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        sorted
            .into_iter()
            .map(|(id, n)| n.snapshot(id, incoming.remove(id.as_str()).unwrap_or_default()))
            .collect()
    }

    /// One component.
    pub fn component(&self, id: &str) -> Option<ComponentSnapshot> {
        let nodes = match self.nodes.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        nodes
            .get(id)
            .map(|n| n.snapshot(id, referenced_by(&nodes, id)))
    }
}

/// Every node's incoming references (each list sorted), in one pass over
/// the edges.
fn referenced_by_all(nodes: &IdMap<String, NodeState>) -> BTreeMap<&str, Vec<String>> {
    let mut incoming: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (id, n) in nodes {
        for to in &n.references_to {
            incoming.entry(to.as_str()).or_default().push(id.clone());
        }
    }
    for list in incoming.values_mut() {
        list.sort_unstable();
    }
    incoming
}

fn referenced_by(nodes: &IdMap<String, NodeState>, id: &str) -> Vec<String> {
    let mut by: Vec<String> = nodes
        .iter()
        .filter(|(_, n)| n.references_to.iter().any(|r| r == id))
        .map(|(other, _)| other.clone())
        .collect();
    by.sort_unstable();
    by
}
