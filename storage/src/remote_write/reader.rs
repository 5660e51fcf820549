//! Borrowing protobuf reader for `WriteRequest`, the receiver's hot path.
//!
//! Why by hand: prost's generated decoding allocates a `String` per label
//! name and value before smelter copies them into a [`Labels`] anyway. This
//! reader walks the wire format over the decompressed buffer with prost's
//! primitives (`decode_key`, `decode_varint`, `skip_field`), borrows every
//! string, and builds each label set with its single allocation. Its results
//! are checked against prost's decoding in tests (`reader_agrees_with_prost`).
//! Unknown fields (native histograms, newer additions) are skipped, as
//! protobuf prescribes; a known field with the wrong wire type is an error,
//! as in prost.

use bytes::Bytes;
use prost::encoding::{decode_key, decode_varint, skip_field, DecodeContext, WireType};

use super::{DecodeError, EncodedBatch, EncodedSeries};
use crate::model::{Batch, Exemplar, Labels, Metadata, MetricType, Sample, Series};

/// Decodes a `WriteRequest` from its protobuf bytes.
pub(super) fn read_request(mut buf: &[u8]) -> Result<Batch, DecodeError> {
    let mut batch = Batch::default();
    // Reused for every series: the label pairs borrowed from `buf`.
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf)?;
        match tag {
            1 => {
                let msg = take_len(wire_type, &mut buf)?;
                let index = batch.series.len();
                batch.series.push(read_series(msg, index, &mut pairs)?);
            }
            3 => {
                let msg = take_len(wire_type, &mut buf)?;
                batch.metadata.push(read_metadata(msg)?);
            }
            _ => skip_field(wire_type, tag, &mut buf, DecodeContext::default())?,
        }
    }
    Ok(batch)
}

/// Reads a `WriteRequest` keeping each series in wire form: a slice of
/// `body` per `timeseries` field, checked as [`read_request`] checks it and
/// hashed as its label set would be, so a receiver forwarding to a WAL
/// builds no label set. A series whose wire form is not what the model
/// would give back — a label with an empty value (the model drops it), a
/// field this reader does not know (native histograms, not carried yet) —
/// is decoded and encoded again instead: what goes on is exactly what
/// [`read_request`] would have produced.
pub(super) fn read_request_encoded(body: Bytes) -> Result<EncodedBatch, DecodeError> {
    let mut batch = EncodedBatch::default();
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut raw_pairs: Vec<(&[u8], &[u8])> = Vec::new();
    let mut buf: &[u8] = &body;
    while !buf.is_empty() {
        let start = body.len() - buf.len();
        let (tag, wire_type) = decode_key(&mut buf)?;
        match tag {
            1 => {
                let msg = take_len(wire_type, &mut buf)?;
                let index = batch.series.len();
                let series = match scan_series(msg, index, &mut raw_pairs)? {
                    Some(scan) => EncodedSeries {
                        field: body.slice(start..body.len() - buf.len()),
                        hash: scan.hash,
                        samples: scan.samples,
                        min_ts: scan.first_ts,
                        max_ts: scan.last_ts,
                    },
                    None => EncodedSeries::from_series(&read_series(msg, index, &mut pairs)?),
                };
                batch.series.push(series);
            }
            3 => {
                let msg = take_len(wire_type, &mut buf)?;
                batch.metadata.push(read_metadata(msg)?);
            }
            _ => skip_field(wire_type, tag, &mut buf, DecodeContext::default())?,
        }
    }
    Ok(batch)
}

/// What the sender needs of a series it does not decode.
struct Scan {
    hash: u64,
    samples: u32,
    first_ts: i64,
    last_ts: i64,
}

/// Checks a `TimeSeries` as [`read_series`] does, without building it;
/// `None` when it must go through the model to be forwarded (see
/// [`read_request_encoded`]).
fn scan_series<'a>(
    mut buf: &'a [u8],
    index: usize,
    pairs: &mut Vec<(&'a [u8], &'a [u8])>,
) -> Result<Option<Scan>, DecodeError> {
    pairs.clear();
    let mut as_is = true;
    let (mut samples, mut first_ts, mut last_ts) = (0usize, 0, 0);
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf)?;
        match tag {
            1 => {
                let pair = read_label_bytes(take_len(wire_type, &mut buf)?)?;
                as_is &= !pair.1.is_empty();
                pairs.push(pair);
            }
            2 => {
                let sample = read_sample(take_len(wire_type, &mut buf)?)?;
                if samples == 0 {
                    first_ts = sample.timestamp_ms;
                }
                last_ts = sample.timestamp_ms;
                samples += 1;
            }
            3 => {
                read_exemplar(take_len(wire_type, &mut buf)?, index)?;
            }
            _ => {
                as_is = false;
                skip_field(wire_type, tag, &mut buf, DecodeContext::default())?;
            }
        }
    }
    let hash = Labels::stable_hash_of_sorted(pairs.iter().copied())
        .map_err(|source| DecodeError::Labels { index, source })?;
    let samples = u32::try_from(samples)
        .map_err(|_| DecodeError::Malformed("too many samples in a series"))?;
    Ok(as_is.then_some(Scan {
        hash,
        samples,
        first_ts,
        last_ts,
    }))
}

pub(super) fn read_series<'a>(
    mut buf: &'a [u8],
    index: usize,
    pairs: &mut Vec<(&'a str, &'a str)>,
) -> Result<Series, DecodeError> {
    pairs.clear();
    let mut samples = Vec::new();
    let mut exemplars = Vec::new();
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf)?;
        match tag {
            1 => pairs.push(read_label(take_len(wire_type, &mut buf)?)?),
            2 => samples.push(read_sample(take_len(wire_type, &mut buf)?)?),
            3 => exemplars.push(read_exemplar(take_len(wire_type, &mut buf)?, index)?),
            _ => skip_field(wire_type, tag, &mut buf, DecodeContext::default())?,
        }
    }
    let labels = Labels::try_from_sorted(pairs.iter().copied())
        .map_err(|source| DecodeError::Labels { index, source })?;
    Ok(Series {
        labels,
        samples,
        exemplars,
    })
}

fn read_label(buf: &[u8]) -> Result<(&str, &str), DecodeError> {
    let (name, value) = read_label_bytes(buf)?;
    Ok((as_str(name)?, as_str(value)?))
}

/// A label's name and value, checked to be UTF-8. Key and length bytes
/// of a small label message are ASCII too, so one ASCII scan of the whole
/// message usually replaces a UTF-8 check per string (a tenth of the
/// receiver's time went to those checks).
fn read_label_bytes(mut buf: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    let ascii = buf.is_ascii();
    let (mut name, mut value): (&[u8], &[u8]) = (b"", b"");
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf)?;
        match tag {
            1 => name = take_len(wire_type, &mut buf)?,
            2 => value = take_len(wire_type, &mut buf)?,
            _ => skip_field(wire_type, tag, &mut buf, DecodeContext::default())?,
        }
    }
    if !ascii {
        as_str(name)?;
        as_str(value)?;
    }
    Ok((name, value))
}

fn read_sample(mut buf: &[u8]) -> Result<Sample, DecodeError> {
    let mut sample = Sample::new(0.0, 0);
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf)?;
        match tag {
            1 => sample.value = take_double(wire_type, &mut buf)?,
            2 => sample.timestamp_ms = take_int64(wire_type, &mut buf)?,
            _ => skip_field(wire_type, tag, &mut buf, DecodeContext::default())?,
        }
    }
    Ok(sample)
}

fn read_exemplar(mut buf: &[u8], index: usize) -> Result<Exemplar, DecodeError> {
    let mut pairs = Vec::new();
    let (mut value, mut timestamp) = (0.0, 0);
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf)?;
        match tag {
            1 => pairs.push(read_label(take_len(wire_type, &mut buf)?)?),
            2 => value = take_double(wire_type, &mut buf)?,
            3 => timestamp = take_int64(wire_type, &mut buf)?,
            _ => skip_field(wire_type, tag, &mut buf, DecodeContext::default())?,
        }
    }
    Ok(Exemplar {
        labels: Labels::try_from_sorted(pairs)
            .map_err(|source| DecodeError::ExemplarLabels { index, source })?,
        value,
        timestamp_ms: Some(timestamp),
    })
}

fn read_metadata(mut buf: &[u8]) -> Result<Metadata, DecodeError> {
    let mut m = Metadata::default();
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf)?;
        match tag {
            1 => {
                // An enum is an int32 on the wire; an unknown number from a
                // newer sender reads as "unknown", not as an error.
                let number = take_int64(wire_type, &mut buf)? as i32;
                m.metric_type = super::prompb::MetricType::try_from(number)
                    .map(super::model_type)
                    .unwrap_or(MetricType::Unknown);
            }
            2 => m.metric_family_name = take_str(wire_type, &mut buf)?.to_owned(),
            4 => m.help = take_str(wire_type, &mut buf)?.to_owned(),
            5 => m.unit = take_str(wire_type, &mut buf)?.to_owned(),
            _ => skip_field(wire_type, tag, &mut buf, DecodeContext::default())?,
        }
    }
    Ok(m)
}

fn check_wire_type(actual: WireType, wanted: WireType) -> Result<(), DecodeError> {
    if actual == wanted {
        Ok(())
    } else {
        Err(DecodeError::Malformed("wrong wire type for a known field"))
    }
}

fn take_len<'a>(wire_type: WireType, buf: &mut &'a [u8]) -> Result<&'a [u8], DecodeError> {
    check_wire_type(wire_type, WireType::LengthDelimited)?;
    let len = decode_varint(buf)?;
    if len > buf.len() as u64 {
        return Err(DecodeError::Malformed("length exceeds the buffer"));
    }
    let (head, tail) = buf.split_at(len as usize);
    *buf = tail;
    Ok(head)
}

fn take_str<'a>(wire_type: WireType, buf: &mut &'a [u8]) -> Result<&'a str, DecodeError> {
    as_str(take_len(wire_type, buf)?)
}

fn as_str(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|_| DecodeError::Malformed("string is not UTF-8"))
}

fn take_double(wire_type: WireType, buf: &mut &[u8]) -> Result<f64, DecodeError> {
    check_wire_type(wire_type, WireType::SixtyFourBit)?;
    let Some((head, tail)) = buf.split_first_chunk::<8>() else {
        return Err(DecodeError::Malformed("truncated double"));
    };
    *buf = tail;
    Ok(f64::from_le_bytes(*head))
}

fn take_int64(wire_type: WireType, buf: &mut &[u8]) -> Result<i64, DecodeError> {
    check_wire_type(wire_type, WireType::Varint)?;
    Ok(decode_varint(buf)? as i64)
}
