//! Allocation-free protobuf writer for `WriteRequest`, the sender's hot path.
//!
//! Why by hand: going through the prost structs in [`super::prompb`] costs two
//! `String` allocations per label per request, which dominated encoding time
//! (measured: malloc/free were the top of the profile). This writer streams
//! straight from [`Labels`]' borrowed strings using prost's own wire-format
//! primitives, and must produce exactly the bytes prost produces for the same
//! message — a test checks that against `prost::Message::encode_to_vec`.
//! Like prost (proto3), it omits scalar fields equal to their default.

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, WireType};

use crate::model::{Batch, Exemplar, Labels, Metadata, Sample, Series};

/// Appends the protobuf encoding of `batch` as a `WriteRequest` to `buf`.
pub(super) fn write_request(batch: &Batch, buf: &mut Vec<u8>) {
    for s in &batch.series {
        write_series_field(s, buf);
    }
    for m in &batch.metadata {
        put_message_header(3, metadata_len(m), buf);
        write_metadata(m, buf);
    }
}

/// Appends `s` as a `WriteRequest.timeseries` field (key, length, message).
pub(super) fn write_series_field(s: &Series, buf: &mut Vec<u8>) {
    put_message_with_len_after(1, buf, |buf| write_series(s, buf));
}

fn put_message_header(tag: u32, len: usize, buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(len as u64, buf);
}

/// Writes a length-delimited field whose length is known only once its body
/// is written: two bytes are reserved for the length (bodies of 128 B to
/// 16 KiB, the usual size of a series) and the body moves when its length
/// needs another count. Why: computing a series' length first meant walking
/// its labels twice, ≈ 6 % of an aggregator's CPU (`benches/REMOTE_WRITE.md`).
fn put_message_with_len_after(tag: u32, buf: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    const RESERVED: usize = 2;
    encode_key(tag, WireType::LengthDelimited, buf);
    let at = buf.len();
    buf.extend_from_slice(&[0; RESERVED]);
    body(buf);
    let len = buf.len() - at - RESERVED;
    let mut prefix = Vec::with_capacity(10);
    encode_varint(len as u64, &mut prefix);
    match prefix.len() {
        RESERVED => buf[at..at + RESERVED].copy_from_slice(&prefix),
        1 => {
            buf.copy_within(at + RESERVED.., at + 1);
            buf.truncate(buf.len() - 1);
            buf[at] = prefix[0];
        }
        _ => {
            buf.splice(at..at + RESERVED, prefix);
        }
    }
}

fn message_field_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

fn string_len(tag: u32, s: &[u8]) -> usize {
    if s.is_empty() {
        0
    } else {
        message_field_len(tag, s.len())
    }
}

fn put_string(tag: u32, s: &[u8], buf: &mut Vec<u8>) {
    if !s.is_empty() {
        put_message_header(tag, s.len(), buf);
        buf.extend_from_slice(s);
    }
}

fn double_len(tag: u32, v: f64) -> usize {
    if v != 0.0 {
        key_len(tag) + 8
    } else {
        0
    }
}

fn put_double(tag: u32, v: f64, buf: &mut Vec<u8>) {
    if v != 0.0 {
        encode_key(tag, WireType::SixtyFourBit, buf);
        buf.extend_from_slice(&v.to_le_bytes());
    }
}

fn int64_len(tag: u32, v: i64) -> usize {
    if v != 0 {
        key_len(tag) + encoded_len_varint(v as u64)
    } else {
        0
    }
}

fn put_int64(tag: u32, v: i64, buf: &mut Vec<u8>) {
    if v != 0 {
        encode_key(tag, WireType::Varint, buf);
        // int64 is the two's complement as a varint, as in every encoder.
        encode_varint(v as u64, buf);
    }
}

fn label_len(name: &[u8], value: &[u8]) -> usize {
    string_len(1, name) + string_len(2, value)
}

fn labels_len(tag: u32, labels: &Labels) -> usize {
    labels
        .raw_pairs()
        .map(|(n, v)| message_field_len(tag, label_len(n, v)))
        .sum()
}

fn put_labels(tag: u32, labels: &Labels, buf: &mut Vec<u8>) {
    for (n, v) in labels.raw_pairs() {
        // Names and values of a `Labels` are never empty, so both strings
        // are always written (as `put_string` would).
        let len = label_len(n, v);
        buf.reserve(len + 10);
        put_message_header(tag, len, buf);
        put_message_header(1, n.len(), buf);
        buf.extend_from_slice(n);
        put_message_header(2, v.len(), buf);
        buf.extend_from_slice(v);
    }
}

fn sample_len(s: &Sample) -> usize {
    double_len(1, s.value) + int64_len(2, s.timestamp_ms)
}

fn exemplar_len(e: &Exemplar) -> usize {
    labels_len(1, &e.labels) + double_len(2, e.value) + int64_len(3, e.timestamp_ms.unwrap_or(0))
}

fn write_series(s: &Series, buf: &mut Vec<u8>) {
    put_labels(1, &s.labels, buf);
    for x in &s.samples {
        put_message_header(2, sample_len(x), buf);
        put_double(1, x.value, buf);
        put_int64(2, x.timestamp_ms, buf);
    }
    for e in &s.exemplars {
        put_message_header(3, exemplar_len(e), buf);
        put_labels(1, &e.labels, buf);
        put_double(2, e.value, buf);
        put_int64(3, e.timestamp_ms.unwrap_or(0), buf);
    }
}

fn metadata_type(m: &Metadata) -> i64 {
    super::proto_type(m.metric_type) as i64
}

fn metadata_len(m: &Metadata) -> usize {
    int64_len(1, metadata_type(m))
        + string_len(2, m.metric_family_name.as_bytes())
        + string_len(4, m.help.as_bytes())
        + string_len(5, m.unit.as_bytes())
}

fn write_metadata(m: &Metadata, buf: &mut Vec<u8>) {
    put_int64(1, metadata_type(m), buf);
    put_string(2, m.metric_family_name.as_bytes(), buf);
    put_string(4, m.help.as_bytes(), buf);
    put_string(5, m.unit.as_bytes(), buf);
}
