//! `prometheus.relabel`: a data-plane processor applying relabel rules to
//! every series of the batches forwarded to it.
//!
//! Place in the data flow: the component itself only publishes its exports
//! (`receiver`, `rules`) to the control plane; the work happens in the data
//! plane, where the runtime installs the operator [`compile`]d from its
//! arguments. A change of the rules reaches the running dataflow through
//! `update_args` (no rebuild); a change of `forward_to` changes edges and
//! rebuilds. Results are cached by the input labels' `stable_hash`, bounded by
//! `max_cache_size` (the cache is cleared when full, and belongs to one set
//! of rules: new rules start with an empty cache).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use smelter_storage::{Labels, Series};

use crate::component::derived::run_derived_exports;
use crate::component::{
    receiver_export, Args, BatchProcessor, BuildContext, Component, ComponentError, Exports,
    Health, MetricsBatch, Registration, RunContext, RunFuture,
};
use crate::components::common::relabel::{
    process_series, relabel_rule_schema, rule_blocks, rules_to_value, Rule, Scratch, SortedLabels,
};
use crate::controller::schema::Schema;
use crate::syntax::Value;

const DEFAULT_MAX_CACHE_SIZE: usize = 100_000;

pub fn registration() -> Registration {
    Registration {
        name: "prometheus.relabel",
        schema,
        validate: |v| Arguments::from_value(v).map(|_| ()),
        build,
    }
}

fn schema() -> Schema {
    Schema::new()
        .attr("forward_to", true)
        .attr("max_cache_size", false)
        .attr("cache_ttl", false)
        .blocks("rule", false, relabel_rule_schema())
}

#[derive(Debug, Clone, PartialEq)]
struct Arguments {
    rules: Vec<Rule>,
    max_cache_size: usize,
}

impl Arguments {
    fn from_value(v: &Value) -> Result<Self, ComponentError> {
        let args = Args::new(v)?;
        // Checked here; the runtime reads the receivers from the arguments.
        let forward_to: Value = args.required("forward_to")?;
        if !matches!(forward_to, Value::Array(_)) {
            return Err(ComponentError::args(
                "forward_to must be a list of receivers",
            ));
        }
        let max_cache_size: i64 = args.or("max_cache_size", DEFAULT_MAX_CACHE_SIZE as i64)?;
        if max_cache_size <= 0 {
            return Err(ComponentError::args(
                "max_cache_size must be greater than 0",
            ));
        }
        let rules = rule_blocks(v)?;
        Ok(Arguments {
            rules,
            max_cache_size: max_cache_size as usize,
        })
    }
}

/// The operator the data plane runs for one set of arguments.
struct Relabeler {
    rules: Vec<Rule>,
    max_cache_size: usize,
    /// Input labels' hash → relabelled labels (`None`: dropped). Shared by the
    /// workers; held only for a lookup or an insert.
    cache: Mutex<HashMap<u64, (Labels, Option<Labels>)>>,
}

impl Relabeler {
    fn relabel(&self, labels: &Labels, scratch: &mut Scratch) -> Option<Labels> {
        let hash = labels.stable_hash();
        if let Ok(cache) = self.cache.lock() {
            // The input is kept to rule out hash collisions.
            if let Some((input, out)) = cache.get(&hash) {
                if input == labels {
                    return out.clone();
                }
            }
        }
        let mut sorted = SortedLabels::from_pairs(labels.iter());
        let out = if process_series(&self.rules, &mut sorted, scratch) {
            Some(Labels::from_pairs(sorted.iter()))
        } else {
            None
        };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= self.max_cache_size {
                cache.clear();
            }
            cache.insert(hash, (labels.clone(), out.clone()));
        }
        out
    }
}

impl BatchProcessor for Relabeler {
    fn process(&self, mut batch: MetricsBatch) -> Option<MetricsBatch> {
        if self.rules.is_empty() {
            return Some(batch);
        }
        let mut scratch = Scratch::default();
        let series = std::mem::take(&mut batch.series);
        batch.series = series
            .into_iter()
            .filter_map(|s| {
                let labels = self.relabel(&s.labels, &mut scratch)?;
                Some(Series { labels, ..s })
            })
            .collect();
        (!batch.is_empty()).then_some(batch)
    }
}

/// Compiles validated arguments into the data-plane operator.
pub fn compile(args: &Value) -> Result<Arc<dyn BatchProcessor>, ComponentError> {
    let parsed = Arguments::from_value(args)?;
    Ok(Arc::new(Relabeler {
        rules: parsed.rules,
        max_cache_size: parsed.max_cache_size,
        cache: Mutex::new(HashMap::new()),
    }))
}

fn exports(id: &str, args: &Arguments) -> Value {
    let mut fields = BTreeMap::new();
    fields.insert("receiver".to_string(), receiver_export(id));
    fields.insert("rules".to_string(), rules_to_value(&args.rules));
    Value::Object(fields)
}

struct PrometheusRelabel {
    id: String,
    exports: Exports,
    health: Health,
}

fn build(ctx: BuildContext, args: &Value) -> Result<Box<dyn Component>, ComponentError> {
    let parsed = Arguments::from_value(args)?;
    // Publish at once, so components forwarding to it can evaluate.
    ctx.exports.publish(exports(&ctx.id, &parsed));
    Ok(Box::new(PrometheusRelabel {
        id: ctx.id,
        exports: ctx.exports,
        health: ctx.health,
    }))
}

impl Component for PrometheusRelabel {
    fn run(self: Box<Self>, ctx: RunContext) -> RunFuture {
        // The operator itself is replaced by the runtime; this only keeps
        // the exports (`receiver`, `rules`) in step with the arguments.
        let id = self.id;
        Box::pin(run_derived_exports(
            ctx,
            self.exports,
            self.health,
            "relabelling",
            move |args| Arguments::from_value(args).map(|a| exports(&id, &a)),
        ))
    }
}
