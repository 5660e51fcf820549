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

/// How the runtime makes a component of one kind run.
#[derive(Clone, Copy)]
pub enum Build {
    /// Built from its first valid arguments into a component whose task
    /// runs until it is stopped. It must refuse the arguments `validate`
    /// refuses (every build starts by decoding them): the runtime does not
    /// validate before a build, so that 100 k components decode their
    /// arguments once each, not twice.
    Task(BuildFn),
    /// No task: the exports are a pure function of the arguments
    /// (`discovery.relabel`), and the runtime derives and publishes them on
    /// the build and on every update itself — a task, its `watch` channel
    /// and cancellation token cost ≈ 1 KB per component, 100 MB in a 100 k
    /// graph of relabels.
    Derived(Derive),
}

/// The exports of a [`Build::Derived`] kind.
#[derive(Clone, Copy)]
pub struct Derive {
    /// The exports for the arguments; refuses what `validate` refuses.
    pub derive: fn(&Value) -> Result<Value, ComponentError>,
    /// The component health's message after a successful derivation.
    pub healthy: &'static str,
}

/// How to make one component kind.
pub struct Registration {
    /// Alloy's name, e.g. `local.file`.
    pub name: &'static str,
    /// The structural argument schema (names, required), for validation.
    pub schema: fn() -> Schema,
    /// Check evaluated arguments before they reach a running component, so a
    /// bad update is refused and the component keeps its last good arguments.
    pub validate: fn(&Value) -> Result<(), ComponentError>,
    /// How a component of this kind runs.
    pub build: Build,
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
