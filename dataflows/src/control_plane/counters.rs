//! Evaluation counters: how often each node's body was evaluated.
//!
//! The "minimal recomputation" contract says a node whose body and dependency exports
//! did not change is not evaluated again; these counters are how tests prove it and how
//! the runtime shows it. They are bumped from inside the dataflow's evaluation operator,
//! which runs on the control plane's single worker in the calling thread, hence `Rc`.

use super::node::NodeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Shared, cheaply clonable evaluation counters (one worker, one thread).
#[derive(Clone, Debug, Default)]
pub struct EvaluationCounters {
    inner: Rc<RefCell<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    per_node: HashMap<NodeId, u64>,
    total: u64,
}

impl EvaluationCounters {
    /// Records one evaluation of `node`.
    pub(crate) fn record(&self, node: NodeId) {
        let mut counts = self.inner.borrow_mut();
        *counts.per_node.entry(node).or_insert(0) += 1;
        counts.total += 1;
    }

    /// How many times `node` was evaluated since the control plane was created.
    pub fn get(&self, node: NodeId) -> u64 {
        self.inner
            .borrow()
            .per_node
            .get(&node)
            .copied()
            .unwrap_or(0)
    }

    /// Evaluations of all nodes together.
    pub fn total(&self) -> u64 {
        self.inner.borrow().total
    }

    /// A copy of the per-node counts (nodes never evaluated are absent).
    pub fn snapshot(&self) -> HashMap<NodeId, u64> {
        self.inner.borrow().per_node.clone()
    }
}
