//! Node identity in the control plane.
//!
//! Differential collections are keyed by node. A small `Copy` integer keeps the
//! arrangements compact and the exchange cheap; the root crate maps component ids such
//! as `prometheus.scrape.default` to a [`NodeId`] and back.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node of the component graph (a component or config block), as the caller numbered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

impl From<u32> for NodeId {
    fn from(id: u32) -> Self {
        NodeId(id)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node#{}", self.0)
    }
}
