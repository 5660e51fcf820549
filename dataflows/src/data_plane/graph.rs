//! The description a data plane is built from: components and `forward_to` edges.
//!
//! The evaluator turns `forward_to = [x.receiver]` into edges (DESIGN, "Receivers");
//! this module is where they land. A [`Graph`] names sources (fed by tokio tasks),
//! processors (an operator closure plus its current arguments) and sinks (a [`Sink`]),
//! and says how records travel along each edge ([`Partition`]). [`Graph::plan`]
//! checks it and orders it for building; the dataflow itself is built per worker by
//! `dataflow.rs`.

use super::ack::Ack;
use super::clock::Epoch;
use super::error::DataPlaneError;
use crate::control_plane::NodeId;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

/// A processor's operator: its current arguments and one record in, records out
/// (pushed into the buffer).
pub type OperatorFn<D, A> = dyn Fn(&A, D, &mut Vec<D>) + Send + Sync;

/// A caller-supplied hash (for telemetry: the series-label hash) routing records to
/// workers, so that the records of one key stay in order.
pub type HashFn<D> = dyn Fn(&D) -> u64 + Send + Sync;

/// The end of the data plane, e.g. a WAL writer. Shared by all workers.
pub trait Sink<D>: Send + Sync + 'static {
    /// A record that reached the sink on `worker`, carried by `epoch`. Runs on the
    /// worker thread: it must not block for long (I/O belongs to tokio).
    fn write(&self, worker: usize, epoch: Epoch, record: D);

    /// No more records of `epoch` can reach the sink on `worker`: make them durable and
    /// call `ack.ack()` when they are (from any thread). Until then the sink holds its
    /// capability for `epoch`, so no producer of a batch in it gets its
    /// acknowledgement. The default acknowledges at once.
    fn flush(&self, worker: usize, epoch: Epoch, ack: Ack) {
        let _ = (worker, epoch);
        ack.ack();
    }
}

/// A sink from a closure that acknowledges every epoch at once.
struct FnSink<F>(F);

impl<D, F> Sink<D> for FnSink<F>
where
    F: Fn(usize, Epoch, D) + Send + Sync + 'static,
{
    fn write(&self, worker: usize, epoch: Epoch, record: D) {
        (self.0)(worker, epoch, record)
    }
}

/// How records travel along an edge.
pub enum Partition<D> {
    /// Stay on the worker that produced them (no exchange).
    Local,
    /// Spread round-robin over the workers, record by record: no order kept.
    Spread,
    /// To worker `hash(record) % workers`: the records of one key keep their order.
    Hash(Arc<HashFn<D>>),
}

impl<D> Clone for Partition<D> {
    fn clone(&self) -> Self {
        match self {
            Partition::Local => Partition::Local,
            Partition::Spread => Partition::Spread,
            Partition::Hash(hash) => Partition::Hash(Arc::clone(hash)),
        }
    }
}

/// One `forward_to` edge.
pub(crate) struct Edge<D> {
    pub from: NodeId,
    pub to: NodeId,
    pub partition: Partition<D>,
}

pub(crate) enum Component<D, A> {
    Source,
    Processor { args: A, op: Arc<OperatorFn<D, A>> },
    Sink(Arc<dyn Sink<D>>),
}

/// Components and edges of one data plane, generic over the record type `D` and the
/// processors' argument type `A`.
pub struct Graph<D, A> {
    pub(crate) components: BTreeMap<NodeId, Component<D, A>>,
    pub(crate) edges: Vec<Edge<D>>,
    duplicate: Option<NodeId>,
}

impl<D, A> Default for Graph<D, A> {
    fn default() -> Self {
        Graph {
            components: BTreeMap::new(),
            edges: Vec::new(),
            duplicate: None,
        }
    }
}

impl<D: 'static, A: 'static> Graph<D, A> {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, id: NodeId, component: Component<D, A>) -> &mut Self {
        if self.components.insert(id, component).is_some() && self.duplicate.is_none() {
            self.duplicate = Some(id);
        }
        self
    }

    /// A source, fed through the data plane's [`super::SourceHandle`] for `id`.
    pub fn source(&mut self, id: impl Into<NodeId>) -> &mut Self {
        self.add(id.into(), Component::Source)
    }

    /// A processor: `op(args, record)` gives the records to forward (a `Vec`, an
    /// `Option`, any iterator). `args` are its initial arguments;
    /// [`super::DataPlane::update_args`] replaces them without a rebuild.
    pub fn processor<I, F>(&mut self, id: impl Into<NodeId>, args: A, op: F) -> &mut Self
    where
        I: IntoIterator<Item = D>,
        F: Fn(&A, D) -> I + Send + Sync + 'static,
    {
        let op: Arc<OperatorFn<D, A>> =
            Arc::new(move |args, record, out| out.extend(op(args, record)));
        self.add(id.into(), Component::Processor { args, op })
    }

    /// A sink that acknowledges every epoch as soon as it is complete:
    /// `write(worker, epoch, record)`.
    pub fn sink<F>(&mut self, id: impl Into<NodeId>, write: F) -> &mut Self
    where
        F: Fn(usize, Epoch, D) + Send + Sync + 'static,
    {
        self.add(id.into(), Component::Sink(Arc::new(FnSink(write))))
    }

    /// A sink that decides when each epoch is durable (see [`Sink::flush`]).
    pub fn sink_with(&mut self, id: impl Into<NodeId>, sink: impl Sink<D>) -> &mut Self {
        self.add(id.into(), Component::Sink(Arc::new(sink)))
    }

    /// An edge `from → to` whose records are spread round-robin over the workers.
    pub fn edge(&mut self, from: impl Into<NodeId>, to: impl Into<NodeId>) -> &mut Self {
        self.edge_with(from, to, Partition::Spread)
    }

    /// An edge `from → to` routing records by `hash` (order per key kept).
    pub fn edge_by<H>(
        &mut self,
        from: impl Into<NodeId>,
        to: impl Into<NodeId>,
        hash: H,
    ) -> &mut Self
    where
        H: Fn(&D) -> u64 + Send + Sync + 'static,
    {
        self.edge_with(from, to, Partition::Hash(Arc::new(hash)))
    }

    /// An edge `from → to` with an explicit [`Partition`].
    pub fn edge_with(
        &mut self,
        from: impl Into<NodeId>,
        to: impl Into<NodeId>,
        partition: Partition<D>,
    ) -> &mut Self {
        self.edges.push(Edge {
            from: from.into(),
            to: to.into(),
            partition,
        });
        self
    }

    /// The ids of the sources.
    pub fn sources(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.components
            .iter()
            .filter(|(_, c)| matches!(c, Component::Source))
            .map(|(id, _)| *id)
    }

    /// Checks the graph and orders it for building.
    pub(crate) fn plan(&self) -> Result<Plan, DataPlaneError> {
        if let Some(id) = self.duplicate {
            return Err(DataPlaneError::DuplicateComponent(id));
        }
        let mut inputs: HashMap<NodeId, Vec<usize>> = HashMap::new();
        let mut outputs: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        for (index, edge) in self.edges.iter().enumerate() {
            let (Some(from), Some(to)) = (
                self.components.get(&edge.from),
                self.components.get(&edge.to),
            ) else {
                return Err(DataPlaneError::UnknownEndpoint {
                    from: edge.from,
                    to: edge.to,
                });
            };
            if matches!(from, Component::Sink(_)) {
                return Err(DataPlaneError::EdgeFromSink(edge.from));
            }
            if matches!(to, Component::Source) {
                return Err(DataPlaneError::EdgeIntoSource(edge.to));
            }
            inputs.entry(edge.to).or_default().push(index);
            outputs.entry(edge.from).or_default().push(edge.to);
        }
        // Kahn's algorithm: a topological order, or the nodes left on a cycle.
        let mut indegree: BTreeMap<NodeId, usize> = self
            .components
            .keys()
            .map(|id| (*id, inputs.get(id).map_or(0, Vec::len)))
            .collect();
        let mut ready: VecDeque<NodeId> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(id, _)| *id)
            .collect();
        let mut order = Vec::with_capacity(self.components.len());
        while let Some(id) = ready.pop_front() {
            order.push(id);
            for next in outputs.get(&id).into_iter().flatten() {
                if let Some(degree) = indegree.get_mut(next) {
                    *degree -= 1;
                    if *degree == 0 {
                        ready.push_back(*next);
                    }
                }
            }
        }
        if order.len() < self.components.len() {
            let placed: std::collections::HashSet<NodeId> = order.iter().copied().collect();
            let cycle = self
                .components
                .keys()
                .filter(|id| !placed.contains(id))
                .copied()
                .collect();
            return Err(DataPlaneError::Cycle(cycle));
        }
        let mut reachable_sinks = HashMap::new();
        for source in self.sources() {
            let mut seen = std::collections::BTreeSet::new();
            let mut stack = vec![source];
            while let Some(id) = stack.pop() {
                for next in outputs.get(&id).into_iter().flatten() {
                    if seen.insert(*next) {
                        stack.push(*next);
                    }
                }
            }
            let sinks: Vec<NodeId> = seen
                .into_iter()
                .filter(|id| matches!(self.components.get(id), Some(Component::Sink(_))))
                .collect();
            reachable_sinks.insert(source, sinks);
        }
        Ok(Plan {
            order,
            inputs,
            reachable_sinks,
        })
    }
}

/// A checked graph, ready to build.
#[derive(Default)]
pub(crate) struct Plan {
    /// Components in topological order.
    pub order: Vec<NodeId>,
    /// Indices into `Graph::edges` of the edges into each component.
    pub inputs: HashMap<NodeId, Vec<usize>>,
    /// The sinks each source can reach (sorted).
    pub reachable_sinks: HashMap<NodeId, Vec<NodeId>>,
}
