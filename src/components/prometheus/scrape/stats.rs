//! Counters of the scrape engine, for the component's debug metrics and the
//! process' `/metrics`.
//!
//! In the data flow they sit beside the scrape loops: every loop of one
//! component adds to the same [`ScrapeStats`], which the owner reads with
//! [`ScrapeStats::snapshot`]. Atomics, so loops never contend on a lock.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters of one scrape engine (one `prometheus.scrape` component).
#[derive(Debug, Default)]
pub struct ScrapeStats {
    pub(crate) scrapes: AtomicU64,
    pub(crate) failed_scrapes: AtomicU64,
    pub(crate) samples_appended: AtomicU64,
    pub(crate) stale_markers: AtomicU64,
    pub(crate) backpressure: AtomicU64,
    pub(crate) delayed_scrapes: AtomicU64,
    pub(crate) sample_limit_exceeded: AtomicU64,
    pub(crate) body_size_limit_exceeded: AtomicU64,
    pub(crate) active_targets: AtomicU64,
}

/// A point-in-time copy of [`ScrapeStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Scrapes attempted.
    pub scrapes: u64,
    /// Scrapes that failed (`up` = 0).
    pub failed_scrapes: u64,
    /// Samples handed to the appender (scraped, stale markers and report
    /// series).
    pub samples_appended: u64,
    /// Staleness markers among them.
    pub stale_markers: u64,
    /// Times the appender answered [`Backpressure`](super::Backpressure).
    pub backpressure: u64,
    /// Scheduled scrapes skipped because an earlier batch was still waiting
    /// for the appender.
    pub delayed_scrapes: u64,
    pub sample_limit_exceeded: u64,
    pub body_size_limit_exceeded: u64,
    /// Targets with a running scrape loop.
    pub active_targets: u64,
}

impl ScrapeStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            scrapes: l(&self.scrapes),
            failed_scrapes: l(&self.failed_scrapes),
            samples_appended: l(&self.samples_appended),
            stale_markers: l(&self.stale_markers),
            backpressure: l(&self.backpressure),
            delayed_scrapes: l(&self.delayed_scrapes),
            sample_limit_exceeded: l(&self.sample_limit_exceeded),
            body_size_limit_exceeded: l(&self.body_size_limit_exceeded),
            active_targets: l(&self.active_targets),
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set(gauge: &AtomicU64, n: u64) {
        gauge.store(n, Ordering::Relaxed);
    }
}
