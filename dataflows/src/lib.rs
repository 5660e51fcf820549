//! Dataflows of smelter: the control plane (differential) and the data plane (timely).
//!
//! The control plane ([`control_plane`]) sits between the loader and the running
//! components: it takes the configuration (one body per node, the references between
//! nodes) and the exports that running components publish, and it hands back the
//! arguments of exactly those nodes whose arguments changed. It is generic over the
//! body, value and error types so this crate does not depend on the Alloy evaluator
//! of the root crate.

pub mod control_plane;

pub use control_plane::{
    ArgsChange, Change, ControlPlane, ControlPlaneError, EvaluationCounters, NodeId,
};
