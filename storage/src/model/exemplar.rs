//! Exemplars: a sample of a related trace attached to a series.
//!
//! Place in the data flow: parsed from OpenMetrics scrapes, stored with the
//! series in the WAL, sent in `TimeSeries.exemplars` by remote write.

use serde::{Deserialize, Serialize};

use super::Labels;

/// An exemplar: its own labels (usually `trace_id`), a value, and an optional
/// timestamp (OpenMetrics makes it optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exemplar {
    pub labels: Labels,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
}
