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
//! | 0      | format version, `1`                                              |
//! | 1..9   | cumulative value bytes of the queue up to and including this one |
//! | 9..17  | cumulative samples of the queue up to and including this one     |
//! | 17..25 | samples in this entry                                            |
//! | 25..   | snappy *raw block* of the rmp-serde (array form) encoded batch   |
//!
//! Inside the batch, label sets are msgpack byte strings holding
//! [`crate::model::Labels`]' canonical encoding.
//!
//! Why the cumulative counters: backlog size and sample count come from the
//! first and last entries alone (O(log n), no scan at open), and the size cap
//! can count dropped samples from headers without decompressing. Why raw
//! snappy rather than the framed format: sled already checksums what it
//! stores, so the frame's CRC would be paid twice; raw is smaller and faster.

use super::error::EntryError;
use crate::model::Batch;

pub(crate) const VERSION: u8 = 1;
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

/// Encodes `batch` into an entry value whose header still lacks the
/// cumulative counters (filled by [`set_cumulative`] under the append lock).
pub(crate) fn encode(batch: &Batch, samples: u64) -> Result<Vec<u8>, super::WalError> {
    let payload = rmp_serde::to_vec(batch)?;
    let mut value = vec![0u8; HEADER_LEN + snap::raw::max_compress_len(payload.len())];
    let n = snap::raw::Encoder::new()
        .compress(&payload, &mut value[HEADER_LEN..])
        .map_err(super::WalError::Compress)?;
    value.truncate(HEADER_LEN + n);
    value[0] = VERSION;
    value[17..25].copy_from_slice(&samples.to_be_bytes());
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
    if value[0] != VERSION {
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
pub(crate) fn decode(value: &[u8], scratch: &mut Vec<u8>) -> Result<Batch, EntryError> {
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
    rmp_serde::from_slice(&scratch[..n]).map_err(EntryError::Decode)
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
        let mut v = encode(&batch, 100).unwrap();
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
