//! The component kinds smelter implements, by Alloy name.
//!
//! The validator knows every Alloy component name (so any Alloy config can be
//! checked); this registry holds only the kinds that can actually run. A kind
//! is listed here once it works end to end.

use std::sync::LazyLock;

use super::{BuildContext, Component, ComponentError, DataPlaneRole};
use crate::controller::schema::Schema;
use crate::syntax::Value;

/// Builds a component from its first valid arguments.
pub type BuildFn = fn(BuildContext, &Value) -> Result<Box<dyn Component>, ComponentError>;

/// How to make one component kind.
pub struct Registration {
    /// Alloy's name, e.g. `local.file`.
    pub name: &'static str,
    /// The structural argument schema (names, required), for validation.
    pub schema: fn() -> Schema,
    /// Check evaluated arguments before they reach a running component, so a
    /// bad update is refused and the component keeps its last good arguments.
    pub validate: fn(&Value) -> Result<(), ComponentError>,
    /// Build from the first arguments. It must refuse the arguments
    /// `validate` refuses (every build starts by decoding them): the runtime
    /// does not validate before a build, so that 100 k components decode
    /// their arguments once each, not twice.
    pub build: BuildFn,
}

/// Every implemented kind.
pub static REGISTRY: LazyLock<Vec<Registration>> = LazyLock::new(|| {
    let mut kinds: Vec<Registration> = Vec::new();
    crate::components::register(&mut kinds);
    kinds.sort_by_key(|r| r.name);
    kinds
});

/// Find an implemented kind by name.
pub fn find(name: &str) -> Option<&'static Registration> {
    REGISTRY
        .binary_search_by_key(&name, |r| r.name)
        .ok()
        .map(|i| &REGISTRY[i])
}

/// A kind whose exports are a pure function of its arguments
/// (`discovery.relabel`): the runtime derives and publishes them on every
/// argument update itself and runs no task for it — a task, its `watch`
/// channel and cancellation token cost ≈ 1 KB per component, 100 MB in a
/// 100 k graph of relabels. Its [`Registration::build`] stays the
/// reference (same exports, same health).
pub struct DerivedRegistration {
    pub name: &'static str,
    /// The exports for `args`; refuses what [`Registration::validate`] refuses.
    pub derive: fn(&Value) -> Result<Value, ComponentError>,
    /// The component health's message after a successful derivation.
    pub healthy: &'static str,
}

/// Every kind whose exports are derived by the runtime.
pub static DERIVED: LazyLock<Vec<DerivedRegistration>> = LazyLock::new(|| {
    let mut kinds: Vec<DerivedRegistration> = Vec::new();
    crate::components::register_derived(&mut kinds);
    kinds.sort_by_key(|r| r.name);
    kinds
});

/// How the runtime derives the exports of kind `name`, if it does.
pub fn derived(name: &str) -> Option<&'static DerivedRegistration> {
    DERIVED
        .binary_search_by_key(&name, |r| r.name)
        .ok()
        .map(|i| &DERIVED[i])
}

/// A kind that moves telemetry through the data plane, and how. Kept apart
/// from [`Registration`] so that kinds living only in the control plane need
/// not say anything about it.
pub struct DataPlaneRegistration {
    pub name: &'static str,
    pub role: DataPlaneRole,
}

/// Every data-plane kind.
pub static DATA_PLANE: LazyLock<Vec<DataPlaneRegistration>> = LazyLock::new(|| {
    let mut kinds: Vec<DataPlaneRegistration> = Vec::new();
    crate::components::register_data_plane(&mut kinds);
    kinds.sort_by_key(|r| r.name);
    kinds
});

/// The data-plane role of kind `name`, if it has one.
pub fn data_plane_role(name: &str) -> Option<DataPlaneRole> {
    DATA_PLANE
        .binary_search_by_key(&name, |r| r.name)
        .ok()
        .map(|i| DATA_PLANE[i].role)
}
