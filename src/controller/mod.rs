//! The controller: from parsed configuration to a checked component graph.
//!
//! Second stage of the data flow in `DESIGN.md` (syntax → **loader / graph**
//! → control plane): blocks become graph nodes, references become edges, and
//! everything Alloy checks without running a component is checked here
//! (`smelter validate`). The same [`Graph`] is what the control plane loads
//! and evaluates.

pub mod alloy_components;
pub mod arguments;
pub mod graph;
pub mod id_map;
pub mod incremental;
pub mod loader;
mod per_core;
pub mod refs;
pub mod registry;
pub mod runtime;
pub mod schema;
pub mod stamp;
pub mod validate;

pub use graph::{Edge, Graph, Node, NodeKind, OuterRef};
pub use registry::{AlloyRegistry, ComponentInfo, Registry, Stability, DEFAULT_REGISTRY};
pub use schema::{Field, FieldKind, Multiplicity, Schema};
pub use validate::{check, validate, Hint, Options, Validation};
