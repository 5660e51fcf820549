//! The on-disk form of one WAL entry (one [`Batch`]), kept apart from the
//! queue logic so the format is in one place.
//!
//! Key: the sequence number as `u64` big-endian, so sled's byte order is
//! sequence order and range scans start at a position.
//!
//! Value:
//!
//! | bytes  | field                                                            |
//! |--------|------------------------------------------------------------------|
//! | 0      | format version, `2` (`1` is still read)                          |
//! | 1..9   | cumulative value bytes of the queue up to and including this one |
//! | 9..17  | cumulative samples of the queue up to and including this one     |
//! | 17..25 | samples in this entry                                            |
//! | 25..   | snappy *raw block* of the rmp-serde (array form) payload         |
//!
//! Payload of format 2: `[[series...], [metadata...]]`, each series
//! `[hash, samples, min_ts, max_ts, bin]` where `bin` is the series'
//! `WriteRequest.timeseries` field in remote write 1.0 wire form
//! ([`EncodedBatch`]): the sender sends it as it is, so neither reading an
//! entry back nor sending it re-encodes label sets. Format 1 (a
//! [`crate::model::Batch`], label sets as msgpack byte strings of
//! [`crate::model::Labels`]' canonical encoding) is still read, and turned
//! into format 2's form on the way out.
//!
//! Why the cumulative counters: backlog size and sample count come from the
//! first and last entries alone (O(log n), no scan at open), and the size cap
//! can count dropped samples from headers without decompressing. Why raw
//! snappy rather than the framed format: sled already checksums what it
//! stores, so the frame's CRC would be paid twice; raw is smaller and faster.

use bytes::Bytes;
use serde::{Deserialize, Serialize, Serializer};

use super::error::EntryError;
use crate::model::{Batch, Metadata};
use crate::remote_write::{EncodedBatch, EncodedSeries};

pub(crate) const VERSION: u8 = 2;
const VERSION_1: u8 = 1;
pub(crate) const HEADER_LEN: usize = 25;
const MAX_SNAPPY_EXPANSION: usize = 32;

/// The fixed-size header of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Header {
    pub cum_bytes: u64,
    pub cum_samples: u64,
    pub samples: u64,
}

pub(crate) fn key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub(crate) fn parse_key(key: &[u8]) -> Result<u64, EntryError> {
    let bytes: [u8; 8] = key.try_into().map_err(|_| EntryError::BadKey(key.len()))?;
    Ok(u64::from_be_bytes(bytes))
}

/// A series' wire bytes as a msgpack `bin` (a plain `&[u8]` would be
/// written as an array of integers).
struct Bin<'a>(&'a [u8]);

impl Serialize for Bin<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

#[derive(Serialize)]
struct SeriesOut<'a>(u64, u32, i64, i64, Bin<'a>);

#[derive(Serialize)]
struct PayloadOut<'a>(Vec<SeriesOut<'a>>, &'a [Metadata]);

#[derive(Deserialize)]
struct SeriesIn<'a>(u64, u32, i64, i64, #[serde(borrow)] &'a [u8]);

#[derive(Deserialize)]
struct PayloadIn<'a>(#[serde(borrow)] Vec<SeriesIn<'a>>, Vec<Metadata>);

/// Encodes `batch` into an entry value whose header still lacks the
/// cumulative counters (filled by [`set_cumulative`] under the append lock).
pub(crate) fn encode(batch: &EncodedBatch, samples: u64) -> Result<Vec<u8>, super::WalError> {
    let payload = PayloadOut(
        batch
            .series
            .iter()
            .map(|s| SeriesOut(s.hash, s.samples, s.min_ts, s.max_ts, Bin(&s.field)))
            .collect(),
        &batch.metadata,
    );
    // The msgpack payload and snappy's output go through per-thread buffers
    // that keep their capacity: an entry is hundreds of KB, and fresh
    // buffers (grown by doubling, the output zero-filled to its worst case)
    // cost page faults on every append. Only the final value is allocated,
    // at its exact size.
    ENCODE_SCRATCH.with(|cell| {
        let (mut raw, mut compressed) = cell.take();
        let result = encode_into(&payload, samples, &mut raw, &mut compressed);
        cell.set((raw, compressed));
        result
    })
}

thread_local! {
    static ENCODE_SCRATCH: std::cell::Cell<(Vec<u8>, Vec<u8>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

fn encode_into(
    payload: &PayloadOut<'_>,
    samples: u64,
    raw: &mut Vec<u8>,
    compressed: &mut Vec<u8>,
) -> Result<Vec<u8>, super::WalError> {
    raw.clear();
    rmp_serde::encode::write(raw, payload)?;
    let bound = snap::raw::max_compress_len(raw.len());
    if compressed.len() < bound {
        compressed.resize(bound, 0);
    }
    let n = snap::raw::Encoder::new()
        .compress(raw, compressed)
        .map_err(super::WalError::Compress)?;
    let mut value = Vec::with_capacity(HEADER_LEN + n);
    value.push(VERSION);
    value.extend_from_slice(&[0; 16]);
    value.extend_from_slice(&samples.to_be_bytes());
    value.extend_from_slice(&compressed[..n]);
    Ok(value)
}

pub(crate) fn set_cumulative(value: &mut [u8], cum_bytes: u64, cum_samples: u64) {
    value[1..9].copy_from_slice(&cum_bytes.to_be_bytes());
    value[9..17].copy_from_slice(&cum_samples.to_be_bytes());
}

pub(crate) fn header(value: &[u8]) -> Result<Header, EntryError> {
    if value.len() < HEADER_LEN {
        return Err(EntryError::Truncated(value.len()));
    }
    if value[0] != VERSION && value[0] != VERSION_1 {
        return Err(EntryError::Version(value[0]));
    }
    let u = |r: std::ops::Range<usize>| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&value[r]);
        u64::from_be_bytes(b)
    };
    Ok(Header {
        cum_bytes: u(1..9),
        cum_samples: u(9..17),
        samples: u(17..25),
    })
}

/// Decodes an entry value, decompressing into `scratch` (reused across
/// entries by readers so replay does not allocate a buffer per entry).
pub(crate) fn decode(value: &[u8], scratch: &mut Vec<u8>) -> Result<EncodedBatch, EntryError> {
    header(value)?;
    let body = &value[HEADER_LEN..];
    let len = snap::raw::decompress_len(body).map_err(EntryError::Snappy)?;
    // Snappy expands at most ~21× (a 3-byte copy yields 64 bytes), so a
    // larger announced length is corruption; refusing it keeps a flipped bit
    // on disk from turning into a multi-gigabyte allocation.
    if len > body.len().saturating_mul(MAX_SNAPPY_EXPANSION) {
        return Err(EntryError::Implausible(len));
    }
    scratch.clear();
    scratch.resize(len, 0);
    let n = snap::raw::Decoder::new()
        .decompress(body, scratch)
        .map_err(EntryError::Snappy)?;
    let payload = &scratch[..n];
    if value[0] == VERSION_1 {
        let batch: Batch = rmp_serde::from_slice(payload).map_err(EntryError::Decode)?;
        return Ok(EncodedBatch::from_batch(&batch));
    }
    let PayloadIn(rows, metadata) = rmp_serde::from_slice(payload).map_err(EntryError::Decode)?;
    // One buffer for every series of the entry, sliced per series.
    let total = rows.iter().map(|r| r.4.len()).sum();
    let mut buf = Vec::with_capacity(total);
    for r in &rows {
        buf.extend_from_slice(r.4);
    }
    let buf = Bytes::from(buf);
    let mut start = 0;
    // A shallow check: sled checksums what it stores, so this guards
    // against format mistakes rather than bit rot; a series that passes and
    // is still malformed inside is refused by the receiver (400: counted as
    // dropped), never a panic here.
    for r in &rows {
        crate::remote_write::timeseries_message(r.4).map_err(EntryError::Series)?;
    }
    let series = rows
        .iter()
        .map(|r| {
            let end = start + r.4.len();
            let field = buf.slice(start..end);
            start = end;
            EncodedSeries {
                field,
                hash: r.0,
                samples: r.1,
                min_ts: r.2,
                max_ts: r.3,
            }
        })
        .collect();
    Ok(EncodedBatch { series, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Labels, Sample, Series};

    fn value() -> Vec<u8> {
        let batch = Batch {
            series: vec![Series::new(
                Labels::from_pairs([("__name__", "m")]),
                vec![Sample::new(1.0, 2); 100],
            )],
            metadata: vec![],
        };
        let mut v = encode(&EncodedBatch::from_batch(&batch), 100).unwrap();
        set_cumulative(&mut v, 7, 9);
        v
    }

    #[test]
    fn header_round_trips() {
        let v = value();
        assert_eq!(
            header(&v).unwrap(),
            Header {
                cum_bytes: 7,
                cum_samples: 9,
                samples: 100
            }
        );
        assert_eq!(decode(&v, &mut Vec::new()).unwrap().sample_count(), 100);
        let back = decode(&v, &mut Vec::new()).unwrap().to_batch().unwrap();
        assert_eq!(back.series[0].samples.len(), 100);
    }

    #[test]
    fn format_1_entries_are_still_read() {
        let batch = Batch {
            series: vec![Series::new(
                Labels::from_pairs([("__name__", "m"), ("a", "b")]),
                vec![Sample::new(1.5, 2), Sample::new(2.5, 3)],
            )],
            metadata: vec![],
        };
        let payload = rmp_serde::to_vec(&batch).unwrap();
        let mut v = vec![0u8; HEADER_LEN];
        v.extend(snap::raw::Encoder::new().compress_vec(&payload).unwrap());
        v[0] = VERSION_1;
        let got = decode(&v, &mut Vec::new()).unwrap();
        assert_eq!(got, EncodedBatch::from_batch(&batch));
        assert!(got.to_batch().unwrap().bit_eq(&batch));
    }

    #[test]
    fn corrupt_values_are_errors_not_panics() {
        let v = value();
        assert!(matches!(header(&v[..10]), Err(EntryError::Truncated(10))));
        let mut bad = v.clone();
        bad[0] = 9;
        assert!(matches!(
            decode(&bad, &mut Vec::new()),
            Err(EntryError::Version(9))
        ));
        // A snappy header announcing 4 GiB behind a tiny body.
        let mut liar = v[..HEADER_LEN].to_vec();
        liar.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
        assert!(matches!(
            decode(&liar, &mut Vec::new()),
            Err(EntryError::Implausible(_))
        ));
        // Every single-byte corruption and truncation of the payload.
        let mut scratch = Vec::new();
        for i in HEADER_LEN..v.len() {
            for b in [0x00, 0x7f, 0xff] {
                let mut m = v.clone();
                m[i] = b;
                let _ = decode(&m, &mut scratch);
            }
            let _ = decode(&v[..i], &mut scratch);
        }
        assert!(parse_key(&[1, 2, 3]).is_err());
        assert_eq!(parse_key(&key(42)).unwrap(), 42);
    }
}
