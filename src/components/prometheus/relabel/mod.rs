//! `prometheus.relabel`: a data-plane processor applying relabel rules to
//! every series of the batches forwarded to it.
//!
//! Place in the data flow: the component itself only publishes its exports
//! (`receiver`, `rules`) to the control plane; the work happens in the data
//! plane, where the runtime installs the operator [`compile`]d from its
//! arguments. A change of the rules reaches the running dataflow through
//! `update_args` (no rebuild); a change of `forward_to` changes edges and
//! rebuilds. Results are cached by input label set, bounded by
//! `max_cache_size`, and belong to one set of rules (new rules start with an
//! empty cache). The cache keeps what the rules changed, not the resulting
//! label set (`edit.rs`).
//!
//! Eviction: when the cache is full, a sixteenth of it goes, in the hash
//! table's order (which the content hash makes arbitrary with respect to
//! arrival order). Neither clearing the whole cache nor LRU would do: a
//! scrape pipeline cycles through the same N series every interval, and with
//! N just above `max_cache_size` (the 100 k default against 100 k series plus
//! report series) both evict every entry before it is used again, so no
//! lookup would ever hit. Dropping an arbitrary slice keeps most of the set
//! and misses only about N − `max_cache_size` series per cycle.
//!
//! The cache is the hot path: a scrape or an agent sends the same series
//! every interval, so in the steady state a series costs one hash and one
//! lookup. A batch takes the (shared) cache's lock twice, once to look every
//! series up and once to insert what missed, not once per series; misses
//! run the rules in one reused label builder.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use smelter_storage::{Labels, LabelsBuildHasher, Series};

mod edit;
use edit::{Interner, LabelEdit};

use crate::component::derived::run_derived_exports;
use crate::component::{
    receiver_export, Args, BatchProcessor, Build, BuildContext, Component, ComponentError, Exports,
    Health, MetricsBatch, Registration, RunContext, RunFuture,
};
use crate::components::common::relabel::{
    process_series, relabel_rule_schema, rule_blocks, rules_to_value, Rule, Scratch, SortedLabels,
};
use crate::controller::schema::Schema;
use crate::syntax::{Object, Value};

const DEFAULT_MAX_CACHE_SIZE: usize = 100_000;

pub fn registration() -> Registration {
    Registration {
        name: "prometheus.relabel",
        schema,
        validate: |v| Arguments::from_value(v).map(|_| ()),
        build: Build::Task(build),
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

/// Input label set → what the rules do to it.
type Entries = HashMap<Labels, LabelEdit, LabelsBuildHasher>;

#[derive(Default)]
struct Cache {
    entries: Entries,
    edits: Interner,
}

/// The operator the data plane runs for one set of arguments.
struct Relabeler {
    rules: Vec<Rule>,
    max_cache_size: usize,
    /// Shared by the workers; held for one pass over a batch.
    cache: Mutex<Cache>,
}

impl Relabeler {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding it leaves at worst a partial insert.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs the rules over one label set in reused buffers.
fn run_rules(
    rules: &[Rule],
    labels: &Labels,
    builder: &mut SortedLabels,
    scratch: &mut Scratch,
) -> LabelEdit {
    // `Labels` iterate sorted by name, as the builder keeps them.
    builder.fill_sorted(labels.iter());
    if !process_series(rules, builder, scratch) {
        return LabelEdit::Drop;
    }
    LabelEdit::between(labels, builder.iter())
}

impl BatchProcessor for Relabeler {
    fn process(&self, mut batch: MetricsBatch) -> Option<MetricsBatch> {
        if self.rules.is_empty() {
            return Some(batch);
        }
        let series = std::mem::take(&mut batch.series);
        // The batch's distinct edits, and each series' index among them
        // (`None`: not cached yet). Edits are cloned out of the cache a few
        // times per batch, not once per series: the edit most series share
        // is one reference count, which the workers would otherwise both
        // write for every series.
        let mut distinct: Vec<LabelEdit> = Vec::new();
        let mut results: Vec<Option<usize>> = {
            let cache = self.lock();
            series
                .iter()
                .map(|s| Some(index_of(&mut distinct, cache.entries.get(&s.labels)?)))
                .collect()
        };
        let mut fresh: Vec<(Labels, LabelEdit)> = Vec::new();
        let (mut builder, mut scratch) = (SortedLabels::new(), Scratch::default());
        for (s, result) in series.iter().zip(results.iter_mut()) {
            if result.is_none() {
                let edit = run_rules(&self.rules, &s.labels, &mut builder, &mut scratch);
                *result = Some(index_of(&mut distinct, &edit));
                fresh.push((s.labels.clone(), edit));
            }
        }
        if !fresh.is_empty() {
            let mut cache = self.lock();
            for (input, edit) in fresh {
                if cache.entries.len() >= self.max_cache_size {
                    evict(&mut cache.entries, self.max_cache_size);
                }
                let edit = cache.edits.intern(edit);
                cache.entries.insert(input, edit);
            }
        }
        batch.series = series
            .into_iter()
            .zip(results)
            .filter_map(|(s, i)| {
                Some(Series {
                    labels: distinct[i?].apply(&s.labels)?,
                    ..s
                })
            })
            .collect();
        (!batch.is_empty()).then_some(batch)
    }
}

/// The index of `edit` in `distinct`, added if it is not among the last
/// few (rules that make a different edit for every series must not make
/// this quadratic).
fn index_of(distinct: &mut Vec<LabelEdit>, edit: &LabelEdit) -> usize {
    let recent = distinct.len().saturating_sub(8);
    if let Some(i) = distinct[recent..].iter().rposition(|d| d.is(edit)) {
        return recent + i;
    }
    distinct.push(edit.clone());
    distinct.len() - 1
}

/// Makes room in a full cache of capacity `max`: drops `max / 16` entries
/// (at least one), the first in the table's order (see the module docs).
fn evict(cache: &mut Entries, max: usize) {
    let mut left = (max / 16).max(1);
    cache.retain(|_, _| {
        if left == 0 {
            return true;
        }
        left -= 1;
        false
    });
}

/// Compiles validated arguments into the data-plane operator.
pub fn compile(args: &Value) -> Result<Arc<dyn BatchProcessor>, ComponentError> {
    let parsed = Arguments::from_value(args)?;
    Ok(Arc::new(Relabeler {
        rules: parsed.rules,
        max_cache_size: parsed.max_cache_size,
        cache: Mutex::new(Cache::default()),
    }))
}

fn exports(id: &str, args: &Arguments) -> Value {
    let mut fields = Object::new();
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

#[cfg(test)]
mod tests {
    use super::*;
    use smelter_storage::Sample;

    fn relabeler(max_cache_size: usize) -> Relabeler {
        let rule = Rule {
            target_label: "pipeline".into(),
            replacement: "bench".into(),
            ..Rule::default()
        };
        Relabeler {
            rules: vec![rule],
            max_cache_size,
            cache: Mutex::new(Cache::default()),
        }
    }

    fn batch(range: std::ops::Range<usize>) -> MetricsBatch {
        MetricsBatch {
            series: range
                .map(|i| {
                    Series::new(
                        Labels::from_pairs([("__name__", "m"), ("i", &i.to_string())]),
                        vec![Sample::new(1.0, 1)],
                    )
                })
                .collect(),
            metadata: Vec::new(),
        }
    }

    #[test]
    fn a_full_cache_evicts_a_sixteenth_not_everything() {
        let r = relabeler(160);
        let out = r.process(batch(0..160)).unwrap();
        assert_eq!(out.series.len(), 160);
        assert!(out
            .series
            .iter()
            .all(|s| s.labels.get("pipeline") == Some("bench")));
        assert_eq!(r.lock().entries.len(), 160);
        // One series more than fits: ten entries go, the new one comes in.
        r.process(batch(160..161)).unwrap();
        assert_eq!(r.lock().entries.len(), 151);
        // Cycling through all 161 again, 151 are hits: only the ten evicted
        // miss (clearing the cache when full would leave one hit).
        let cycle = batch(0..161);
        let hits = {
            let cache = r.lock();
            cycle
                .series
                .iter()
                .filter(|s| cache.entries.contains_key(&s.labels))
                .count()
        };
        assert_eq!(hits, 151);
        let out = r.process(cycle).unwrap();
        assert_eq!(out.series.len(), 161);
        assert_eq!(r.lock().entries.len(), 151);
    }

    #[test]
    fn cached_results_equal_fresh_ones() {
        let r = relabeler(1_000);
        let first = r.process(batch(0..50)).unwrap();
        let second = r.process(batch(0..50)).unwrap();
        assert_eq!(first, second);
        assert_eq!(r.lock().entries.len(), 50);
    }

    #[test]
    fn dropped_changed_and_kept_series_come_out_the_same_from_the_cache() {
        use crate::components::common::relabel::{Action, Regexp};
        let rules = vec![
            // Drops the series whose `i` ends in 0 ...
            Rule {
                source_labels: Some(vec!["i".into()]),
                regex: Regexp::new(".*0").unwrap(),
                action: Action::Drop,
                ..Rule::default()
            },
            // ... renames `i` to `n` on those ending in 5 ...
            Rule {
                source_labels: Some(vec!["i".into()]),
                regex: Regexp::new("(.*5)").unwrap(),
                target_label: "n".into(),
                replacement: "$1".into(),
                ..Rule::default()
            },
            Rule {
                source_labels: Some(vec!["n".into()]),
                regex: Regexp::new(".+").unwrap(),
                target_label: "i".into(),
                replacement: String::new(),
                ..Rule::default()
            },
        ];
        // ... and keeps the rest as they are.
        let r = Relabeler {
            rules,
            max_cache_size: 1_000,
            cache: Mutex::new(Cache::default()),
        };
        let first = r.process(batch(0..100)).unwrap();
        let second = r.process(batch(0..100)).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.series.len(), 90);
        let renamed = first.series.iter().filter(|s| s.labels.get("n").is_some());
        assert_eq!(renamed.count(), 10);
        assert!(first
            .series
            .iter()
            .all(|s| s.labels.get("i").is_some() != s.labels.get("n").is_some()));
        assert_eq!(r.lock().entries.len(), 100);
    }
}
