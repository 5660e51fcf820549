//! Metrics of the remote-write queues, under Prometheus' own names so
//! dashboards built for Prometheus or Alloy work unchanged.
//!
//! Place in the data flow: every stage of a [`super::Queue`] (append, reader,
//! shards, flusher) counts into one [`EndpointMetrics`], a set of handles to
//! families registered once in the process's global registry
//! ([`crate::metrics::register`]). Series are labelled `remote_name` and
//! `url` like Prometheus'; drops add `reason` (`ttl`, `wal_size_cap`,
//! `too_old`, `corrupt`, `http_<status>`, `relabel`). Handles also answer
//! reads, which tests use to check what was counted.

use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

type Labels = Vec<(String, String)>;
type Counters = Family<Labels, Counter>;
type Gauges = Family<Labels, Gauge>;
type FloatGauges = Family<Labels, Gauge<f64, AtomicU64>>;

struct Families {
    samples: Counters,
    failed: Counters,
    retried: Counters,
    dropped: Counters,
    already_there: Counters,
    removed: Counters,
    shards: Gauges,
    highest_ts: FloatGauges,
    highest_sent_ts: FloatGauges,
    wal_bytes: Gauges,
    wal_disk_bytes: Gauges,
    backlog_samples: Gauges,
}

static FAMILIES: LazyLock<Families> = LazyLock::new(|| {
    let f = Families {
        samples: Counters::default(),
        failed: Counters::default(),
        retried: Counters::default(),
        dropped: Counters::default(),
        already_there: Counters::default(),
        removed: Counters::default(),
        shards: Gauges::default(),
        highest_ts: FloatGauges::default(),
        highest_sent_ts: FloatGauges::default(),
        wal_bytes: Gauges::default(),
        wal_disk_bytes: Gauges::default(),
        backlog_samples: Gauges::default(),
    };
    crate::metrics::register(|r| {
        r.register(
            "prometheus_remote_storage_samples",
            "Samples sent to remote storage (successfully delivered)",
            f.samples.clone(),
        );
        r.register(
            "prometheus_remote_storage_samples_failed",
            "Samples which failed on send to remote storage, non-recoverable errors",
            f.failed.clone(),
        );
        r.register(
            "prometheus_remote_storage_samples_retried",
            "Samples which failed on send to remote storage but were retried because the error was recoverable",
            f.retried.clone(),
        );
        r.register(
            "prometheus_remote_storage_samples_dropped",
            "Samples dropped before or instead of being sent, by reason",
            f.dropped.clone(),
        );
        r.register(
            "smelter_remote_write_samples_already_delivered",
            "Samples sent again after a restart that the endpoint had already (their request refused as out of order): neither delivered now nor dropped",
            f.already_there.clone(),
        );
        r.register(
            "smelter_remote_write_samples_dropped_in_removal",
            "Samples that reached a prometheus.remote_write (or one of its endpoints) while a reload was removing it: stored nowhere",
            f.removed.clone(),
        );
        r.register(
            "prometheus_remote_storage_shards",
            "Number of shards used for parallel sending to the remote storage",
            f.shards.clone(),
        );
        r.register(
            "prometheus_remote_storage_highest_timestamp_in_seconds",
            "Highest timestamp that has come into the queue's WAL, in seconds since epoch",
            f.highest_ts.clone(),
        );
        r.register(
            "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
            "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch",
            f.highest_sent_ts.clone(),
        );
        r.register(
            "smelter_remote_write_wal_backlog_bytes",
            "Logical size of the queue's WAL backlog (compressed entries not yet delivered by every shard)",
            f.wal_bytes.clone(),
        );
        r.register(
            "smelter_remote_write_wal_disk_bytes",
            "Bytes on disk of the WAL database holding the queue, including space sled has not reclaimed",
            f.wal_disk_bytes.clone(),
        );
        r.register(
            "smelter_remote_write_backlog_samples",
            "Samples stored in the queue's WAL backlog",
            f.backlog_samples.clone(),
        );
    });
    f
});

/// Counts `n` samples that reached component `id` (or one of its
/// endpoints) while it was being removed.
pub fn dropped_in_removal(id: &str, n: u64) {
    FAMILIES
        .removed
        .get_or_create(&vec![("component_id".into(), id.into())])
        .inc_by(n);
}

/// Samples counted by [`dropped_in_removal`] for component `id`.
pub fn dropped_in_removal_total(id: &str) -> u64 {
    FAMILIES
        .removed
        .get_or_create(&vec![("component_id".into(), id.into())])
        .get()
}

/// Drop reasons used by the queue.
pub mod reason {
    pub const TTL: &str = "ttl";
    pub const WAL_SIZE_CAP: &str = "wal_size_cap";
    pub const TOO_OLD: &str = "too_old";
    pub const CORRUPT: &str = "corrupt";
    pub const RELABEL: &str = "relabel";
}

/// The metric handles of one endpoint's queue.
#[derive(Clone)]
pub struct EndpointMetrics {
    id: Labels,
    pub(super) samples: Counter,
    pub(super) failed: Counter,
    pub(super) retried: Counter,
    pub(super) already_there: Counter,
    pub(super) shards: Gauge,
    pub(super) highest_ts: Gauge<f64, AtomicU64>,
    pub(super) highest_sent_ts: Gauge<f64, AtomicU64>,
    pub(super) wal_bytes: Gauge,
    pub(super) wal_disk_bytes: Gauge,
    pub(super) backlog_samples: Gauge,
}

impl std::fmt::Debug for EndpointMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointMetrics")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl EndpointMetrics {
    /// Handles for the endpoint `remote_name` sending to `url`.
    pub fn new(remote_name: &str, url: &str) -> EndpointMetrics {
        let f = &*FAMILIES;
        let id: Labels = vec![
            ("remote_name".into(), remote_name.into()),
            ("url".into(), url.into()),
        ];
        EndpointMetrics {
            samples: f.samples.get_or_create(&id).clone(),
            failed: f.failed.get_or_create(&id).clone(),
            retried: f.retried.get_or_create(&id).clone(),
            already_there: f.already_there.get_or_create(&id).clone(),
            shards: f.shards.get_or_create(&id).clone(),
            highest_ts: f.highest_ts.get_or_create(&id).clone(),
            highest_sent_ts: f.highest_sent_ts.get_or_create(&id).clone(),
            wal_bytes: f.wal_bytes.get_or_create(&id).clone(),
            wal_disk_bytes: f.wal_disk_bytes.get_or_create(&id).clone(),
            backlog_samples: f.backlog_samples.get_or_create(&id).clone(),
            id,
        }
    }

    fn dropped_counter(&self, reason: &str) -> Counter {
        let mut l = self.id.clone();
        l.push(("reason".into(), reason.into()));
        FAMILIES.dropped.get_or_create(&l).clone()
    }

    /// Counts `n` samples dropped for `reason`.
    pub fn dropped(&self, reason: &str, n: u64) {
        if n > 0 {
            self.dropped_counter(reason).inc_by(n);
        }
    }

    /// Samples dropped so far for `reason`.
    pub fn dropped_total(&self, reason: &str) -> u64 {
        self.dropped_counter(reason).get()
    }

    /// Samples delivered so far.
    pub fn samples_total(&self) -> u64 {
        self.samples.get()
    }

    /// Samples whose send failed with a recoverable error and was retried.
    pub fn retried_total(&self) -> u64 {
        self.retried.get()
    }

    /// Samples sent again after a restart that the endpoint had already.
    pub fn already_delivered_total(&self) -> u64 {
        self.already_there.get()
    }

    /// Samples that failed with a non-recoverable error.
    pub fn failed_total(&self) -> u64 {
        self.failed.get()
    }

    /// Shards sending now.
    pub fn shards_now(&self) -> i64 {
        self.shards.get()
    }

    /// Samples stored in the WAL backlog at the last update.
    pub fn backlog_samples(&self) -> i64 {
        self.backlog_samples.get()
    }

    /// Raises a float gauge to `v` if it is higher (timestamps only grow).
    pub(super) fn raise(g: &Gauge<f64, AtomicU64>, v: f64) {
        if v > g.get() {
            g.set(v);
        }
    }
}
