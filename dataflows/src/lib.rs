//! Dataflows of smelter: the control plane (differential) and the data plane (timely).
//!
//! The control plane ([`control_plane`]) sits between the loader and the running
//! components: it takes the configuration (one body per node, the references between
//! nodes) and the exports that running components publish, and it hands back the
//! arguments of exactly those nodes whose arguments changed. It is generic over the
//! body, value and error types so this crate does not depend on the Alloy evaluator
//! of the root crate.
//!
//! The data plane ([`data_plane`]) is the component graph compiled into a timely
//! dataflow on W worker threads: sources fed by tokio tasks, processors whose arguments
//! arrive as a second input stream, sinks that acknowledge epochs once durable. It is
//! generic over the record type so the telemetry model stays in `storage/`.

pub mod control_plane;
pub mod data_plane;

pub use control_plane::{
    ArgsChange, Change, ControlPlane, ControlPlaneError, EvaluationCounters, NodeId,
};
pub use data_plane::{
    Ack, AckError, AckHandle, DataPlane, DataPlaneConfig, DataPlaneError, Epoch, Graph, Partition,
    PushError, Sink, SourceHandle,
};
