//! The record type of the metrics data plane: a batch of series, either in
//! the model or still in remote-write wire form.
//!
//! Place in the data flow: sources push a [`DataPlaneBatch`]; processors and
//! sinks that read labels get the model ([`DataPlaneBatch::into_decoded`]);
//! a sink that stores wire form takes it as it is
//! ([`DataPlaneBatch::into_encoded`]). Why two forms: in the aggregator role
//! (`prometheus.receive_http` → `prometheus.remote_write`) building a label
//! set per received series only to encode it back for the WAL was most of
//! the CPU (`benches/REMOTE_WRITE.md`); a receiver now forwards the series
//! it received as slices of the request, and they are decoded only where
//! something needs their labels. Because the form is an enum, no consumer
//! can read a batch without saying which form it needs.

use serde::{Deserialize, Serialize};
use smelter_storage::remote_write::{DecodeError, EncodedBatch};
use smelter_storage::Batch;

/// A batch on the metrics data plane.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DataPlaneBatch {
    /// Series in the model: what scrape loops build and processors change.
    Decoded(Batch),
    /// Series in wire form, as a receiver got them (checked, hashed).
    Encoded(EncodedBatch),
}

impl DataPlaneBatch {
    /// Samples in the batch, the unit of throughput and drop counts.
    pub fn sample_count(&self) -> usize {
        match self {
            DataPlaneBatch::Decoded(b) => b.sample_count(),
            DataPlaneBatch::Encoded(b) => b.sample_count(),
        }
    }

    /// The batch in the model, decoding wire form. Wire form was checked by
    /// the receiver that made it, so an error here means a bug, not input.
    pub fn into_decoded(self) -> Result<Batch, DecodeError> {
        match self {
            DataPlaneBatch::Decoded(b) => Ok(b),
            DataPlaneBatch::Encoded(b) => b.to_batch(),
        }
    }

    /// The batch in wire form, encoding the model.
    pub fn into_encoded(self) -> EncodedBatch {
        match self {
            DataPlaneBatch::Decoded(b) => EncodedBatch::from_batch(&b),
            DataPlaneBatch::Encoded(b) => b,
        }
    }
}

impl From<Batch> for DataPlaneBatch {
    fn from(batch: Batch) -> Self {
        DataPlaneBatch::Decoded(batch)
    }
}

impl From<EncodedBatch> for DataPlaneBatch {
    fn from(batch: EncodedBatch) -> Self {
        DataPlaneBatch::Encoded(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smelter_storage::{Labels, Sample, Series};

    #[test]
    fn both_forms_give_the_same_batch_and_count() {
        let batch = Batch {
            series: vec![Series::new(
                Labels::from_pairs([("__name__", "up")]),
                vec![Sample::new(1.0, 10), Sample::new(2.0, 20)],
            )],
            metadata: vec![],
        };
        let encoded = DataPlaneBatch::from(batch.clone()).into_encoded();
        assert_eq!(encoded, EncodedBatch::from_batch(&batch));
        let wire = DataPlaneBatch::from(encoded);
        assert_eq!(wire.sample_count(), 2);
        assert!(wire.into_decoded().unwrap().bit_eq(&batch));
    }
}
