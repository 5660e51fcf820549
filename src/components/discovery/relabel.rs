//! `discovery.relabel`: rewrites a list of targets with relabel rules.
//!
//! It lives entirely in the control plane: its `output` export is a pure
//! function of its arguments (`targets` and the `rule` blocks), recomputed on
//! every update and published, so only the components that read `output`
//! are evaluated again — and only when it actually changed.

use std::collections::BTreeMap;

use crate::component::{Args, Build, ComponentError, Derive, Registration};
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
        build: Build::Derived(Derive {
            derive,
            healthy: "targets relabelled",
        }),
    }
}

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
