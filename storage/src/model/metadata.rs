//! Metric family metadata (type, help, unit).
//!
//! Place in the data flow: scrapes read it from `# TYPE`/`# HELP`/`# UNIT`
//! lines and remote write forwards it (`WriteRequest.metadata`), so a
//! receiver knows a counter from a gauge. It travels in batches beside the
//! series, not per sample, because it changes rarely.

use serde::{Deserialize, Serialize};

/// The OpenMetrics metric types, in the order and numbering of prompb's
/// `MetricMetadata.MetricType`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    #[default]
    Unknown,
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    Stateset,
}

impl MetricType {
    /// The name used in exposition formats (`# TYPE x gaugehistogram`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Unknown => "unknown",
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::Stateset => "stateset",
        }
    }
}

/// Metadata of one metric family.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Metadata {
    pub metric_family_name: String,
    #[serde(rename = "type")]
    pub metric_type: MetricType,
    pub help: String,
    pub unit: String,
}
