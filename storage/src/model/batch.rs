//! The unit of work between sinks, the WAL and the sender: a batch of series,
//! each with its samples, plus metric metadata.
//!
//! Place in the data flow: a sink collects one epoch's data into a [`Batch`],
//! the WAL stores it as one entry (so one flush acknowledges it whole), and
//! the sender splits it by series hash into shards and re-batches per request.
//!
//! Native histograms are not carried yet. They will arrive as a new trailing
//! field of [`Series`] (`histograms: Vec<Histogram>`, `#[serde(default)]`) so
//! WAL entries written before that still decode: serde fills a missing
//! trailing field of a msgpack array with its default.

use serde::{Deserialize, Serialize};

use super::{Exemplar, Labels, Metadata, Sample};

/// One series and its new data.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Series {
    pub labels: Labels,
    /// Samples in timestamp order, as receivers that reject out-of-order
    /// samples need.
    pub samples: Vec<Sample>,
    #[serde(default)]
    pub exemplars: Vec<Exemplar>,
}

impl Series {
    pub fn new(labels: Labels, samples: Vec<Sample>) -> Self {
        Series {
            labels,
            samples,
            exemplars: Vec::new(),
        }
    }
}

/// A batch of series and metadata.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Batch {
    pub series: Vec<Series>,
    #[serde(default)]
    pub metadata: Vec<Metadata>,
}

impl Batch {
    /// Total number of samples, the unit of throughput and drop metrics.
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// Whether there is nothing to store or send.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.metadata.is_empty()
    }

    /// Equality that compares sample values bit for bit (NaN-safe).
    pub fn bit_eq(&self, other: &Batch) -> bool {
        self.metadata == other.metadata
            && self.series.len() == other.series.len()
            && self.series.iter().zip(&other.series).all(|(a, b)| {
                a.labels == b.labels
                    && a.samples.len() == b.samples.len()
                    && a.samples.iter().zip(&b.samples).all(|(x, y)| x.bit_eq(y))
                    && a.exemplars.len() == b.exemplars.len()
                    && a.exemplars.iter().zip(&b.exemplars).all(|(x, y)| {
                        x.labels == y.labels
                            && x.value.to_bits() == y.value.to_bits()
                            && x.timestamp_ms == y.timestamp_ms
                    })
            })
    }
}
