//! The runtime's side of the data plane: turns `forward_to` receivers into
//! dataflow edges and keeps the running [`DataPlane`] in step with the graph.
//!
//! In the data flow of `DESIGN.md` this sits between the control plane's
//! output (evaluated arguments, per node) and the data plane: the engine
//! tells it, for every data-plane component, its role (source, processor,
//! sink), its `forward_to` targets and, for processors, the operator compiled
//! from its arguments. [`DataPlaneRuntime::sync`] then does the least work
//! that makes the dataflow match (DESIGN, "Minimal recomputation"):
//!
//! - no data-plane component yet: nothing (the plane is built lazily);
//! - the set of components or edges changed: build the plane, or `rebuild`
//!   it (in-flight batches drain first; producers keep their handles);
//! - only processor arguments changed: `update_args`, no rebuild.
//!
//! The number of builds is published in [`DataPlaneStats`] so tests can prove
//! that an arguments-only change does not rebuild.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use smelter_dataflows::control_plane::NodeId;
use smelter_dataflows::{DataPlane, Graph};

use crate::component::{BatchProcessor, DataPlaneBatch, MetricsSink, MetricsSource};
use crate::syntax::Capsule;
use crate::syntax::Value;

/// A processor's arguments as the dataflow holds them: the compiled operator.
type ProcessorArgs = Arc<dyn BatchProcessor>;

/// Counters about the data plane, shared with readers (tests, `/metrics`).
#[derive(Debug, Default)]
pub struct DataPlaneStats {
    builds: AtomicU64,
    arg_updates: AtomicU64,
}

impl DataPlaneStats {
    /// Dataflows built: the first build plus every rebuild.
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::Acquire)
    }

    /// Processor argument changes applied without a rebuild.
    pub fn arg_updates(&self) -> u64 {
        self.arg_updates.load(Ordering::Acquire)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Source,
    Processor,
    Sink,
}

struct Node {
    kind: Kind,
    forward_to: Vec<String>,
    processor: Option<ProcessorArgs>,
    sink: Option<MetricsSink>,
    /// The processor's arguments changed since the last sync.
    dirty: bool,
}

/// What forces a rebuild when it changes: the components and the edges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Topology {
    nodes: BTreeMap<String, Kind>,
    edges: BTreeSet<(String, String)>,
}

pub(crate) struct DataPlaneRuntime {
    workers: usize,
    plane: Option<DataPlane<DataPlaneBatch, ProcessorArgs>>,
    ids: HashMap<String, NodeId>,
    nodes: BTreeMap<String, Node>,
    built: Topology,
    stats: Arc<DataPlaneStats>,
}

impl DataPlaneRuntime {
    pub fn new(workers: usize, stats: Arc<DataPlaneStats>) -> Self {
        DataPlaneRuntime {
            workers: workers.max(1),
            plane: None,
            ids: HashMap::new(),
            nodes: BTreeMap::new(),
            built: Topology::default(),
            stats,
        }
    }

    fn node_id(&mut self, id: &str) -> NodeId {
        let next = NodeId(self.ids.len() as u32);
        *self.ids.entry(id.to_string()).or_insert(next)
    }

    /// A source with (validated) arguments `args`.
    pub fn set_source(&mut self, id: &str, args: &Value) {
        self.node_id(id);
        let forward_to = forward_to(args);
        self.nodes
            .entry(id.to_string())
            .and_modify(|n| n.forward_to = forward_to.clone())
            .or_insert(Node {
                kind: Kind::Source,
                forward_to,
                processor: None,
                sink: None,
                dirty: false,
            });
    }

    /// A processor with (validated) arguments `args`, compiled into `op`.
    pub fn set_processor(&mut self, id: &str, args: &Value, op: ProcessorArgs) {
        self.node_id(id);
        let node = Node {
            kind: Kind::Processor,
            forward_to: forward_to(args),
            processor: Some(op),
            sink: None,
            dirty: true,
        };
        self.nodes.insert(id.to_string(), node);
    }

    /// A sink component built with `sink`. A later call without a sink (the
    /// component is already running) keeps the one it has.
    pub fn set_sink(&mut self, id: &str, sink: Option<MetricsSink>) {
        self.node_id(id);
        let node = self.nodes.entry(id.to_string()).or_insert(Node {
            kind: Kind::Sink,
            forward_to: Vec::new(),
            processor: None,
            sink: None,
            dirty: false,
        });
        if sink.is_some() {
            node.sink = sink;
        }
    }

    /// A component left the graph.
    pub fn remove(&mut self, id: &str) {
        self.nodes.remove(id);
    }

    /// The handle for source `id`, once the plane has it.
    pub fn source(&self, id: &str) -> Option<MetricsSource> {
        let nid = self.ids.get(id)?;
        self.plane.as_ref()?.source(*nid)
    }

    /// The components and edges the plane should have now. A sink whose
    /// component has not handed over its sink yet is left out, and so are
    /// edges to anything that is not a (ready) processor or sink.
    fn topology(&self) -> Topology {
        let mut nodes = BTreeMap::new();
        for (id, node) in &self.nodes {
            let ready = match node.kind {
                Kind::Source => true,
                Kind::Processor => node.processor.is_some(),
                Kind::Sink => node.sink.is_some(),
            };
            if ready {
                nodes.insert(id.clone(), node.kind);
            }
        }
        let mut edges = BTreeSet::new();
        for (id, node) in &self.nodes {
            if !nodes.contains_key(id) || node.kind == Kind::Sink {
                continue;
            }
            for to in &node.forward_to {
                match nodes.get(to) {
                    Some(Kind::Processor | Kind::Sink) => {
                        edges.insert((id.clone(), to.clone()));
                    }
                    _ => {
                        tracing::debug!(from = %id, to = %to, "forward_to target not in the data plane (yet)")
                    }
                }
            }
        }
        Topology { nodes, edges }
    }

    fn graph(&self, topology: &Topology) -> Graph<DataPlaneBatch, ProcessorArgs> {
        let mut graph = Graph::new();
        for (id, kind) in &topology.nodes {
            let (Some(nid), Some(node)) = (self.ids.get(id), self.nodes.get(id)) else {
                continue;
            };
            match (kind, &node.processor, &node.sink) {
                (Kind::Source, _, _) => {
                    graph.source(*nid);
                }
                (Kind::Processor, Some(op), _) => {
                    let id = id.clone();
                    graph.processor(*nid, op.clone(), move |op: &ProcessorArgs, batch| {
                        process_decoded(&id, op.as_ref(), batch)
                    });
                }
                (Kind::Sink, _, Some(sink)) => {
                    graph.sink_with(*nid, SharedSink(sink.clone()));
                }
                _ => {}
            }
        }
        for (from, to) in &topology.edges {
            if let (Some(f), Some(t)) = (self.ids.get(from), self.ids.get(to)) {
                // Batches hold many series: spread them over the workers.
                graph.edge(*f, *t);
            }
        }
        graph
    }

    /// Make the running dataflow match the components: build, rebuild (edges
    /// changed) or update arguments (only processor arguments changed).
    pub fn sync(&mut self) {
        let topology = self.topology();
        if self.plane.is_none() && topology.nodes.is_empty() {
            return;
        }
        if self.plane.is_none() || topology != self.built {
            let graph = self.graph(&topology);
            let result = match self.plane.as_mut() {
                None => DataPlane::build(graph, self.workers).map(|p| {
                    self.plane = Some(p);
                }),
                Some(plane) => plane.rebuild(graph),
            };
            match result {
                Ok(()) => {
                    tracing::info!(
                        components = topology.nodes.len(),
                        edges = topology.edges.len(),
                        "data plane built"
                    );
                    self.stats.builds.fetch_add(1, Ordering::AcqRel);
                    self.built = topology;
                    self.nodes.values_mut().for_each(|n| n.dirty = false);
                }
                // A refused graph changes nothing: the last good one runs on.
                Err(e) => tracing::error!(error = %e, "data plane graph refused"),
            }
            return;
        }
        let Some(plane) = self.plane.as_ref() else {
            return;
        };
        for (id, node) in self.nodes.iter_mut().filter(|(_, n)| n.dirty) {
            node.dirty = false;
            let (Some(nid), Some(op)) = (self.ids.get(id), node.processor.clone()) else {
                continue;
            };
            match plane.update_args(*nid, op) {
                Ok(()) => {
                    self.stats.arg_updates.fetch_add(1, Ordering::AcqRel);
                }
                Err(e) => {
                    tracing::warn!(component = %id, error = %e, "updating processor arguments")
                }
            }
        }
    }
}

/// The `forward_to` receivers of evaluated arguments, as component ids.
fn forward_to(args: &Value) -> Vec<String> {
    let Value::Object(fields) = args else {
        return Vec::new();
    };
    let Some(Value::Array(items)) = fields.get("forward_to") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Capsule(Capsule::Receiver(r)) => Some(r.component.clone()),
            _ => None,
        })
        .collect()
}

/// Runs a processor, which works on the model: a batch still in wire form
/// is decoded first.
fn process_decoded(
    id: &str,
    op: &dyn BatchProcessor,
    batch: DataPlaneBatch,
) -> Option<DataPlaneBatch> {
    let samples = batch.sample_count();
    match batch.into_decoded() {
        Ok(batch) => op.process(batch).map(DataPlaneBatch::from),
        Err(e) => {
            // Wire form is checked where it is made; this is a bug.
            tracing::error!(component = %id, samples, "dropping a batch that does not decode: {e}");
            None
        }
    }
}

/// A sink shared between the component that made it and the dataflow.
struct SharedSink(MetricsSink);

impl smelter_dataflows::Sink<DataPlaneBatch> for SharedSink {
    fn write(
        &self,
        worker: usize,
        epoch: smelter_dataflows::data_plane::Epoch,
        record: DataPlaneBatch,
    ) {
        self.0.write(worker, epoch, record)
    }

    fn flush(
        &self,
        worker: usize,
        epoch: smelter_dataflows::data_plane::Epoch,
        ack: smelter_dataflows::data_plane::Ack,
    ) {
        self.0.flush(worker, epoch, ack)
    }
}
