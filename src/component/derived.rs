//! The run loop of components whose exports are a pure function of their
//! arguments (`prometheus.relabel`, `prometheus.exporter.self`): publish on
//! every argument update until cancelled. They do their work in the control
//! plane (or leave it to a data-plane operator), so there is nothing else to
//! run. A kind registered in [`registry::DERIVED`] (`discovery.relabel`) does
//! not even get this task: the runtime derives and publishes its exports on
//! build and on every update itself; its `run` is this loop, for callers
//! that run the component directly.
//!
//! [`registry::DERIVED`]: super::registry::DERIVED

use super::{ComponentError, Exports, Health, RunContext};
use crate::syntax::Value;

/// Republish `derive(args)` on every update of `ctx.args`; a derivation error
/// marks the component unhealthy and keeps the last exports.
pub async fn run_derived_exports(
    mut ctx: RunContext,
    exports: Exports,
    health: Health,
    healthy: &str,
    derive: impl Fn(&Value) -> Result<Value, ComponentError>,
) -> Result<(), ComponentError> {
    health.healthy(healthy);
    while let Some(args) = ctx.next_args().await {
        match derive(&args) {
            Ok(value) => {
                exports.publish(value);
                health.healthy(healthy);
            }
            Err(e) => health.unhealthy(e.to_string()),
        }
    }
    Ok(())
}
