//! The differential computation of the control plane.
//!
//! ```text
//!  blocks(node, (body, #deps)) ─────┐
//!                                   ├ slots(node, Body | Export) ─▶ reduce by node ─▶ args(node, Result)
//!  deps ⋈ exports(dep, value) ──────┘          ▲                                       │
//!            ▲                                 │  (iterative scope, one round per DAG level)
//!            └──────── derived exports(node, derive(args)) ◀───────────────────────────┘
//! ```
//!
//! Everything a node's evaluation reads is collected under its key: its body, which
//! carries how many dependencies it reads (one record per node instead of one more per
//! dependency in the `reduce`'s input), and the exports of those dependencies. One
//! `reduce` per node then evaluates the body. Differential only invokes a `reduce` for
//! keys whose input changed, so a node whose body and dependency exports are unchanged
//! is not evaluated again — the "minimal recomputation" contract — and `reduce` only
//! emits a change when the evaluated arguments differ, which stops propagation at the
//! first node whose arguments came out equal.
//!
//! A node is evaluated once every dependency has exports (as Alloy evaluates in
//! topological order: a dependency is built, and its exports cached, before its
//! dependants). Until then it has no arguments. A node without dependencies is
//! evaluated at once: its only slot is its body.
//!
//! Components whose exports are a pure function of their arguments get them derived
//! inside the dataflow (`derive`), fed back through an iterative scope: round `i` holds
//! the nodes at depth `i`, so a chain settles within one `apply` without a round trip
//! through the caller. Without a `derive` function the loop is left out.

use super::counters::EvaluationCounters;
use super::node::NodeId;
use differential_dataflow::input::{Input, InputSession};
use differential_dataflow::lattice::Lattice;
use differential_dataflow::operators::iterate::Variable;
use differential_dataflow::{ExchangeData, VecCollection};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::hash::Hash;
use std::rc::Rc;
use timely::dataflow::operators::probe::Handle as ProbeHandle;
use timely::order::Product;
use timely::progress::Timestamp;
use timely::worker::Worker;

/// The caller's evaluator: a node's body and its dependencies' exports (sorted by node)
/// to its arguments.
pub type EvaluateFn<B, V, E> = dyn Fn(NodeId, &B, &[(NodeId, V)]) -> Result<V, E>;

/// The caller's export derivation: for components whose exports are a pure function of
/// their arguments, those exports; `None` for every other node.
pub type DeriveFn<V> = dyn Fn(NodeId, &V) -> Option<V>;

/// One update of the output collection, as captured at the end of the dataflow.
pub(crate) type ArgsUpdate<V, E> = ((NodeId, Result<V, E>), u64, isize);

/// Where an export comes from. Derived exports sort first, so they win when a node has
/// both (a caller error: such a node should not also publish exports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Origin {
    Derived,
    External,
}

/// Everything the evaluation of one node reads, keyed by that node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Slot<B, V> {
    /// The body and how many dependencies it reads.
    Body(B, u32),
    Export(NodeId, Origin, V),
}

/// Handles of the built dataflow that the control plane drives.
pub(crate) struct Handles<B: ExchangeData, V: ExchangeData, E> {
    pub blocks: InputSession<u64, (NodeId, (B, u32)), isize>,
    pub deps: InputSession<u64, (NodeId, NodeId), isize>,
    pub exports: InputSession<u64, (NodeId, V), isize>,
    pub probe: ProbeHandle<u64>,
    pub output: Rc<RefCell<Vec<ArgsUpdate<V, E>>>>,
}

/// Builds the control-plane dataflow on `worker`.
pub(crate) fn build<B, V, E>(
    worker: &mut Worker,
    evaluate: Rc<EvaluateFn<B, V, E>>,
    derive: Option<Rc<DeriveFn<V>>>,
    counters: EvaluationCounters,
) -> Handles<B, V, E>
where
    B: ExchangeData + Hash,
    V: ExchangeData + Hash,
    E: ExchangeData + Hash,
{
    let output = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&output);
    let probe = ProbeHandle::new();
    let (blocks, deps, exports) = worker.dataflow::<u64, _, _>(|scope| {
        let (blocks_in, blocks) = scope.new_collection::<(NodeId, (B, u32)), isize>();
        let (deps_in, deps) = scope.new_collection::<(NodeId, NodeId), isize>();
        let (exports_in, exports) = scope.new_collection::<(NodeId, V), isize>();
        let args = match derive {
            None => evaluation(blocks, deps, exports, None, evaluate, counters),
            Some(derive) => scope.iterative::<u64, _, _>(|inner| {
                let step = Product::new(Default::default(), 1);
                let (variable, derived) = Variable::new(inner, step);
                let args = evaluation(
                    blocks.enter(inner),
                    deps.enter(inner),
                    exports.enter(inner),
                    Some(derived),
                    evaluate,
                    counters,
                );
                variable.set(args.clone().flat_map(move |(node, args)| {
                    args.ok()
                        .and_then(|args| derive(node, &args))
                        .map(|exports| (node, exports))
                }));
                args.leave(scope)
            }),
        };
        args.inspect(move |update| sink.borrow_mut().push(update.clone()))
            .probe_with(&probe);
        (blocks_in, deps_in, exports_in)
    });
    Handles {
        blocks,
        deps,
        exports,
        probe,
        output,
    }
}

/// Gathers each node's slots and evaluates them: the heart of the control plane, the
/// same in the flat and the iterative variant.
fn evaluation<'s, T, B, V, E>(
    blocks: VecCollection<'s, T, (NodeId, (B, u32)), isize>,
    deps: VecCollection<'s, T, (NodeId, NodeId), isize>,
    exports: VecCollection<'s, T, (NodeId, V), isize>,
    derived: Option<VecCollection<'s, T, (NodeId, V), isize>>,
    evaluate: Rc<EvaluateFn<B, V, E>>,
    counters: EvaluationCounters,
) -> VecCollection<'s, T, (NodeId, Result<V, E>), isize>
where
    T: Timestamp + Lattice,
    B: ExchangeData + Hash,
    V: ExchangeData + Hash,
    E: ExchangeData + Hash,
{
    let mut available = exports.map(|(node, value)| (node, (Origin::External, value)));
    if let Some(derived) = derived {
        available = available.concat(derived.map(|(node, value)| (node, (Origin::Derived, value))));
    }
    let dep_exports = deps
        .map(|(node, dep)| (dep, node))
        .join_map(available, |dep, node, (origin, value)| {
            (*node, Slot::Export(*dep, *origin, value.clone()))
        });
    blocks
        .map(|(node, (body, deps))| (node, Slot::Body(body, deps)))
        .concat(dep_exports)
        .reduce_named("Evaluate", move |node, slots, output| {
            if let Some((body, gathered)) = ready(slots) {
                counters.record(*node);
                output.push((evaluate(*node, body, &gathered), 1));
            }
        })
}

/// A node's body and its dependencies' exports (one per dependency, sorted by
/// dependency), if it has a body and every dependency has exports.
fn ready<'a, B, V: Clone>(slots: &[(&'a Slot<B, V>, isize)]) -> Option<(&'a B, Vec<(NodeId, V)>)> {
    let mut body = None;
    let mut deps = 0usize;
    let mut gathered: Vec<(NodeId, V)> = Vec::new();
    // Slots arrive sorted: the body, then the exports by dependency and origin
    // (derived first).
    for &(slot, diff) in slots {
        if diff <= 0 {
            continue;
        }
        match slot {
            Slot::Body(b, n) => {
                if body.replace(b).is_some() {
                    return None;
                }
                deps = *n as usize;
            }
            Slot::Export(dep, _, value) => {
                if gathered.last().map(|(last, _)| last) != Some(dep) {
                    gathered.push((*dep, value.clone()));
                }
            }
        }
    }
    // Exports only arrive through a dependency edge, so they are a subset of the deps.
    if gathered.len() == deps {
        body.map(|body| (body, gathered))
    } else {
        None
    }
}
