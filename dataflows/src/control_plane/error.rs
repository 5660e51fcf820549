//! Errors of the control plane: changes it refuses before touching any input.

use super::node::NodeId;
use thiserror::Error;

/// A batch of changes the control plane refused; nothing of the batch was applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ControlPlaneError {
    /// A node listed itself among its dependencies (Alloy: `self reference: <id>`).
    #[error("self reference: {node}")]
    SelfReference {
        /// The node referring to itself.
        node: NodeId,
    },
}
