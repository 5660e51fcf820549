//! The stored shard layout of one queue: every shard's read position and
//! request mark, in one value under one meta key.
//!
//! Place in the data flow: the sender's flusher stores the layout before
//! each flush ([`super::Queue::store_positions_and_marks`]); a restart reads
//! it back to resume each shard. Why one key: what is stored must always be
//! one layout, never a mix of an old and a new one (a reshard changes the
//! shard count), and a single sled `insert` is atomic on its own. Keys per
//! shard needed a `sled::Batch` for that, and sled 0.34 writes out and syncs
//! the current I/O buffer twice for every batch (`pin_log` rolls the buffer
//! before and after reserving the batch manifest): with a batch per flush
//! round, ≈ 3.5 buffer writes and `sync_file_range` calls per round in
//! `ingest` instead of one (`benches/REMOTE_WRITE.md`, "Session 11").
//!
//! Value: format byte `1`, then one record per shard in shard order —
//! shard `u32`, position `u64`, mark flag `u8` (`0` none, `1` one follows),
//! mark (20 bytes: entry `u64`, series index `u32`, samples sent `u32`,
//! samples `u32`) — all big-endian. Marks were stored in the same 20 bytes
//! under per-shard keys before the layout key.

use super::queue::RequestMark;

const FORMAT: u8 = 1;
const MARK_LEN: usize = 20;

impl RequestMark {
    pub(super) fn encode(&self) -> [u8; MARK_LEN] {
        let mut b = [0u8; MARK_LEN];
        b[..8].copy_from_slice(&self.seq.to_be_bytes());
        b[8..12].copy_from_slice(&self.index.to_be_bytes());
        b[12..16].copy_from_slice(&self.sent.to_be_bytes());
        b[16..].copy_from_slice(&self.samples.to_be_bytes());
        b
    }

    pub(super) fn decode(b: &[u8]) -> Option<RequestMark> {
        let b: &[u8; MARK_LEN] = b.try_into().ok()?;
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Some(RequestMark {
            seq: u64::from_be_bytes(b[..8].try_into().ok()?),
            index: u32_at(8),
            sent: u32_at(12),
            samples: u32_at(16),
        })
    }
}

/// One shard's stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShardState {
    pub shard: u32,
    pub position: u64,
    pub mark: Option<RequestMark>,
}

pub(crate) fn encode(shards: &[ShardState]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + shards.len() * (13 + MARK_LEN));
    out.push(FORMAT);
    for s in shards {
        out.extend_from_slice(&s.shard.to_be_bytes());
        out.extend_from_slice(&s.position.to_be_bytes());
        match &s.mark {
            Some(mark) => {
                out.push(1);
                out.extend_from_slice(&mark.encode());
            }
            None => out.push(0),
        }
    }
    out
}

/// The records of a stored layout, or `None` when it is not one.
pub(crate) fn decode(mut b: &[u8]) -> Option<Vec<ShardState>> {
    let (&format, rest) = b.split_first()?;
    (format == FORMAT).then_some(())?;
    b = rest;
    let mut out = Vec::new();
    while !b.is_empty() {
        let shard = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
        let position = u64::from_be_bytes(b.get(4..12)?.try_into().ok()?);
        let (mark, len) = match b.get(12)? {
            0 => (None, 13),
            1 => (
                Some(RequestMark::decode(b.get(13..13 + MARK_LEN)?)?),
                13 + MARK_LEN,
            ),
            _ => return None,
        };
        out.push(ShardState {
            shard,
            position,
            mark,
        });
        b = &b[len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_reads_back_and_damage_is_refused() {
        let mark = RequestMark {
            seq: 7,
            index: 3,
            sent: 1,
            samples: 2000,
        };
        let shards = vec![
            ShardState {
                shard: 0,
                position: 5,
                mark: None,
            },
            ShardState {
                shard: 3,
                position: u64::MAX,
                mark: Some(mark),
            },
        ];
        let stored = encode(&shards);
        assert_eq!(decode(&stored), Some(shards));
        assert_eq!(decode(&encode(&[])), Some(vec![]));
        // A cut after the format byte or after the first record is a
        // shorter layout; anywhere else, damage.
        for cut in 0..stored.len() {
            if cut != 1 && cut != 1 + 13 {
                assert_eq!(decode(&stored[..cut]), None, "cut at {cut}");
            }
        }
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[2]), None);
        let mut bad_flag = stored.clone();
        bad_flag[13] = 9;
        assert_eq!(decode(&bad_flag), None);
    }
}
