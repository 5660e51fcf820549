//! The run loop of components whose exports are a function of their
//! arguments and of what they were built with (`prometheus.relabel`'s
//! receiver, `prometheus.exporter.self`'s address): publish on every
//! argument update until cancelled. They do their work in the control plane
//! (or leave it to a data-plane operator), so there is nothing else to run.
//! A kind whose exports depend on its arguments alone needs not even this
//! task: see [`Build::Derived`](super::registry::Build::Derived).

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
