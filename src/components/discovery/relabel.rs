//! `discovery.relabel`: rewrites a list of targets with relabel rules.
//!
//! It lives entirely in the control plane: its `output` export is a pure
//! function of its arguments (`targets` and the `rule` blocks), recomputed on
//! every update and published, so only the components that read `output`
//! are evaluated again — and only when it actually changed.

use std::collections::BTreeMap;

use crate::component::derived::run_derived_exports;
use crate::component::{
    Args, BuildContext, Component, ComponentError, DerivedRegistration, Exports, Health,
    Registration, RunContext, RunFuture,
};
use crate::components::common::relabel::{
    self, relabel_rule_schema, rule_blocks, rules_to_value, Rule,
};
use crate::controller::schema::Schema;
use crate::syntax::{Object, Value};

pub fn registration() -> Registration {
    Registration {
        name: "discovery.relabel",
        schema,
        validate: |v| Arguments::from_value(v).map(|_| ()),
        build,
    }
}

/// The runtime's way of running it: no task, the exports derived on update.
pub fn derived_registration() -> DerivedRegistration {
    DerivedRegistration {
        name: "discovery.relabel",
        derive,
        healthy: HEALTHY,
    }
}

const HEALTHY: &str = "targets relabelled";

fn derive(args: &Value) -> Result<Value, ComponentError> {
    Arguments::from_value(args).map(|a| a.exports())
}

fn schema() -> Schema {
    Schema::new()
        .attr("targets", true)
        .blocks("rule", false, relabel_rule_schema())
}

/// A target: its labels.
pub type Target = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq)]
struct Arguments {
    targets: Vec<Target>,
    rules: Vec<Rule>,
}

impl Arguments {
    fn from_value(v: &Value) -> Result<Self, ComponentError> {
        let args = Args::new(v)?;
        let targets = args.required("targets")?;
        let rules = rule_blocks(v)?;
        Ok(Arguments { targets, rules })
    }

    /// The relabelled targets; a target the rules drop is left out.
    fn output(&self) -> Vec<Target> {
        let mut out = Vec::with_capacity(self.targets.len());
        for target in &self.targets {
            let mut labels = target.clone();
            if relabel::process(&self.rules, &mut labels) {
                out.push(labels);
            }
        }
        out
    }

    fn exports(&self) -> Value {
        let output = Value::Array(
            self.output()
                .into_iter()
                .map(|t| Value::Object(t.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
                .collect(),
        );
        let mut fields = Object::new();
        fields.insert("output".to_string(), output);
        fields.insert("rules".to_string(), rules_to_value(&self.rules));
        Value::Object(fields)
    }
}

struct DiscoveryRelabel {
    exports: Exports,
    health: Health,
}

fn build(ctx: BuildContext, args: &Value) -> Result<Box<dyn Component>, ComponentError> {
    let parsed = Arguments::from_value(args)?;
    // Publish at once, so dependants can evaluate before the task first runs.
    ctx.exports.publish(parsed.exports());
    Ok(Box::new(DiscoveryRelabel {
        exports: ctx.exports,
        health: ctx.health,
    }))
}

impl Component for DiscoveryRelabel {
    fn run(self: Box<Self>, ctx: RunContext) -> RunFuture {
        Box::pin(run_derived_exports(
            ctx,
            self.exports,
            self.health,
            HEALTHY,
            derive,
        ))
    }
}
