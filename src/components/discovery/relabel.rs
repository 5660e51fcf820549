//! `discovery.relabel`: rewrites a list of targets with relabel rules.
//!
//! It lives entirely in the control plane: its `output` export is a pure
//! function of its arguments (`targets` and the `rule` blocks), recomputed on
//! every update and published, so only the components that read `output`
//! are evaluated again — and only when it actually changed.

use std::collections::BTreeMap;

use crate::component::{
    Args, BuildContext, Component, ComponentError, Exports, Health, Registration, RunContext,
    RunFuture,
};
use crate::components::common::relabel::{self, rules_to_value, Rule};
use crate::controller::schema::Schema;
use crate::syntax::decode::FromValue;
use crate::syntax::Value;

pub fn registration() -> Registration {
    Registration {
        name: "discovery.relabel",
        schema,
        validate: |v| Arguments::from_value(v).map(|_| ()),
        build,
    }
}

fn schema() -> Schema {
    Schema::new()
        .attr("targets", true)
        .blocks("rule", false, relabel_rule_schema())
}

/// The attributes of a `rule` block.
pub fn relabel_rule_schema() -> Schema {
    Schema::new()
        .attr("source_labels", false)
        .attr("separator", false)
        .attr("regex", false)
        .attr("modulus", false)
        .attr("target_label", false)
        .attr("replacement", false)
        .attr("action", false)
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
        let rules = match v {
            Value::Object(fields) => match fields.get("rule") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        Rule::from_value(item)
                            .map_err(|e| ComponentError::args(format!("rule: {}", e.message())))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
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
        let mut fields = BTreeMap::new();
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
    fn run(self: Box<Self>, mut ctx: RunContext) -> RunFuture {
        Box::pin(async move {
            self.health.healthy("targets relabelled");
            loop {
                tokio::select! {
                    _ = ctx.cancel.cancelled() => return Ok(()),
                    changed = ctx.args.changed() => {
                        if changed.is_err() {
                            return Ok(());
                        }
                        let args = ctx.args.borrow_and_update().clone();
                        match Arguments::from_value(&args) {
                            Ok(parsed) => {
                                self.exports.publish(parsed.exports());
                                self.health.healthy("targets relabelled");
                            }
                            Err(e) => self.health.unhealthy(e.to_string()),
                        }
                    }
                }
            }
        })
    }
}
