//! The telemetry model shared by every stage: label sets, samples, exemplars,
//! metadata, and the batches that flow from sinks through the WAL to senders.
//!
//! Everything here is serde-serializable: the WAL stores it with rmp-serde.

mod batch;
mod exemplar;
mod labels;
mod metadata;
mod sample;

pub use batch::{Batch, Series};
pub use exemplar::Exemplar;
pub use labels::{
    Iter as LabelsIter, Labels, LabelsBuildHasher, LabelsBuilder, LabelsError, LabelsHasher,
    LabelsSet, RawPairs as LabelsRawPairs, METRIC_NAME,
};
pub use metadata::{Metadata, MetricType};
pub use sample::{is_stale_nan, stale_nan, Sample, STALE_NAN_BITS};
