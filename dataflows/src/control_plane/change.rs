//! What goes into the control plane and what comes out of it.
//!
//! [`Change`] is the caller's vocabulary for the three inputs (blocks, dependencies,
//! exports); [`ArgsChange`] is the output the runtime acts upon (update, build or stop
//! a component). Both are plain data so the caller can log or test them.

use super::node::NodeId;

/// One change to the control plane's inputs, applied by [`super::ControlPlane::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change<B, V> {
    /// Insert a node or replace its body and the nodes it depends on (the references
    /// found in `body`). Duplicate entries in `deps` are ignored.
    Upsert {
        /// The node.
        node: NodeId,
        /// Its body (for smelter: an `Arc`-wrapped block with a cheap `Ord`/`Hash`).
        body: B,
        /// The nodes whose exports the body reads.
        deps: Vec<NodeId>,
    },
    /// Remove a node: its body, its dependencies and the exports it published.
    Remove {
        /// The node.
        node: NodeId,
    },
    /// Set (`Some`) or clear (`None`) the exports a running component published.
    Export {
        /// The node publishing.
        node: NodeId,
        /// Its new exports.
        value: Option<V>,
    },
}

/// The evaluated arguments of one node changed: `old` is what the node had before the
/// `apply`, `new` what it has after it (`None`: no arguments, e.g. the node was removed
/// or one of its dependencies has no exports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgsChange<V, E> {
    /// The node.
    pub node: NodeId,
    /// Arguments before the change.
    pub old: Option<Result<V, E>>,
    /// Arguments after the change.
    pub new: Option<Result<V, E>>,
}
