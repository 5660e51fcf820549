//! Staleness tracking of one target's series between scrapes.
//!
//! In the data flow this is the scrape loop's memory: the label sets of the
//! previous successful scrape. A series present then and absent now gets a
//! staleness marker ([`Sample::stale`], Prometheus' `StaleNaN`) at the new
//! scrape's timestamp, so queries stop returning it at once instead of after
//! the 5-minute lookback. A failed scrape counts as an empty page (every
//! series goes stale), and a removed target marks all of its series stale.
//! Series whose page timestamp was honored are not tracked unless
//! `track_timestamps_staleness`, as in Prometheus.

use smelter_storage::{Labels, LabelsSet, Sample, Series};

/// The series of a target's previous scrape.
#[derive(Debug, Default)]
pub struct SeriesState {
    seen: LabelsSet,
    untracked: LabelsSet,
}

impl SeriesState {
    /// How many of `current` were not in the previous scrape
    /// (`scrape_series_added`).
    pub fn series_added(&self, current: &LabelsSet) -> usize {
        current.iter().filter(|l| !self.seen.contains(*l)).count()
    }

    /// Markers for every tracked series of the previous scrape absent from
    /// `current`, then `current` becomes the previous scrape.
    pub fn advance(&mut self, current: LabelsSet, untracked: LabelsSet, ts_ms: i64) -> Vec<Series> {
        let mut gone: Vec<&Labels> = self
            .seen
            .iter()
            .filter(|l| !current.contains(*l) && !self.untracked.contains(*l))
            .collect();
        gone.sort_unstable();
        let markers = gone
            .into_iter()
            .map(|l| Series::new(l.clone(), vec![Sample::stale(ts_ms)]))
            .collect();
        self.seen = current;
        self.untracked = untracked;
        markers
    }

    /// Markers for every tracked series, forgetting them (a failed scrape, a
    /// removed target).
    pub fn all_stale(&mut self, ts_ms: i64) -> Vec<Series> {
        self.advance(LabelsSet::default(), LabelsSet::default(), ts_ms)
    }

    /// Number of series remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}
