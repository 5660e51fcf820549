//! Compiling a [`Graph`] into a timely dataflow on one worker, and the operators.
//!
//! ```text
//!  SourceQueue ─▶ Source ─(edge: local | spread | hash)─▶ Processor ─(edge)─▶ Sink ─▶ () ─▶ probe of each source reaching it
//!                 (owner worker)                              ▲            holds epoch t until Ack(t)
//!  ArgsCell ────▶ Arguments (every worker) ───────────────────┘
//! ```
//!
//! Every worker builds the same operators in the same order (timely requires it);
//! only the source's owner worker drains its queue. Sources and argument inputs advance
//! with the clock and drop their capabilities when their generation is closing; a
//! closing dataflow therefore completes once what it holds has reached the sinks and
//! been acknowledged, which is how a rebuild waits for in-flight batches.

use super::ack::{Ack, AckSlot, AckedEpochs};
use super::args::ArgsCell;
use super::clock::{Clock, Epoch, Inputs};
use super::graph::{Component, Graph, OperatorFn, Partition, Plan, Sink};
use super::source::SourceQueue;
use crate::control_plane::NodeId;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::{empty, source};
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::probe::Handle as ProbeHandle;
use timely::dataflow::operators::{Capability, Concatenate, Exchange, Probe};
use timely::dataflow::{Scope, StreamVec};
use timely::scheduling::Activator;
use timely::worker::Worker;
use timely::ExchangeData;

/// One build of the data plane, shared by the controller and all workers.
pub(crate) struct Generation<D, A> {
    pub number: u64,
    pub graph: Graph<D, A>,
    pub plan: Plan,
    pub queues: HashMap<NodeId, Arc<SourceQueue<D>>>,
    pub args: HashMap<NodeId, Arc<ArgsCell<A>>>,
    pub clock: Arc<Clock>,
    /// Every input operator of this generation, on every worker.
    pub inputs: Inputs,
    pub max_in_flight: usize,
    /// Set by the controller: inputs release their capabilities.
    pub closing: AtomicBool,
    /// How many workers saw the closing dataflow complete.
    pub drained: AtomicUsize,
}

impl<D, A> Generation<D, A> {
    fn closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }
}

/// The worker that drains a source's queue.
pub(crate) fn owner(source: NodeId, peers: usize) -> usize {
    source.0 as usize % peers.max(1)
}

/// Worker-local state of a source operator on its owner.
#[derive(Default)]
struct SourceLocal {
    /// Batches in the dataflow, with the epoch that carries them, oldest first.
    pending: VecDeque<(Epoch, Arc<AckSlot>)>,
    activator: Option<Activator>,
}

struct OwnedSource {
    probe: ProbeHandle<Epoch>,
    local: Rc<RefCell<SourceLocal>>,
}

/// A generation installed on one worker.
pub(crate) struct Installed<D, A> {
    pub generation: Arc<Generation<D, A>>,
    pub dataflow: usize,
    all: ProbeHandle<Epoch>,
    sources: Vec<OwnedSource>,
    drained: bool,
}

impl<D, A> Installed<D, A> {
    /// Resolves the acknowledgements whose epoch every reachable sink has passed, and
    /// notices when a closing generation has completed on this worker.
    pub(crate) fn after_step(&mut self) {
        for source in &self.sources {
            let mut local = source.local.borrow_mut();
            let mut resolved = false;
            while let Some((epoch, _)) = local.pending.front() {
                if source.probe.less_equal(epoch) {
                    break;
                }
                if let Some((epoch, slot)) = local.pending.pop_front() {
                    slot.resolve(Ok(epoch));
                    resolved = true;
                }
            }
            // Room in flight again: let the source drain its queue.
            if resolved {
                if let Some(activator) = &local.activator {
                    activator.activate();
                }
            }
        }
        // Complete here once nothing is in flight and every owned source's probe has
        // caught up (so no producer is left waiting when the dataflow is dropped).
        if !self.drained
            && self.generation.closing()
            && self.all.done()
            && self
                .sources
                .iter()
                .all(|s| s.probe.done() && s.local.borrow().pending.is_empty())
        {
            self.drained = true;
            self.generation.drained.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Whether the generation was closed and has completed here.
    pub(crate) fn drained(&self) -> bool {
        self.drained
    }

    /// Fails the acknowledgements still pending (shutdown).
    pub(crate) fn abandon(&mut self) {
        for source in &self.sources {
            for (_, slot) in source.local.borrow_mut().pending.drain(..) {
                slot.resolve(Err(super::ack::AckError::ShutDown));
            }
        }
    }
}

/// Builds `generation`'s dataflow on `worker`.
pub(crate) fn install<D, A>(
    worker: &mut Worker,
    generation: Arc<Generation<D, A>>,
) -> Installed<D, A>
where
    D: ExchangeData + Clone,
    A: Clone + Send + Sync + 'static,
{
    let index = worker.index();
    let peers = worker.peers();
    let dataflow = worker.next_dataflow_index();
    let all = ProbeHandle::new();
    let mut owned = Vec::new();
    let gen = &generation;
    worker.dataflow::<Epoch, _, _>(|scope| {
        // Ordered maps: every worker must build the same operators in the same order.
        let mut streams: BTreeMap<NodeId, StreamVec<'_, Epoch, D>> = BTreeMap::new();
        let mut sink_outputs: BTreeMap<NodeId, StreamVec<'_, Epoch, ()>> = BTreeMap::new();
        for id in &gen.plan.order {
            let Some(component) = gen.graph.components.get(id) else {
                continue;
            };
            match component {
                Component::Source => {
                    let local = Rc::new(RefCell::new(SourceLocal::default()));
                    let is_owner = owner(*id, peers) == index;
                    let stream =
                        source_operator(scope, Arc::clone(gen), *id, is_owner, Rc::clone(&local));
                    if is_owner {
                        owned.push((*id, local));
                    }
                    streams.insert(*id, stream);
                }
                Component::Processor { op, .. } => {
                    let input = incoming(scope, gen, *id, &streams, index);
                    let stream = match gen.args.get(id) {
                        Some(cell) => {
                            let (version, initial) = cell.snapshot();
                            let args =
                                args_operator(scope, Arc::clone(gen), Arc::clone(cell), version);
                            processor_operator(input, args, Arc::clone(op), initial)
                        }
                        None => empty(scope),
                    };
                    streams.insert(*id, stream);
                }
                Component::Sink(sink) => {
                    let input = incoming(scope, gen, *id, &streams, index);
                    sink_outputs.insert(*id, sink_operator(scope, input, Arc::clone(sink), index));
                }
            }
        }
        // Probe only the streams nothing reads: a reader's frontier covers
        // its input's, so `all` is done once these and the sinks' outputs are.
        // A probe on a stream that has a reader would cost a deep copy of
        // every batch (timely's `Tee` clones records for every reader but the
        // last): for a scrape pipeline, an allocation per series per stage.
        let read: BTreeSet<NodeId> = gen
            .plan
            .inputs
            .iter()
            .filter(|(to, _)| gen.graph.components.contains_key(to))
            .flat_map(|(_, edges)| edges.iter())
            .filter_map(|e| gen.graph.edges.get(*e).map(|edge| edge.from))
            .collect();
        for (id, stream) in &streams {
            if !read.contains(id) {
                stream.clone().probe_with(&all);
            }
        }
        for stream in sink_outputs.values() {
            stream.clone().probe_with(&all);
        }
        // One probe per source, after the sinks it reaches: built on every worker, read
        // on the owner.
        let mut probes = BTreeMap::new();
        for source in gen.graph.sources() {
            let probe = ProbeHandle::new();
            let sinks = gen
                .plan
                .reachable_sinks
                .get(&source)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if sinks.is_empty() {
                if let Some(stream) = streams.get(&source) {
                    stream.clone().probe_with(&probe);
                }
            } else {
                let outputs: Vec<_> = sinks
                    .iter()
                    .filter_map(|s| sink_outputs.get(s).cloned())
                    .collect();
                scope.concatenate(outputs).probe_with(&probe);
            }
            probes.insert(source, probe);
        }
        owned = owned
            .drain(..)
            .filter(|(id, _)| probes.contains_key(id))
            .collect();
        let sources: Vec<OwnedSource> = owned
            .drain(..)
            .filter_map(|(id, local)| probes.remove(&id).map(|probe| OwnedSource { probe, local }))
            .collect();
        Installed {
            generation: Arc::clone(gen),
            dataflow,
            all,
            sources,
            drained: false,
        }
    })
}

/// The records arriving at `id`: each incoming edge partitioned as it says, merged.
fn incoming<'s, D, A>(
    scope: Scope<'s, Epoch>,
    generation: &Generation<D, A>,
    id: NodeId,
    streams: &BTreeMap<NodeId, StreamVec<'s, Epoch, D>>,
    index: usize,
) -> StreamVec<'s, Epoch, D>
where
    D: ExchangeData + Clone,
{
    let mut inputs = Vec::new();
    for edge in generation.plan.inputs.get(&id).into_iter().flatten() {
        let Some(edge) = generation.graph.edges.get(*edge) else {
            continue;
        };
        let Some(stream) = streams.get(&edge.from) else {
            continue;
        };
        let stream: StreamVec<'s, Epoch, D> = stream.clone();
        inputs.push(match &edge.partition {
            Partition::Local => stream,
            Partition::Spread => {
                let mut next = index as u64;
                stream.exchange(move |_| {
                    next = next.wrapping_add(1);
                    next
                })
            }
            Partition::Hash(hash) => {
                let hash = Arc::clone(hash);
                stream.exchange(move |record| hash(record))
            }
        });
    }
    match inputs.len() {
        0 => empty(scope),
        1 => inputs.pop().unwrap_or_else(|| empty(scope)),
        _ => scope.concatenate(inputs),
    }
}

/// Drains a source's queue on its owner and moves the clock past what it emitted.
fn source_operator<'s, D, A>(
    scope: Scope<'s, Epoch>,
    generation: Arc<Generation<D, A>>,
    id: NodeId,
    is_owner: bool,
    local: Rc<RefCell<SourceLocal>>,
) -> StreamVec<'s, Epoch, D>
where
    D: ExchangeData + Clone,
    A: 'static + Send + Sync,
{
    let queue = generation.queues.get(&id).cloned();
    source(scope, "Source", move |capability, info| {
        let activator = scope.activator_for(Rc::clone(&info.address));
        let sync = scope.worker().sync_activator_for(info.address.to_vec());
        local.borrow_mut().activator = Some(activator);
        // Only the owner emits; the other workers' instances release their capability
        // at once, so they never hold a frontier back.
        let mut capability = (is_owner && queue.is_some()).then_some(capability);
        if capability.is_some() {
            generation.inputs.register(sync.clone());
        }
        let mut buffer = Vec::new();
        move |output| {
            let Some(held) = capability.as_mut() else {
                return;
            };
            let Some(queue) = queue.as_ref() else {
                return;
            };
            if generation.closing() {
                capability = None;
                return;
            }
            let mut local = local.borrow_mut();
            let room = generation.max_in_flight.saturating_sub(local.pending.len());
            if room > 0 {
                queue.drain(generation.number, room, &mut buffer, || sync.clone());
            }
            let now = generation.clock.now();
            if now > *held.time() {
                held.downgrade(&now);
            }
            if !buffer.is_empty() {
                let epoch = *held.time();
                let mut session = output.session(held);
                for (batch, slot) in buffer.drain(..) {
                    session.give(batch);
                    local.pending.push_back((epoch, slot));
                }
                drop(session);
                // Close the epoch at once: move the clock past it and wake every input,
                // so the frontiers pass it as soon as the sinks acknowledged it.
                if generation.clock.advance_past(epoch) {
                    generation.inputs.wake();
                }
                let now = generation.clock.now();
                if now > *held.time() {
                    held.downgrade(&now);
                }
            }
        }
    })
}

/// Emits a processor's argument updates, stamped with their epoch, on every worker.
fn args_operator<'s, D, A>(
    scope: Scope<'s, Epoch>,
    generation: Arc<Generation<D, A>>,
    cell: Arc<ArgsCell<A>>,
    seen: u64,
) -> StreamVec<'s, Epoch, A>
where
    D: 'static + Send,
    A: Clone + Send + Sync + 'static,
{
    source(scope, "Arguments", move |capability, info| {
        generation
            .inputs
            .register(scope.worker().sync_activator_for(info.address.to_vec()));
        let mut capability = Some(capability);
        let mut seen = seen;
        move |output| {
            let Some(held) = capability.as_mut() else {
                return;
            };
            if generation.closing() {
                capability = None;
                return;
            }
            let (now, update) = cell.poll(seen, &generation.clock);
            if let Some((version, epoch, args)) = update {
                seen = version;
                let at = epoch.max(*held.time());
                let stamped = held.delayed(&at);
                output.session(&stamped).give(args);
            }
            if now > *held.time() {
                held.downgrade(&now);
            }
        }
    })
}

/// Applies the operator to each record with the arguments in force at its epoch.
fn processor_operator<'s, D, A>(
    data: StreamVec<'s, Epoch, D>,
    args: StreamVec<'s, Epoch, A>,
    op: Arc<OperatorFn<D, A>>,
    initial: A,
) -> StreamVec<'s, Epoch, D>
where
    D: ExchangeData + Clone,
    A: Clone + 'static,
{
    data.binary_frontier(args, Pipeline, Pipeline, "Processor", move |_, _| {
        let mut current = initial;
        let mut updates: Vec<(Epoch, A)> = Vec::new();
        let mut stash: BTreeMap<Epoch, (Capability<Epoch>, Vec<D>)> = BTreeMap::new();
        let mut out = Vec::new();
        move |(data, _), (args, args_frontier), output| {
            args.for_each_stamp(|stamp, containers| {
                if let Some(epoch) = stamp.least().copied() {
                    for container in containers {
                        updates.extend(container.drain(..).map(|a| (epoch, a)));
                    }
                }
            });
            updates.sort_by_key(|(epoch, _)| *epoch);
            data.for_each_stamp(|stamp, containers| {
                let Some(capability) = stamp.retain_least(0) else {
                    return;
                };
                let entry = stash
                    .entry(*capability.time())
                    .or_insert_with(|| (capability, Vec::new()));
                for container in containers {
                    entry.1.append(container);
                }
            });
            // Release epochs no argument update can precede any more, oldest first.
            while let Some(first) = stash.first_entry() {
                let epoch = *first.key();
                if args_frontier.frontier().less_equal(&epoch) {
                    break;
                }
                let (capability, records) = first.remove();
                let due = updates.partition_point(|(at, _)| *at <= epoch);
                if let Some((_, args)) = updates.drain(..due).last() {
                    current = args;
                }
                let mut session = output.session(&capability);
                for record in records {
                    op(&current, record, &mut out);
                    session.give_iterator(out.drain(..));
                }
            }
        }
    })
}

/// Writes records to the sink and holds each epoch until the sink acknowledges it.
fn sink_operator<'s, D>(
    scope: Scope<'s, Epoch>,
    input: StreamVec<'s, Epoch, D>,
    sink: Arc<dyn Sink<D>>,
    worker: usize,
) -> StreamVec<'s, Epoch, ()>
where
    D: ExchangeData + Clone,
{
    input.unary_frontier::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
        Pipeline,
        "Sink",
        move |_, info| {
            let activator = scope.worker().sync_activator_for(info.address.to_vec());
            let acked: AckedEpochs = AckedEpochs::default();
            let mut writing: BTreeMap<Epoch, Capability<Epoch>> = BTreeMap::new();
            let mut flushing: HashMap<Epoch, Capability<Epoch>> = HashMap::new();
            move |(input, frontier), _output| {
                input.for_each_stamp(|stamp, containers| {
                    let Some(epoch) = stamp.least().copied() else {
                        return;
                    };
                    if let std::collections::btree_map::Entry::Vacant(entry) = writing.entry(epoch)
                    {
                        if let Some(capability) = stamp.retain_least(0) {
                            entry.insert(capability);
                        }
                    }
                    for container in containers {
                        for record in container.drain(..) {
                            sink.write(worker, epoch, record);
                        }
                    }
                });
                // Complete epochs: hand them to the sink to make durable.
                while let Some(first) = writing.first_entry() {
                    let epoch = *first.key();
                    if frontier.frontier().less_equal(&epoch) {
                        break;
                    }
                    flushing.insert(epoch, first.remove());
                    sink.flush(
                        worker,
                        epoch,
                        Ack::new(epoch, Arc::clone(&acked), activator.clone()),
                    );
                }
                let done = std::mem::take(&mut *acked.lock().unwrap_or_else(|e| e.into_inner()));
                for epoch in done {
                    flushing.remove(&epoch);
                }
            }
        },
    )
}
