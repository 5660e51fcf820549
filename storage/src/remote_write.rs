//! Prometheus remote write 1.0 codec: [`Batch`] ⇄ snappy-compressed protobuf
//! `WriteRequest`.
//!
//! Place in the data flow: the sender encodes each shard's request with
//! [`encode`]; the `prometheus.receive_http` receiver decodes request bodies
//! with [`decode`]. Bodies come from the network, so decoding checks the
//! announced decompressed size against a cap *before* allocating, validates
//! label sets, and reports every problem as a typed [`DecodeError`] — it never
//! panics on garbage.
//!
//! Snappy is the *block* format (`snap::raw`), as the remote write spec
//! requires, not the framed stream format.

mod encoded;
pub mod prompb;
mod reader;
mod writer;

pub(crate) use encoded::timeseries_message;
pub use encoded::{EncodedBatch, EncodedSeries};

use crate::model::{Batch, Exemplar, Labels, LabelsError, Metadata, MetricType, Sample, Series};

/// Why a remote write body could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// Snappy's block format cannot hold inputs of 4 GiB or more.
    #[error("snappy compression failed: {0}")]
    Snappy(#[from] snap::Error),
}

/// Why a remote write body was rejected.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid snappy block: {0}")]
    Snappy(#[source] snap::Error),
    #[error("decompressed body of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("invalid protobuf WriteRequest: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("invalid protobuf WriteRequest: {0}")]
    Malformed(&'static str),
    #[error("time series {index}: {source}")]
    Labels {
        index: usize,
        #[source]
        source: LabelsError,
    },
    #[error("exemplar of time series {index}: {source}")]
    ExemplarLabels {
        index: usize,
        #[source]
        source: LabelsError,
    },
}

/// Encodes a batch as a snappy-compressed `WriteRequest`, ready to POST with
/// `Content-Encoding: snappy` and
/// `Content-Type: application/x-protobuf`.
///
/// An exemplar without a timestamp is sent with timestamp 0 (the proto field
/// is not optional). A send loop should keep an [`Encoder`] instead, which
/// reuses its buffers across requests.
pub fn encode(batch: &Batch) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    Encoder::default().encode_into(batch, &mut out)?;
    Ok(out)
}

/// A reusable remote write encoder: keeps the protobuf buffer, the
/// compressed buffer and snappy's hash table between requests, so a send
/// loop does not allocate (and page-fault in) fresh buffers for every
/// request.
pub struct Encoder {
    proto: Vec<u8>,
    /// Never shrinks, and is zero-filled only where it grows: snappy needs
    /// an output of its worst-case length, and filling that for every
    /// request costs as much as a memcpy of the body.
    compressed: Vec<u8>,
    snappy: snap::raw::Encoder,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            proto: Vec::new(),
            compressed: Vec::new(),
            snappy: snap::raw::Encoder::new(),
        }
    }
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("proto_capacity", &self.proto.capacity())
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Replaces the contents of `out` with the encoded body of `batch`.
    pub fn encode_into(&mut self, batch: &Batch, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.proto.clear();
        writer::write_request(batch, &mut self.proto);
        let body = self.finish()?;
        out.clear();
        out.extend_from_slice(body);
        Ok(())
    }

    /// Starts a request assembled piece by piece ([`Encoder::push_encoded`],
    /// [`Encoder::push_series`], then [`Encoder::finish`]).
    pub fn begin(&mut self) {
        self.proto.clear();
    }

    /// Adds a series already in wire form: a copy, no encoding.
    pub fn push_encoded(&mut self, series: &EncodedSeries) {
        self.proto.extend_from_slice(&series.field);
    }

    /// Adds a model series, encoding it.
    pub fn push_series(&mut self, series: &Series) {
        writer::write_series_field(series, &mut self.proto);
    }

    /// The compressed request, valid until the encoder is used again.
    pub fn finish(&mut self) -> Result<&[u8], EncodeError> {
        // 0 for inputs snappy cannot take; `compress` then says `TooBig`.
        let worst = snap::raw::max_compress_len(self.proto.len());
        if self.compressed.len() < worst {
            self.compressed.resize(worst, 0);
        }
        let n = self.snappy.compress(&self.proto, &mut self.compressed)?;
        Ok(&self.compressed[..n])
    }
}

/// Decodes a remote write body, refusing bodies that decompress to more than
/// `max_decompressed` bytes.
///
/// Labels must be sorted by name with unique, non-empty names, as the spec
/// demands; labels with an empty value are dropped (empty means absent).
/// Decoded exemplars always carry `Some(timestamp)`.
pub fn decode(body: &[u8], max_decompressed: usize) -> Result<Batch, DecodeError> {
    Decoder::new(max_decompressed).decode(body)
}

/// A reusable remote write decoder: keeps its decompression buffer between
/// requests (a receiver keeps one per worker).
#[derive(Debug)]
pub struct Decoder {
    raw: Vec<u8>,
    max_decompressed: usize,
}

impl Decoder {
    /// A decoder refusing bodies that decompress to more than
    /// `max_decompressed` bytes.
    pub fn new(max_decompressed: usize) -> Self {
        Decoder {
            raw: Vec::new(),
            max_decompressed,
        }
    }

    /// Decodes one body; see [`decode`].
    pub fn decode(&mut self, body: &[u8]) -> Result<Batch, DecodeError> {
        let len = self.decompressed_len(body)?;
        self.raw.clear();
        self.raw.resize(len, 0);
        let n = snap::raw::Decoder::new()
            .decompress(body, &mut self.raw)
            .map_err(DecodeError::Snappy)?;
        reader::read_request(&self.raw[..n])
    }

    /// Decodes one body with the same checks as [`Decoder::decode`], but
    /// keeps the series in wire form (slices of one new buffer holding the
    /// decompressed body): what a receiver forwards to a WAL, which stores
    /// and sends that form, so no label set is built between the two.
    pub fn decode_encoded(&self, body: &[u8]) -> Result<EncodedBatch, DecodeError> {
        let len = self.decompressed_len(body)?;
        let mut raw = vec![0; len];
        let n = snap::raw::Decoder::new()
            .decompress(body, &mut raw)
            .map_err(DecodeError::Snappy)?;
        raw.truncate(n);
        reader::read_request_encoded(bytes::Bytes::from(raw))
    }

    /// The decompressed length the block header announces, checked against
    /// the cap before anything is allocated: a tiny body must not make us
    /// allocate gigabytes.
    fn decompressed_len(&self, body: &[u8]) -> Result<usize, DecodeError> {
        let len = snap::raw::decompress_len(body).map_err(DecodeError::Snappy)?;
        if len > self.max_decompressed {
            return Err(DecodeError::TooLarge {
                len,
                max: self.max_decompressed,
            });
        }
        Ok(len)
    }
}

/// The model → protobuf mapping through prost's structs, for tests and tools
/// that want to inspect a request; [`encode`] writes the same bytes without
/// building these structs.
pub fn to_proto(batch: &Batch) -> prompb::WriteRequest {
    prompb::WriteRequest {
        timeseries: batch
            .series
            .iter()
            .map(|s| prompb::TimeSeries {
                labels: proto_labels(&s.labels),
                samples: s
                    .samples
                    .iter()
                    .map(|x| prompb::Sample {
                        value: x.value,
                        timestamp: x.timestamp_ms,
                    })
                    .collect(),
                exemplars: s
                    .exemplars
                    .iter()
                    .map(|e| prompb::Exemplar {
                        labels: proto_labels(&e.labels),
                        value: e.value,
                        timestamp: e.timestamp_ms.unwrap_or(0),
                    })
                    .collect(),
            })
            .collect(),
        metadata: batch
            .metadata
            .iter()
            .map(|m| prompb::MetricMetadata {
                r#type: proto_type(m.metric_type) as i32,
                metric_family_name: m.metric_family_name.clone(),
                help: m.help.clone(),
                unit: m.unit.clone(),
            })
            .collect(),
    }
}

/// The protobuf → model mapping through prost's structs, with the same
/// validation as [`decode`] (which reads the wire format without building
/// these structs).
pub fn from_proto(request: prompb::WriteRequest) -> Result<Batch, DecodeError> {
    let mut series = Vec::with_capacity(request.timeseries.len());
    for (index, ts) in request.timeseries.into_iter().enumerate() {
        let labels =
            model_labels(&ts.labels).map_err(|source| DecodeError::Labels { index, source })?;
        let mut exemplars = Vec::with_capacity(ts.exemplars.len());
        for e in &ts.exemplars {
            exemplars.push(Exemplar {
                labels: model_labels(&e.labels)
                    .map_err(|source| DecodeError::ExemplarLabels { index, source })?,
                value: e.value,
                timestamp_ms: Some(e.timestamp),
            });
        }
        series.push(Series {
            labels,
            samples: ts
                .samples
                .iter()
                .map(|s| Sample::new(s.value, s.timestamp))
                .collect(),
            exemplars,
        });
    }
    let metadata = request
        .metadata
        .into_iter()
        .map(|m| Metadata {
            // An enum value from a newer sender is not an error: it is
            // metadata, and "unknown" is the honest reading of it.
            metric_type: prompb::MetricType::try_from(m.r#type)
                .map(model_type)
                .unwrap_or(MetricType::Unknown),
            metric_family_name: m.metric_family_name,
            help: m.help,
            unit: m.unit,
        })
        .collect();
    Ok(Batch { series, metadata })
}

fn proto_labels(labels: &Labels) -> Vec<prompb::Label> {
    labels
        .iter()
        .map(|(n, v)| prompb::Label {
            name: n.to_owned(),
            value: v.to_owned(),
        })
        .collect()
}

fn model_labels(labels: &[prompb::Label]) -> Result<Labels, LabelsError> {
    Labels::try_from_sorted(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())))
}

fn proto_type(t: MetricType) -> prompb::MetricType {
    match t {
        MetricType::Unknown => prompb::MetricType::Unknown,
        MetricType::Counter => prompb::MetricType::Counter,
        MetricType::Gauge => prompb::MetricType::Gauge,
        MetricType::Histogram => prompb::MetricType::Histogram,
        MetricType::GaugeHistogram => prompb::MetricType::Gaugehistogram,
        MetricType::Summary => prompb::MetricType::Summary,
        MetricType::Info => prompb::MetricType::Info,
        MetricType::Stateset => prompb::MetricType::Stateset,
    }
}

fn model_type(t: prompb::MetricType) -> MetricType {
    match t {
        prompb::MetricType::Unknown => MetricType::Unknown,
        prompb::MetricType::Counter => MetricType::Counter,
        prompb::MetricType::Gauge => MetricType::Gauge,
        prompb::MetricType::Histogram => MetricType::Histogram,
        prompb::MetricType::Gaugehistogram => MetricType::GaugeHistogram,
        prompb::MetricType::Summary => MetricType::Summary,
        prompb::MetricType::Info => MetricType::Info,
        prompb::MetricType::Stateset => MetricType::Stateset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stale_nan;
    use prost::Message;

    const CAP: usize = 32 << 20;

    fn sample_batch() -> Batch {
        let up = Labels::from_pairs([("__name__", "up"), ("job", "node"), ("instance", "a:9100")]);
        let mut series = Series::new(
            up,
            vec![
                Sample::new(1.0, 1000),
                Sample::new(0.5, 2000),
                Sample::new(stale_nan(), 3000),
            ],
        );
        series.exemplars.push(Exemplar {
            labels: Labels::from_pairs([("trace_id", "abc")]),
            value: 0.25,
            timestamp_ms: Some(1500),
        });
        Batch {
            series: vec![
                series,
                Series::new(
                    Labels::from_pairs([("__name__", "x_total")]),
                    vec![Sample::new(f64::INFINITY, -5)],
                ),
            ],
            metadata: vec![Metadata {
                metric_family_name: "x".into(),
                metric_type: MetricType::GaugeHistogram,
                help: "helps".into(),
                unit: "seconds".into(),
            }],
        }
    }

    #[test]
    fn round_trip_keeps_everything_including_staleness() {
        let batch = sample_batch();
        let body = encode(&batch).unwrap();
        let back = decode(&body, CAP).unwrap();
        assert!(back.bit_eq(&batch), "{back:?}");
        assert!(back.series[0].samples[2].is_stale());
    }

    #[test]
    fn streaming_writer_matches_prost_byte_for_byte() {
        let mut batch = sample_batch();
        // Defaults prost omits: zero value, zero timestamp, negative numbers,
        // empty metadata strings, an exemplar without timestamp.
        batch.series[1].samples.push(Sample::new(0.0, 0));
        batch.series[1].samples.push(Sample::new(-1.5, -1));
        batch.series[1].exemplars.push(Exemplar {
            labels: Labels::empty(),
            value: 0.0,
            timestamp_ms: None,
        });
        batch.metadata.push(Metadata::default());
        let ours = snap::raw::Decoder::new()
            .decompress_vec(&encode(&batch).unwrap())
            .unwrap();
        assert_eq!(ours, to_proto(&batch).encode_to_vec());
    }

    #[test]
    fn series_of_every_length_class_match_prost() {
        // Series bodies below 128 B, below 16 KiB and above: the writer
        // back-patches a length reserved as two bytes.
        for samples in [1, 20, 2_000] {
            let batch = Batch {
                series: vec![Series::new(
                    Labels::from_pairs([("__name__", "m"), ("a", "b")]),
                    (0..samples)
                        .map(|i| Sample::new(i as f64 + 0.5, i + 1))
                        .collect(),
                )],
                metadata: vec![],
            };
            let ours = snap::raw::Decoder::new()
                .decompress_vec(&encode(&batch).unwrap())
                .unwrap();
            assert_eq!(ours, to_proto(&batch).encode_to_vec(), "{samples} samples");
        }
    }

    #[test]
    fn reused_encoder_gives_the_same_bodies() {
        let mut enc = Encoder::default();
        let mut out = Vec::new();
        for batch in [sample_batch(), Batch::default(), sample_batch()] {
            enc.encode_into(&batch, &mut out).unwrap();
            assert_eq!(out, encode(&batch).unwrap());
            assert!(decode(&out, CAP).unwrap().bit_eq(&batch));
        }
    }

    #[test]
    fn reused_decoder_gives_the_same_batches() {
        let mut dec = Decoder::new(CAP);
        for batch in [sample_batch(), Batch::default(), sample_batch()] {
            let body = encode(&batch).unwrap();
            assert!(dec.decode(&body).unwrap().bit_eq(&batch));
            assert!(dec.decode(b"\xff\xff").is_err());
        }
    }

    #[test]
    fn empty_batch_round_trips() {
        let body = encode(&Batch::default()).unwrap();
        assert_eq!(decode(&body, CAP).unwrap(), Batch::default());
    }

    #[test]
    fn matches_hand_assembled_wire_bytes() {
        // WriteRequest{timeseries:[{labels:[{"a","b"}], samples:[{1.0, 2}]}]}
        // assembled from the protobuf wire format by hand, independent of
        // prost: field 1 (LEN) of TimeSeries, containing field 1 (LEN) Label
        // and field 2 (LEN) Sample{1: fixed64 1.0, 2: varint 2}.
        let label = [0x0a, 0x01, b'a', 0x12, 0x01, b'b'];
        let mut sample = vec![0x09];
        sample.extend_from_slice(&1.0f64.to_le_bytes());
        sample.extend_from_slice(&[0x10, 0x02]);
        let mut ts = vec![0x0a, label.len() as u8];
        ts.extend_from_slice(&label);
        ts.push(0x12);
        ts.push(sample.len() as u8);
        ts.extend_from_slice(&sample);
        let mut wire = vec![0x0a, ts.len() as u8];
        wire.extend_from_slice(&ts);

        let batch = Batch {
            series: vec![Series::new(
                Labels::from_pairs([("a", "b")]),
                vec![Sample::new(1.0, 2)],
            )],
            metadata: vec![],
        };
        let ours = snap::raw::Decoder::new()
            .decompress_vec(&encode(&batch).unwrap())
            .unwrap();
        assert_eq!(ours, wire);

        let body = snap::raw::Encoder::new().compress_vec(&wire).unwrap();
        assert_eq!(decode(&body, CAP).unwrap(), batch);
    }

    #[test]
    fn decodes_what_prost_encodes_directly_with_unknown_fields() {
        // A request as another sender would build it, with metadata given a
        // type number we do not know.
        let req = prompb::WriteRequest {
            timeseries: vec![prompb::TimeSeries {
                labels: vec![
                    prompb::Label {
                        name: "__name__".into(),
                        value: "m".into(),
                    },
                    prompb::Label {
                        name: "z".into(),
                        value: "".into(),
                    },
                ],
                samples: vec![prompb::Sample {
                    value: 3.0,
                    timestamp: 7,
                }],
                exemplars: vec![],
            }],
            metadata: vec![prompb::MetricMetadata {
                r#type: 42,
                metric_family_name: "m".into(),
                help: String::new(),
                unit: String::new(),
            }],
        };
        let mut raw = req.encode_to_vec();
        // Append TimeSeries-level unknown field? Append a top-level unknown
        // field 9 (varint 1): decoders must skip it.
        raw.extend_from_slice(&[0x48, 0x01]);
        let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
        let batch = decode(&body, CAP).unwrap();
        assert_eq!(
            batch.series[0].labels,
            Labels::from_pairs([("__name__", "m")])
        );
        assert_eq!(batch.series[0].samples, vec![Sample::new(3.0, 7)]);
        assert_eq!(batch.metadata[0].metric_type, MetricType::Unknown);
        // And our encoder agrees byte for byte with prost on a valid request.
        let mut valid = req.clone();
        valid.timeseries[0].labels.pop();
        valid.metadata[0].r#type = prompb::MetricType::Counter as i32;
        let ours_batch = from_proto(valid.clone()).unwrap();
        let ours = snap::raw::Decoder::new()
            .decompress_vec(&encode(&ours_batch).unwrap())
            .unwrap();
        assert_eq!(ours, valid.encode_to_vec());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(decode(b"", CAP), Err(DecodeError::Snappy(_))));
        assert!(matches!(
            decode(b"\xff\xff\xff\xff\xff\xff", CAP),
            Err(DecodeError::Snappy(_))
        ));
        // Valid snappy around invalid protobuf.
        let body = snap::raw::Encoder::new()
            .compress_vec(b"\x0a\xff\xff\x01zz")
            .unwrap();
        assert!(matches!(
            decode(&body, CAP),
            Err(DecodeError::Protobuf(_) | DecodeError::Malformed(_))
        ));
        // A pseudo-random sweep: every outcome must be Ok or a typed error.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..2000 {
            let mut buf = Vec::with_capacity(len % 64);
            for _ in 0..len % 64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf.push(x as u8);
            }
            let _ = decode(&buf, CAP);
            let framed = snap::raw::Encoder::new().compress_vec(&buf).unwrap();
            let _ = decode(&framed, CAP);
        }
        // Truncations of a real body.
        let body = encode(&sample_batch()).unwrap();
        for cut in 0..body.len() {
            let _ = decode(&body[..cut], CAP);
        }
    }

    /// `n` copies of `raw`, each with one or two bytes changed
    /// (pseudo-random, the same every run).
    fn mutations(raw: &[u8], n: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        (0..n).map(move |_| {
            let mut m = raw.to_vec();
            for _ in 0..1 + (x % 2) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x >> 8) as usize % m.len();
                m[i] = (x >> 40) as u8;
            }
            m
        })
    }

    /// Decoding through prost's structs, the reference for the reader.
    fn decode_with_prost(raw: &[u8]) -> Result<Batch, DecodeError> {
        from_proto(prompb::WriteRequest::decode(raw)?)
    }

    #[test]
    fn reader_agrees_with_prost() {
        let mut batch = sample_batch();
        batch.series[1].samples.push(Sample::new(-2.5, -7));
        let raw = to_proto(&batch).encode_to_vec();
        assert!(reader::read_request(&raw).unwrap().bit_eq(&batch));
        // Mutate one or two bytes at a time: whenever either side accepts,
        // both must accept and agree.
        let mut accepted = 0;
        for m in mutations(&raw, 20_000) {
            let ours = reader::read_request(&m);
            let theirs = decode_with_prost(&m);
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => {
                    assert!(a.bit_eq(b), "differ on {m:?}");
                    accepted += 1;
                }
                (Err(_), Err(_)) => {}
                _ => panic!("disagree on {m:?}: ours {ours:?}, prost {theirs:?}"),
            }
        }
        assert!(accepted > 100, "mutations too destructive: {accepted}");
    }

    /// The wire-form reader accepts exactly what the model reader accepts,
    /// and its series decode to the same batch.
    #[test]
    fn wire_form_reader_agrees_with_the_model_reader() {
        let mut batch = sample_batch();
        batch.series[1].samples.push(Sample::new(-2.5, -7));
        let raw = to_proto(&batch).encode_to_vec();
        let encoded = reader::read_request_encoded(bytes::Bytes::from(raw.clone())).unwrap();
        assert!(encoded.to_batch().unwrap().bit_eq(&batch));
        assert_eq!(encoded.series[1].hash, batch.series[1].labels.stable_hash());
        assert_eq!(
            (encoded.series[1].min_ts, encoded.series[1].max_ts),
            (-5, -7)
        );
        // Plain series are slices of the request, byte for byte.
        let fields: Vec<u8> = encoded
            .series
            .iter()
            .flat_map(|s| s.field.to_vec())
            .collect();
        assert!(raw.starts_with(&fields));
        let mut accepted = 0;
        for m in mutations(&raw, 20_000) {
            let model = reader::read_request(&m);
            let wire = reader::read_request_encoded(bytes::Bytes::from(m.clone()));
            match (&model, &wire) {
                (Ok(a), Ok(b)) => {
                    let b = b.to_batch().unwrap();
                    assert!(a.bit_eq(&b), "differ on {m:?}");
                    for (s, e) in a.series.iter().zip(&wire.as_ref().unwrap().series) {
                        assert_eq!(e.hash, s.labels.stable_hash());
                        assert_eq!(e.samples as usize, s.samples.len());
                    }
                    accepted += 1;
                }
                (Err(_), Err(_)) => {}
                _ => panic!("disagree on {m:?}: model {model:?}, wire {wire:?}"),
            }
        }
        assert!(accepted > 100, "mutations too destructive: {accepted}");
    }

    /// A label with an empty value or an unknown field is not forwarded as
    /// it came: the series goes through the model, as the model reader has it.
    #[test]
    fn wire_form_reader_normalises_what_the_model_would_change() {
        let label = |n: &str, v: &str| prompb::Label {
            name: n.into(),
            value: v.into(),
        };
        let req = prompb::WriteRequest {
            timeseries: vec![prompb::TimeSeries {
                labels: vec![label("__name__", "m"), label("z", "")],
                samples: vec![prompb::Sample {
                    value: 3.0,
                    timestamp: 7,
                }],
                exemplars: vec![],
            }],
            metadata: vec![],
        };
        let encoded =
            reader::read_request_encoded(bytes::Bytes::from(req.encode_to_vec())).unwrap();
        let model = reader::read_request(&req.encode_to_vec()).unwrap();
        assert_eq!(
            encoded.series[0],
            EncodedSeries::from_series(&model.series[0])
        );
        // An unknown field (native histograms are field 4) inside a series.
        let mut one = prompb::WriteRequest {
            timeseries: vec![prompb::TimeSeries {
                labels: vec![label("__name__", "m")],
                samples: vec![],
                exemplars: vec![],
            }],
            metadata: vec![],
        }
        .encode_to_vec();
        one[1] += 2;
        one.extend_from_slice(&[0x20, 0x01]);
        let encoded = reader::read_request_encoded(bytes::Bytes::from(one.clone())).unwrap();
        let model = reader::read_request(&one).unwrap();
        assert_eq!(
            encoded.series[0],
            EncodedSeries::from_series(&model.series[0])
        );
        assert_ne!(&encoded.series[0].field[..], &one[..]);
    }

    #[test]
    fn over_cap_is_refused_before_decompressing() {
        let body = encode(&sample_batch()).unwrap();
        let len = snap::raw::decompress_len(&body).unwrap();
        assert!(decode(&body, len).is_ok());
        match decode(&body, len - 1) {
            Err(DecodeError::TooLarge { len: l, max }) => {
                assert_eq!((l, max), (len, len - 1));
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        // A 6-byte header claiming ~4 GiB is refused without allocating.
        let liar = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        assert!(matches!(
            decode(&liar, CAP),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn invalid_labels_are_typed_errors() {
        for (labels, want) in [
            (vec![("b", "1"), ("a", "1")], "not sorted"),
            (vec![("a", "1"), ("a", "2")], "duplicate"),
            (vec![("", "1")], "empty name"),
        ] {
            let req = prompb::WriteRequest {
                timeseries: vec![prompb::TimeSeries {
                    labels: labels
                        .iter()
                        .map(|(n, v)| prompb::Label {
                            name: (*n).into(),
                            value: (*v).into(),
                        })
                        .collect(),
                    samples: vec![],
                    exemplars: vec![],
                }],
                metadata: vec![],
            };
            let body = snap::raw::Encoder::new()
                .compress_vec(&req.encode_to_vec())
                .unwrap();
            let err = decode(&body, CAP).unwrap_err();
            assert!(matches!(err, DecodeError::Labels { index: 0, .. }));
            assert!(err.to_string().contains(want), "{err}");
        }
    }
}
