//! Series already in remote-write wire form: what the WAL stores and the
//! sender sends without re-encoding.
//!
//! Place in the data flow: `prometheus.remote_write` turns each batch into an
//! [`EncodedBatch`] once, at append; the WAL stores it (entry format 2), the
//! reader shards it by [`EncodedSeries::hash`], and a shard builds a request
//! by concatenating the series' `WriteRequest.timeseries` fields — a
//! protobuf repeated field is exactly its elements back to back — then
//! compressing once. Why: encoding per send and decoding every WAL entry
//! back into label sets were the two largest costs of an aggregator after
//! receiving (`benches/REMOTE_WRITE.md`); vmagent likewise queues ready
//! request blocks.
//!
//! A series goes back to the model ([`EncodedSeries::decode`]) only when
//! something must change it on the way out: `write_relabel_config`,
//! external labels, `sample_age_limit` or a request boundary splitting it.

use bytes::Bytes;
use prost::encoding::{decode_key, WireType};
use serde::{Deserialize, Serialize};

use super::{reader, writer, DecodeError};
use crate::model::{Batch, Metadata, Series};

/// One series in wire form, with what the sender needs without decoding it.
///
/// Serde is for the data plane's record bound (timely's `ExchangeData`);
/// the WAL stores its own layout (`wal::entry`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedSeries {
    /// The `WriteRequest.timeseries` field: key, length, `TimeSeries`.
    pub field: Bytes,
    /// [`crate::model::Labels::stable_hash`] of the series' labels.
    pub hash: u64,
    pub samples: u32,
    /// Lowest and highest sample timestamp (ms); both 0 without samples.
    pub min_ts: i64,
    pub max_ts: i64,
}

/// A batch whose series are in wire form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EncodedBatch {
    pub series: Vec<EncodedSeries>,
    pub metadata: Vec<Metadata>,
}

impl EncodedSeries {
    /// Back to the model (labels validated again: input may come from disk).
    pub fn decode(&self) -> Result<Series, DecodeError> {
        reader::read_series(timeseries_message(&self.field)?, 0, &mut Vec::new())
    }

    /// Encodes one model series.
    pub fn from_series(series: &Series) -> EncodedSeries {
        let mut buf = Vec::new();
        writer::write_series_field(series, &mut buf);
        Self::with_field(series, Bytes::from(buf))
    }

    fn with_field(series: &Series, field: Bytes) -> EncodedSeries {
        EncodedSeries {
            field,
            hash: series.labels.stable_hash(),
            samples: series.samples.len() as u32,
            min_ts: series.samples.first().map_or(0, |s| s.timestamp_ms),
            max_ts: series.samples.last().map_or(0, |s| s.timestamp_ms),
        }
    }
}

/// The `TimeSeries` message inside a `timeseries` field, checking that the
/// field is one whole `timeseries` field (key 1, length = the rest).
pub(crate) fn timeseries_message(mut field: &[u8]) -> Result<&[u8], DecodeError> {
    let (tag, wire_type) = decode_key(&mut field)?;
    if tag != 1 || wire_type != WireType::LengthDelimited {
        return Err(DecodeError::Malformed("not a timeseries field"));
    }
    let len = prost::encoding::decode_varint(&mut field)?;
    if len != field.len() as u64 {
        return Err(DecodeError::Malformed("timeseries length mismatch"));
    }
    Ok(field)
}

impl EncodedBatch {
    /// Encodes a model batch: one buffer for all series, sliced per series.
    pub fn from_batch(batch: &Batch) -> EncodedBatch {
        let mut buf = Vec::with_capacity(batch.series.len() * 160);
        let mut ends = Vec::with_capacity(batch.series.len());
        for s in &batch.series {
            writer::write_series_field(s, &mut buf);
            ends.push(buf.len());
        }
        let body = Bytes::from(buf);
        let mut start = 0;
        let series = batch
            .series
            .iter()
            .zip(ends)
            .map(|(s, end)| {
                let e = EncodedSeries::with_field(s, body.slice(start..end));
                start = end;
                e
            })
            .collect();
        EncodedBatch {
            series,
            metadata: batch.metadata.clone(),
        }
    }

    /// Back to the model.
    pub fn to_batch(&self) -> Result<Batch, DecodeError> {
        Ok(Batch {
            series: self
                .series
                .iter()
                .map(EncodedSeries::decode)
                .collect::<Result<_, _>>()?,
            metadata: self.metadata.clone(),
        })
    }

    /// Total number of samples.
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples as usize).sum()
    }

    /// Whether there is nothing to store or send.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.metadata.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Labels, Sample};

    #[test]
    fn round_trips_and_concatenates_into_a_request() {
        let batch = Batch {
            series: vec![
                Series::new(
                    Labels::from_pairs([("__name__", "a"), ("x", "1")]),
                    vec![Sample::new(1.5, 10), Sample::new(2.5, 20)],
                ),
                Series::new(Labels::from_pairs([("__name__", "b")]), vec![]),
            ],
            metadata: vec![],
        };
        let enc = EncodedBatch::from_batch(&batch);
        assert_eq!(enc.sample_count(), 2);
        assert_eq!((enc.series[0].min_ts, enc.series[0].max_ts), (10, 20));
        assert_eq!(enc.series[0].hash, batch.series[0].labels.stable_hash());
        assert!(enc.to_batch().unwrap().bit_eq(&batch));
        assert_eq!(EncodedSeries::from_series(&batch.series[1]), enc.series[1]);
        let concatenated: Vec<u8> = enc.series.iter().flat_map(|s| s.field.to_vec()).collect();
        let mut request = Vec::new();
        writer::write_request(&batch, &mut request);
        assert_eq!(concatenated, request);
    }

    #[test]
    fn a_corrupt_field_is_an_error() {
        let mut s = EncodedSeries::from_series(&Series::new(
            Labels::from_pairs([("__name__", "a")]),
            vec![Sample::new(1.0, 1)],
        ));
        s.field = s.field.slice(..s.field.len() - 1);
        assert!(s.decode().is_err());
    }
}
