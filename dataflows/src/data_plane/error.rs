//! Errors of the data-plane builder: a graph it refuses, or workers it could not start.
//!
//! A refused graph changes nothing: on `rebuild` the previous dataflow keeps running
//! (DESIGN, "Bad input": a bad reload keeps the last good graph running).

use crate::control_plane::NodeId;

/// Why the data plane refused a graph or a call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DataPlaneError {
    /// Two components share an id.
    #[error("component {0} is declared twice")]
    DuplicateComponent(NodeId),
    /// An edge names a component the graph does not have.
    #[error("edge {from} -> {to} names an unknown component")]
    UnknownEndpoint { from: NodeId, to: NodeId },
    /// Sources have no inputs.
    #[error("edge into source {0}: sources have no inputs")]
    EdgeIntoSource(NodeId),
    /// Sinks have no outputs.
    #[error("edge out of sink {0}: sinks have no outputs")]
    EdgeFromSink(NodeId),
    /// The edges form a cycle through (at least) these components.
    #[error("the data plane has a cycle through {0:?}")]
    Cycle(Vec<NodeId>),
    /// `update_args` for a component that is not a processor of the current graph.
    #[error("{0} is not a processor of the data plane")]
    UnknownProcessor(NodeId),
    /// At least one worker is needed.
    #[error("the data plane needs at least one worker")]
    NoWorkers,
    /// timely could not start its workers.
    #[error("could not start the timely workers: {0}")]
    Start(String),
}
