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
    scratch.clear();
    scratch.resize(len, 0);
    let n = snap::raw::Decoder::new()
        .decompress(body, scratch)
        .map_err(EntryError::Snappy)?;
    rmp_serde::from_slice(&scratch[..n]).map_err(EntryError::Decode)
}
