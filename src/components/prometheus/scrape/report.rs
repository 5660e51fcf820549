//! The report series Prometheus adds to every scrape of a target: `up`,
//! `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling`, `scrape_series_added`.
//!
//! In the data flow they are appended to the same batch as the scrape's
//! samples, at the scrape timestamp, labelled with the target's labels only
//! (a target label always wins, as in Prometheus' report labelling). When a
//! target goes away they get staleness markers like any series.

use smelter_storage::{Labels, LabelsBuilder, Sample, Series};

/// Names of the report series, in the order they are appended.
pub const REPORT_NAMES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// The values of one scrape's report.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Report {
    pub up: bool,
    pub duration_seconds: f64,
    pub samples_scraped: usize,
    pub samples_post_metric_relabeling: usize,
    pub series_added: usize,
}

/// The report series' label sets for a target, built once per target.
pub fn report_labels(target: &Labels) -> [Labels; 5] {
    REPORT_NAMES.map(|name| {
        let mut b = LabelsBuilder::from_labels(target);
        b.set("__name__", name);
        b.build()
    })
}

impl Report {
    /// The report series at `ts_ms`.
    pub fn series(&self, labels: &[Labels; 5], ts_ms: i64) -> Vec<Series> {
        let values = [
            if self.up { 1.0 } else { 0.0 },
            self.duration_seconds,
            self.samples_scraped as f64,
            self.samples_post_metric_relabeling as f64,
            self.series_added as f64,
        ];
        labels
            .iter()
            .zip(values)
            .map(|(l, v)| Series::new(l.clone(), vec![Sample::new(v, ts_ms)]))
            .collect()
    }
}

/// Staleness markers for the report series at `ts_ms`.
pub fn stale_report(labels: &[Labels; 5], ts_ms: i64) -> Vec<Series> {
    labels
        .iter()
        .map(|l| Series::new(l.clone(), vec![Sample::stale(ts_ms)]))
        .collect()
}
