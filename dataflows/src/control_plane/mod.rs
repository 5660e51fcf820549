//! The control plane: configuration and published exports in, changed arguments out.
//!
//! It sits between the loader (which turns `.alloy` text into node bodies and the
//! references between them) and the runtime (which builds, updates and stops
//! components). [`ControlPlane`] owns a single timely worker that runs in the calling
//! thread; each [`ControlPlane::apply`] is one epoch: it feeds the changes, steps the
//! worker until the epoch is complete and returns the nodes whose arguments changed.
//! See `dataflow.rs` for the computation.

mod change;
mod counters;
mod dataflow;
mod error;
mod inputs;
mod node;

pub use change::{ArgsChange, Change};
pub use counters::EvaluationCounters;
pub use dataflow::{DeriveFn, EvaluateFn};
pub use error::ControlPlaneError;
pub use node::NodeId;

use dataflow::{ArgsUpdate, Handles};
use differential_dataflow::ExchangeData;
use inputs::Inputs;
use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;
use timely::communication::allocator::Thread;
use timely::communication::Allocator;
use timely::worker::Worker;
use timely::WorkerConfig;

/// Incremental evaluator of a component graph, generic over the body type `B`, the value
/// type `V` and the evaluation error type `E`.
///
/// Semantics:
/// - a node is evaluated, with its dependencies' exports sorted by node, once it has a
///   body and every dependency has exports (published by the caller or derived); until
///   then, and after one of them is removed or cleared, it has no arguments;
/// - it is evaluated again only when its body, its dependency list or one of those
///   exports changed, and at most once per `apply` (see [`EvaluationCounters`]);
/// - only nodes whose arguments differ before and after an `apply` are returned; an
///   evaluation error is an argument value too (`Err`), and derives no exports;
/// - nodes in a dependency cycle never get arguments (the loader rejects cycles first).
///
/// Not `Send`: the worker lives in the thread that created the control plane.
pub struct ControlPlane<B: ExchangeData, V: ExchangeData, E> {
    worker: Worker,
    handles: Handles<B, V, E>,
    inputs: Inputs<B, V>,
    args: HashMap<NodeId, Result<V, E>>,
    counters: EvaluationCounters,
    epoch: u64,
}

impl<B, V, E> ControlPlane<B, V, E>
where
    B: ExchangeData + Hash,
    V: ExchangeData + Hash,
    E: ExchangeData + Hash,
{
    /// A control plane evaluating bodies with `evaluate`; all exports come from the
    /// caller through [`Change::Export`].
    pub fn new(evaluate: impl Fn(NodeId, &B, &[(NodeId, V)]) -> Result<V, E> + 'static) -> Self {
        Self::build(Rc::new(evaluate), None)
    }

    /// A control plane that also derives, inside the dataflow, the exports of nodes
    /// whose exports are a pure function of their arguments (`derive` returns `None` for
    /// the others). `derive` must be deterministic: it is called again on retraction.
    pub fn with_derived_exports(
        evaluate: impl Fn(NodeId, &B, &[(NodeId, V)]) -> Result<V, E> + 'static,
        derive: impl Fn(NodeId, &V) -> Option<V> + 'static,
    ) -> Self {
        Self::build(Rc::new(evaluate), Some(Rc::new(derive)))
    }

    fn build(evaluate: Rc<EvaluateFn<B, V, E>>, derive: Option<Rc<DeriveFn<V>>>) -> Self {
        let allocator = Allocator::Thread(Thread::default());
        let mut worker = Worker::new(WorkerConfig::default(), allocator, None);
        let counters = EvaluationCounters::default();
        let handles = dataflow::build(&mut worker, evaluate, derive, counters.clone());
        ControlPlane {
            worker,
            handles,
            inputs: Inputs::default(),
            args: HashMap::new(),
            counters,
            epoch: 0,
        }
    }

    /// Applies a batch of changes as one epoch and returns the nodes whose arguments
    /// changed, sorted by node. A refused batch (see [`ControlPlaneError`]) changes
    /// nothing.
    pub fn apply(
        &mut self,
        changes: impl IntoIterator<Item = Change<B, V>>,
    ) -> Result<Vec<ArgsChange<V, E>>, ControlPlaneError> {
        let updates = self.inputs.apply(changes.into_iter().collect())?;
        let handles = &mut self.handles;
        for (record, diff) in updates.blocks {
            handles.blocks.update(record, diff);
        }
        for (record, diff) in updates.deps {
            handles.deps.update(record, diff);
        }
        for (record, diff) in updates.exports {
            handles.exports.update(record, diff);
        }
        self.epoch += 1;
        handles.blocks.advance_to(self.epoch);
        handles.deps.advance_to(self.epoch);
        handles.exports.advance_to(self.epoch);
        handles.blocks.flush();
        handles.deps.flush();
        handles.exports.flush();
        while handles.probe.less_than(&self.epoch) {
            self.worker.step();
        }
        let captured = std::mem::take(&mut *handles.output.borrow_mut());
        Ok(self.record(captured))
    }

    /// Consolidates the captured output updates into per-node changes and updates the
    /// current arguments.
    fn record(&mut self, mut captured: Vec<ArgsUpdate<V, E>>) -> Vec<ArgsChange<V, E>> {
        captured.sort_by(|a, b| a.0.cmp(&b.0));
        let mut changes: Vec<ArgsChange<V, E>> = Vec::new();
        let mut iter = captured.into_iter().peekable();
        while let Some(((node, args), _, mut diff)) = iter.next() {
            while let Some(next) = iter.next_if(|next| next.0 .0 == node && next.0 .1 == args) {
                diff += next.2;
            }
            if diff == 0 {
                continue;
            }
            if changes.last().map(|c| c.node) != Some(node) {
                changes.push(ArgsChange {
                    node,
                    old: None,
                    new: None,
                });
            }
            if let Some(change) = changes.last_mut() {
                if diff < 0 {
                    change.old = Some(args);
                } else {
                    change.new = Some(args);
                }
            }
        }
        for change in &changes {
            match &change.new {
                Some(args) => self.args.insert(change.node, args.clone()),
                None => self.args.remove(&change.node),
            };
        }
        changes
    }

    /// The current arguments of `node`, if it has any.
    pub fn args(&self, node: NodeId) -> Option<&Result<V, E>> {
        self.args.get(&node)
    }

    /// The evaluation counters (shared: they keep counting after this call).
    pub fn counters(&self) -> &EvaluationCounters {
        &self.counters
    }

    /// How many times `node` was evaluated.
    pub fn evaluations(&self, node: NodeId) -> u64 {
        self.counters.get(node)
    }

    /// How many epochs (applies) have completed.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}
