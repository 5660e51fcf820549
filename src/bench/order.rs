//! The per-series timestamp order check of the benchmark's receiver.
//!
//! Place in the data flow: [`super::receiver`] passes every decoded series
//! through [`OrderChecker::observe`]; a strict Prometheus receiver would
//! reject what this counts as out of order, so the report shows it per
//! collector. Duplicates (the same timestamp again: at-least-once
//! re-delivery after a crash) are counted apart, since they are legal.

use std::collections::HashMap;
use std::sync::Mutex;

use smelter_storage::Sample;

/// Shards of the last-timestamp map, so concurrent requests seldom contend.
const SHARDS: usize = 16;

/// How the samples of one observed series compared with what came before.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OrderCounts {
    /// Newer than every earlier sample of the series.
    pub in_order: u64,
    /// The same timestamp as the series' newest: a re-delivery.
    pub duplicate: u64,
    /// Older than the series' newest: a strict receiver rejects it.
    pub out_of_order: u64,
}

impl OrderCounts {
    pub fn add(&mut self, other: OrderCounts) {
        self.in_order += other.in_order;
        self.duplicate += other.duplicate;
        self.out_of_order += other.out_of_order;
    }
}

/// The newest timestamp seen per series, keyed by a hash of its labels.
#[derive(Debug)]
pub struct OrderChecker {
    shards: Vec<Mutex<HashMap<u64, i64>>>,
}

impl Default for OrderChecker {
    fn default() -> Self {
        OrderChecker {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl OrderChecker {
    /// Checks `samples` of series `series` (in the order they arrived) and
    /// remembers the newest timestamp.
    pub fn observe(&self, series: u64, samples: &[Sample]) -> OrderCounts {
        let mut counts = OrderCounts::default();
        let shard = &self.shards[(series % SHARDS as u64) as usize];
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        let newest = map.entry(series).or_insert(i64::MIN);
        for s in samples {
            match s.timestamp_ms.cmp(newest) {
                std::cmp::Ordering::Greater => {
                    counts.in_order += 1;
                    *newest = s.timestamp_ms;
                }
                std::cmp::Ordering::Equal => counts.duplicate += 1,
                std::cmp::Ordering::Less => counts.out_of_order += 1,
            }
        }
        counts
    }

    /// How many distinct series were seen.
    pub fn series(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}
