//! Storage of smelter: the telemetry model, its codecs and the write-ahead log.
//!
//! Data flow through this crate: sinks build [`model::Batch`]es, append them to
//! the [`wal::Wal`] and acknowledge producers after a flush; the sender reads
//! the WAL back, shards by [`model::Labels::stable_hash`], and encodes requests
//! with [`remote_write::encode`]. Receivers decode incoming bodies with
//! [`remote_write::decode`]. The scrape path parses pages with [`exposition`].

pub mod exposition;
pub mod model;
pub mod remote_write;
pub mod wal;

pub use model::{
    Batch, Exemplar, Labels, LabelsBuildHasher, LabelsBuilder, LabelsSet, Metadata, MetricType,
    Sample, Series,
};
