//! Series identity: the sorted label set every sample, exemplar and shard
//! decision hangs off.
//!
//! Place in the data flow: sources build a [`Labels`] once per series,
//! processors (relabel) rebuild it with a [`LabelsBuilder`], the WAL stores it,
//! and the sender shards by [`Labels::stable_hash`] so that one series always
//! goes through the same send loop (order per series is kept).
//!
//! Why this representation: memory per *active series* dominates an
//! aggregator, so a label set is one reference-counted byte buffer holding the
//! pairs in canonical form (`varint(len) name varint(len) value`, sorted by
//! name, names unique, no empty values) — the idea of Prometheus'
//! `stringlabels`. One allocation per series, cloning is one atomic increment,
//! equality and hashing work on contiguous bytes, and binary serde formats
//! (the WAL's rmp-serde) store the buffer as it is, so writing a label set is
//! a copy and reading it back is one validating pass and one allocation.
//! That makes the canonical encoding an on-disk format as well as the input
//! of the stable hash: changing it needs a WAL format version.
//!
//! The buffer starts with the set's [`Labels::stable_hash`] (8 bytes, little
//! endian), computed once when the set is built: every later stage that
//! hashes the set — a scrape's staleness set, `prometheus.relabel`'s cache,
//! the sender's shard choice, the hash maps keyed by label sets — reads it
//! instead of hashing ≈ 200 bytes again, and equality of different sets
//! usually fails on the first 8 bytes. It is not part of the canonical
//! encoding (nothing stores it; readers recompute it).

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The label holding the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Why a sequence of label pairs is not a valid label set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    #[error("label with an empty name")]
    EmptyName,
    #[error("labels not sorted: {name:?} after {previous:?}")]
    Unsorted { previous: String, name: String },
    #[error("duplicate label name {name:?}")]
    Duplicate { name: String },
    #[error("malformed canonical label encoding: {0}")]
    Malformed(&'static str),
}

/// An immutable, sorted set of `(name, value)` label pairs.
///
/// Invariants (upheld by every constructor): names are non-empty, strictly
/// increasing and unique; values are non-empty (an empty value means "absent",
/// as in Prometheus).
#[derive(Clone, PartialEq, Eq)]
pub struct Labels {
    /// The stable hash (8 bytes, little endian), then the canonical
    /// encoding; see the module documentation.
    buf: Arc<[u8]>,
}

/// Bytes of the stable hash in front of the canonical encoding.
const HASH_LEN: usize = 8;

impl std::hash::Hash for Labels {
    /// The stable hash, computed when the set was built: equal sets have
    /// equal hashes because their canonical bytes are equal.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.stable_hash());
    }
}

/// Prefixes `canonical` with its stable hash, in the per-thread scratch:
/// one allocation, the final `Arc`.
fn with_hash(canonical: &[u8]) -> Arc<[u8]> {
    let mut buf = SCRATCH.with(|s| s.take());
    buf.clear();
    buf.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(canonical).to_le_bytes());
    buf.extend_from_slice(canonical);
    let out = Arc::from(&buf[..]);
    SCRATCH.with(|s| s.set(buf));
    out
}

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels {
            buf: with_hash(&[]),
        }
    }

    /// Starts a builder, which accepts pairs in any order.
    pub fn builder() -> LabelsBuilder {
        LabelsBuilder::default()
    }

    /// Builds a label set from pairs in any order; a later duplicate name wins
    /// and empty values are dropped.
    pub fn from_pairs<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Self
    where
        N: Into<String>,
        V: Into<String>,
    {
        let mut b = LabelsBuilder::default();
        for (n, v) in pairs {
            b.set(n, v);
        }
        b.build()
    }

    /// Builds a label set from pairs that must already be sorted by name and
    /// unique, as a wire format promises (remote write); pairs with an empty
    /// value are skipped. This is the decoders' fast path: one allocation.
    pub fn try_from_sorted<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, LabelsError> {
        let mut w = Writer::default();
        for (name, value) in pairs {
            w.push(name, value)?;
        }
        Ok(w.finish())
    }

    /// The [`Labels::stable_hash`] that [`Labels::try_from_sorted`] would
    /// give these pairs, with the same checks, without building the set: a
    /// receiver that forwards series in wire form needs their hash (the
    /// shard key) but not their labels.
    /// The pairs are bytes the caller has checked to be UTF-8 (a reader
    /// checks a whole label message at once).
    pub fn stable_hash_of_sorted<'a>(
        pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<u64, LabelsError> {
        let mut w = Writer::default();
        for (name, value) in pairs {
            w.push_bytes(name, value)?;
        }
        Ok(w.finish_hash())
    }

    /// Parses the canonical encoding (see the module documentation), as
    /// stored by binary serde formats. Every property is checked — lengths,
    /// UTF-8, order, uniqueness — so corrupt input is an error, not a panic.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, LabelsError> {
        // Lengths below 128 are ASCII bytes too, so one vectorised ASCII scan
        // of the whole buffer usually replaces a UTF-8 check per string.
        let ascii = bytes.is_ascii();
        let mut rest = bytes;
        let mut previous: Option<&[u8]> = None;
        let mut has_empty_value = false;
        while !rest.is_empty() {
            let name = checked_take(&mut rest, ascii)?;
            let value = checked_take(&mut rest, ascii)?;
            check_order(previous, name)?;
            if value.is_empty() {
                has_empty_value = true;
            } else {
                previous = Some(name);
            }
        }
        if has_empty_value {
            // Valid but not canonical (we never write that): re-encode.
            let mut w = Writer::default();
            let mut rest = bytes;
            while !rest.is_empty() {
                let name = checked_take(&mut rest, ascii)?;
                let value = checked_take(&mut rest, ascii)?;
                w.push_bytes(name, value)?;
            }
            return Ok(w.finish());
        }
        Ok(Labels {
            buf: with_hash(bytes),
        })
    }

    /// This label set with `changes` applied: each sets a label (`Some`
    /// value; an empty one removes it) or removes it (`None`). `changes`
    /// must be sorted by name and unique. The stretches of labels between
    /// changes are copied as they are stored, not re-encoded pair by pair:
    /// `prometheus.relabel` builds every forwarded label set this way from
    /// its cached edit.
    pub fn with_changes<'a>(
        &self,
        changes: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Result<Labels, LabelsError> {
        let old = self.as_canonical_bytes();
        let mut w = Writer::default();
        // `old[..copied]` is written (or skipped); `rest` is what is left.
        let mut rest = old;
        let mut previous: Option<&str> = None;
        for (name, value) in changes {
            check_order(previous.map(str::as_bytes), name.as_bytes())?;
            previous = Some(name);
            let copied = old.len() - rest.len();
            // Copy the stored pairs named before `name`; skip one named `name`.
            let mut skipped = None;
            while !rest.is_empty() {
                let mut next = rest;
                let n = take_bytes(&mut next);
                take_bytes(&mut next);
                match n.cmp(name.as_bytes()) {
                    Ordering::Less => rest = next,
                    Ordering::Equal => {
                        skipped = Some(next);
                        break;
                    }
                    Ordering::Greater => break,
                }
            }
            w.buf
                .extend_from_slice(&old[copied..old.len() - rest.len()]);
            rest = skipped.unwrap_or(rest);
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                put_bytes(&mut w.buf, name.as_bytes());
                put_bytes(&mut w.buf, value.as_bytes());
            }
        }
        w.buf.extend_from_slice(rest);
        Ok(w.finish())
    }

    /// The canonical encoding: what binary formats store and what
    /// [`stable_hash`](Self::stable_hash) hashes.
    pub fn as_canonical_bytes(&self) -> &[u8] {
        &self.buf[HASH_LEN..]
    }

    /// Number of label pairs.
    pub fn len(&self) -> usize {
        self.raw_pairs().count()
    }

    /// Whether there is no label at all.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HASH_LEN
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        // Linear scan: label sets are short and the buffer is contiguous, so
        // this beats a binary search over variable-length entries. Byte
        // order is `str` order, so only the value found needs converting.
        for (n, v) in self.raw_pairs() {
            match n.cmp(name.as_bytes()) {
                Ordering::Less => continue,
                Ordering::Equal => return Some(as_str(v)),
                Ordering::Greater => return None,
            }
        }
        None
    }

    /// The value of `__name__`, if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Iterates the pairs in name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            raw: self.raw_pairs(),
        }
    }

    /// Iterates the pairs as UTF-8 bytes, skipping the `str` conversion:
    /// for encoders, which write bytes anyway (remote write).
    pub fn raw_pairs(&self) -> RawPairs<'_> {
        RawPairs {
            rest: self.as_canonical_bytes(),
        }
    }

    /// A 64-bit hash of the series identity that is stable across processes,
    /// restarts and platforms: xxh3-64 (seed 0) of the canonical encoding.
    ///
    /// The sender shards by it and the WAL keeps one read position per shard,
    /// so a change here would move series between shards across a restart and
    /// break the per-shard positions: the test `stable_hash_is_pinned` guards
    /// the value. Computed once when the set is built; this reads it.
    pub fn stable_hash(&self) -> u64 {
        let mut bytes = [0u8; HASH_LEN];
        bytes.copy_from_slice(&self.buf[..HASH_LEN]);
        u64::from_le_bytes(bytes)
    }

    /// Bytes held by this label set's buffer (the canonical encoding and the
    /// stored hash, not counting the `Arc` header), for memory accounting.
    pub fn encoded_len(&self) -> usize {
        self.buf.len()
    }
}

impl Default for Labels {
    fn default() -> Self {
        Labels::empty()
    }
}

impl Ord for Labels {
    /// Pairwise order by (name, value), then by length — Prometheus'
    /// `labels.Compare`.
    fn cmp(&self, other: &Self) -> Ordering {
        // UTF-8 byte order is `str` order.
        self.raw_pairs().cmp(other.raw_pairs())
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Labels {
    /// `{a="1", b="2"}`, the Prometheus notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v:?}")?;
        }
        f.write_str("}")
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over the `(name, value)` pairs of a [`Labels`].
#[derive(Clone)]
pub struct Iter<'a> {
    raw: RawPairs<'a>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        self.raw.next().map(|(n, v)| (as_str(n), as_str(v)))
    }
}

/// Iterator over the `(name, value)` pairs of a [`Labels`] as UTF-8 bytes.
#[derive(Clone)]
pub struct RawPairs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RawPairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let name = take_bytes(&mut self.rest);
        let value = take_bytes(&mut self.rest);
        Some((name, value))
    }
}

/// Reads one length-prefixed string. The buffer is only ever written by
/// [`Writer`] and [`LabelsBuilder`], so it is well formed.
fn take_bytes<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let mut len = 0usize;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = rest[i];
        i += 1;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let (s, tail) = rest[i..].split_at(len);
    *rest = tail;
    s
}

/// [`take_bytes`] for untrusted input: bounds checked, and UTF-8 checked
/// unless the caller already knows the whole buffer is ASCII.
fn checked_take<'a>(rest: &mut &'a [u8], ascii: bool) -> Result<&'a [u8], LabelsError> {
    let mut len = 0u64;
    let mut i = 0;
    loop {
        let Some(&b) = rest.get(i) else {
            return Err(LabelsError::Malformed("truncated length"));
        };
        if i == 9 {
            return Err(LabelsError::Malformed("length varint too long"));
        }
        len |= u64::from(b & 0x7f) << (7 * i);
        i += 1;
        if b & 0x80 == 0 {
            if b == 0 && i > 1 {
                // A padded varint would make equal sets differ in bytes,
                // breaking `Eq`, `Hash` and the stable hash.
                return Err(LabelsError::Malformed("non-minimal length"));
            }
            break;
        }
    }
    let tail = &rest[i..];
    if len > tail.len() as u64 {
        return Err(LabelsError::Malformed("string exceeds the buffer"));
    }
    let (s, tail) = tail.split_at(len as usize);
    *rest = tail;
    if !ascii && std::str::from_utf8(s).is_err() {
        return Err(LabelsError::Malformed("string is not UTF-8"));
    }
    Ok(s)
}

/// Checks that `name` may follow `previous` in a label set.
fn check_order(previous: Option<&[u8]>, name: &[u8]) -> Result<(), LabelsError> {
    if name.is_empty() {
        return Err(LabelsError::EmptyName);
    }
    match previous.map(|p| p.cmp(name)) {
        None | Some(Ordering::Less) => Ok(()),
        Some(Ordering::Equal) => Err(LabelsError::Duplicate {
            name: String::from_utf8_lossy(name).into_owned(),
        }),
        Some(Ordering::Greater) => Err(LabelsError::Unsorted {
            previous: String::from_utf8_lossy(previous.unwrap_or_default()).into_owned(),
            name: String::from_utf8_lossy(name).into_owned(),
        }),
    }
}

/// Every string in the buffer came from a `&str`; the `expect` states that
/// invariant rather than reaching for `unsafe`.
fn as_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("labels buffer holds UTF-8 by construction")
}

fn put_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let mut len = s.len();
    while len >= 0x80 {
        buf.push((len as u8) | 0x80);
        len >>= 7;
    }
    buf.push(len as u8);
    buf.extend_from_slice(s);
}

/// Appends pairs in canonical form, checking order; shared by
/// [`Labels::try_from_sorted`] and deserialization.
///
/// It writes into a per-thread scratch buffer that keeps its capacity, so
/// building a label set costs exactly one allocation (the final `Arc`), which
/// is what makes WAL replay and request decoding cheap per series. The
/// buffer starts with room for the stable hash, filled in by `finish`.
struct Writer {
    buf: Vec<u8>,
    /// Byte range of the previous name inside `buf`.
    last_name: Option<(usize, usize)>,
}

thread_local! {
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Default for Writer {
    fn default() -> Self {
        // Taking (not borrowing) the scratch keeps nested use safe: a nested
        // writer would simply start from an empty buffer.
        let mut buf = SCRATCH.with(|s| s.take());
        buf.clear();
        buf.extend_from_slice(&[0; HASH_LEN]);
        Writer {
            buf,
            last_name: None,
        }
    }
}

impl Writer {
    fn push(&mut self, name: &str, value: &str) -> Result<(), LabelsError> {
        self.push_bytes(name.as_bytes(), value.as_bytes())
    }

    /// Appends a pair whose strings are known to be UTF-8.
    fn push_bytes(&mut self, name: &[u8], value: &[u8]) -> Result<(), LabelsError> {
        let previous = self.last_name.map(|(start, end)| &self.buf[start..end]);
        check_order(previous, name)?;
        if value.is_empty() {
            // An empty value means the label is absent; order is checked
            // against kept names only.
            return Ok(());
        }
        put_bytes(&mut self.buf, name);
        let end = self.buf.len();
        self.last_name = Some((end - name.len(), end));
        put_bytes(&mut self.buf, value);
        Ok(())
    }

    /// The stable hash of what was pushed; the scratch goes back unused.
    fn finish_hash(self) -> u64 {
        let hash = xxhash_rust::xxh3::xxh3_64(&self.buf[HASH_LEN..]);
        SCRATCH.with(|s| s.set(self.buf));
        hash
    }

    fn finish(mut self) -> Labels {
        let hash = xxhash_rust::xxh3::xxh3_64(&self.buf[HASH_LEN..]);
        self.buf[..HASH_LEN].copy_from_slice(&hash.to_le_bytes());
        let labels = Labels {
            buf: Arc::from(&self.buf[..]),
        };
        SCRATCH.with(|s| s.set(self.buf));
        labels
    }
}

/// Hashes a [`Labels`] by passing its stored [`Labels::stable_hash`] through
/// (xxh3 of the canonical bytes, computed once) instead of running the
/// standard library's SipHash over the bytes:
/// sets and maps of label sets are on the data plane's hot paths (a
/// scrape's series set, `prometheus.relabel`'s cache), and their keys come
/// from our own pages and peers, not from an adversary choosing collisions
/// for a map we cannot bound (every such map here is bounded).
#[derive(Debug, Default, Clone, Copy)]
pub struct LabelsHasher(u64);

impl std::hash::Hasher for LabelsHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    /// The length prefix `[u8]`'s `Hash` writes first: folded into the seed
    /// of the `write` that follows.
    fn write_usize(&mut self, n: usize) {
        self.0 ^= n as u64;
    }

    /// What [`Labels`]' `Hash` writes: its stored hash, already well mixed.
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The [`std::hash::BuildHasher`] of [`LabelsHasher`].
pub type LabelsBuildHasher = std::hash::BuildHasherDefault<LabelsHasher>;

/// A set of label sets hashed with [`LabelsHasher`].
pub type LabelsSet = std::collections::HashSet<Labels, LabelsBuildHasher>;

/// Builds or edits a label set; pairs may come in any order.
#[derive(Debug, Default, Clone)]
pub struct LabelsBuilder {
    pairs: Vec<(String, String)>,
}

impl LabelsBuilder {
    /// Starts from an existing label set, to edit it (relabelling).
    pub fn from_labels(labels: &Labels) -> Self {
        LabelsBuilder {
            pairs: labels
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// Sets `name` to `value`, replacing an earlier value. An empty value
    /// removes the label when built.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let (name, value) = (name.into(), value.into());
        match self.pairs.iter_mut().find(|(n, _)| *n == name) {
            Some(pair) => pair.1 = value,
            None => self.pairs.push((name, value)),
        }
        self
    }

    /// Removes label `name`.
    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.pairs.retain(|(n, _)| n != name);
        self
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sorts and freezes the label set. Pairs with an empty name or value are
    /// dropped (an empty name can't be a label; an empty value means absent).
    pub fn build(&self) -> Labels {
        let mut refs: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        refs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut buf = Vec::with_capacity(refs.iter().map(|(n, v)| n.len() + v.len() + 2).sum());
        for (n, v) in refs {
            put_bytes(&mut buf, n.as_bytes());
            put_bytes(&mut buf, v.as_bytes());
        }
        Labels {
            buf: with_hash(&buf),
        }
    }
}

impl Serialize for Labels {
    /// Human-readable formats (JSON) get a map `name → value` in name order;
    /// binary formats (rmp-serde in the WAL) get the canonical encoding as
    /// one byte string, which costs a `memcpy` to write and one validating
    /// pass to read, instead of a call per string each way.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            let mut map = serializer.serialize_map(Some(self.len()))?;
            for (n, v) in self.iter() {
                map.serialize_entry(n, v)?;
            }
            map.end()
        } else {
            serializer.serialize_bytes(self.as_canonical_bytes())
        }
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_map(LabelsVisitor)
        } else {
            deserializer.deserialize_bytes(LabelsVisitor)
        }
    }
}

struct LabelsVisitor;

impl<'de> Visitor<'de> for LabelsVisitor {
    type Value = Labels;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of label names to values sorted by name, or their canonical encoding")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Labels, E> {
        Labels::from_canonical_bytes(v).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
        let mut w = Writer::default();
        // Formats that can lend strings give `&'de str` without any
        // allocation; others fall back to a `String`.
        while let Some(name) = map.next_key::<MaybeBorrowed<'de>>()? {
            let value = map.next_value::<MaybeBorrowed<'de>>()?;
            w.push(name.as_str(), value.as_str())
                .map_err(serde::de::Error::custom)?;
        }
        Ok(w.finish())
    }
}

/// A string borrowed from the input when the format allows it.
enum MaybeBorrowed<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl MaybeBorrowed<'_> {
    fn as_str(&self) -> &str {
        match self {
            MaybeBorrowed::Borrowed(s) => s,
            MaybeBorrowed::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for MaybeBorrowed<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(MaybeBorrowedVisitor)
    }
}

struct MaybeBorrowedVisitor;

impl<'de> Visitor<'de> for MaybeBorrowedVisitor {
    type Value = MaybeBorrowed<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(MaybeBorrowed::Borrowed(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(MaybeBorrowed::Owned(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn builder_sorts_dedups_and_drops_empty_values() {
        let labels = Labels::builder()
            .set("job", "node")
            .set("__name__", "up")
            .set("instance", "a:9100")
            .set("job", "node2")
            .set("empty", "")
            .build();
        let pairs: Vec<_> = labels.iter().collect();
        assert_eq!(
            pairs,
            vec![("__name__", "up"), ("instance", "a:9100"), ("job", "node2")]
        );
        assert_eq!(labels.metric_name(), Some("up"));
        assert_eq!(labels.get("job"), Some("node2"));
        assert_eq!(labels.get("nope"), None);
        assert_eq!(labels.get("empty"), None);
        assert_eq!(labels.len(), 3);
        assert_eq!(
            labels.to_string(),
            r#"{__name__="up", instance="a:9100", job="node2"}"#
        );
    }

    #[test]
    fn builder_edits_existing_labels() {
        let labels = l(&[("a", "1"), ("b", "2")]);
        let mut b = LabelsBuilder::from_labels(&labels);
        b.remove("a").set("c", "3");
        assert_eq!(b.build(), l(&[("b", "2"), ("c", "3")]));
    }

    #[test]
    fn try_from_sorted_rejects_bad_input() {
        assert_eq!(
            Labels::try_from_sorted([("b", "1"), ("a", "2")]),
            Err(LabelsError::Unsorted {
                previous: "b".into(),
                name: "a".into()
            })
        );
        assert_eq!(
            Labels::try_from_sorted([("a", "1"), ("a", "2")]),
            Err(LabelsError::Duplicate { name: "a".into() })
        );
        assert_eq!(
            Labels::try_from_sorted([("", "1")]),
            Err(LabelsError::EmptyName)
        );
        let ok = Labels::try_from_sorted([("a", "1"), ("b", ""), ("c", "3")]).unwrap();
        assert_eq!(ok, l(&[("a", "1"), ("c", "3")]));
    }

    #[test]
    fn with_changes_equals_building_the_result() {
        let base = l(&[("__name__", "up"), ("instance", "a:9100"), ("job", "node")]);
        type Changes<'a> = &'a [(&'a str, Option<&'a str>)];
        let cases: &[(Changes, &[(&str, &str)])] = &[
            (
                &[],
                &[("__name__", "up"), ("instance", "a:9100"), ("job", "node")],
            ),
            (
                &[("a", Some("1"))],
                &[
                    ("__name__", "up"),
                    ("a", "1"),
                    ("instance", "a:9100"),
                    ("job", "node"),
                ],
            ),
            (
                &[("zz", Some("1"))],
                &[
                    ("__name__", "up"),
                    ("instance", "a:9100"),
                    ("job", "node"),
                    ("zz", "1"),
                ],
            ),
            (
                &[("instance", Some("b"))],
                &[("__name__", "up"), ("instance", "b"), ("job", "node")],
            ),
            (
                &[("instance", None), ("job", Some(""))],
                &[("__name__", "up")],
            ),
            (
                &[
                    ("__name__", None),
                    ("b", Some("2")),
                    ("job", None),
                    ("x", None),
                ],
                &[("b", "2"), ("instance", "a:9100")],
            ),
        ];
        for (changes, want) in cases {
            let got = base.with_changes(changes.iter().copied()).unwrap();
            let want = l(want);
            assert_eq!(got, want);
            assert_eq!(got.stable_hash(), want.stable_hash());
        }
        assert!(base.with_changes([("b", None), ("a", None)]).is_err());
        assert!(base.with_changes([("a", None), ("a", None)]).is_err());
        assert!(base.with_changes([("", Some("x"))]).is_err());
    }

    #[test]
    fn long_strings_use_multi_byte_lengths() {
        let long = "x".repeat(300);
        let labels = l(&[("a", &long), ("b", "short")]);
        assert_eq!(labels.get("a"), Some(long.as_str()));
        assert_eq!(labels.get("b"), Some("short"));
    }

    #[test]
    fn order_is_pairwise() {
        let a = l(&[("a", "1")]);
        let ab = l(&[("a", "1"), ("b", "1")]);
        let b = l(&[("b", "0")]);
        assert!(a < ab);
        assert!(ab < b);
        assert!(Labels::empty() < a);
        let mut v = vec![b.clone(), ab.clone(), a.clone()];
        v.sort();
        assert_eq!(v, vec![a, ab, b]);
    }

    #[test]
    fn hash_of_sorted_pairs_is_the_built_sets_hash() {
        let pairs = [("__name__", "up"), ("empty", ""), ("job", "node")];
        let built = Labels::try_from_sorted(pairs).unwrap();
        let bytes = pairs.map(|(n, v)| (n.as_bytes(), v.as_bytes()));
        assert_eq!(
            Labels::stable_hash_of_sorted(bytes),
            Ok(built.stable_hash())
        );
        let unsorted: [(&[u8], &[u8]); 2] = [(b"b", b"1"), (b"a", b"2")];
        assert!(Labels::stable_hash_of_sorted(unsorted).is_err());
    }

    #[test]
    fn stable_hash_is_pinned() {
        // If this fails, shards move across restarts: see `stable_hash`.
        let labels = l(&[("__name__", "up"), ("job", "node")]);
        let canonical = b"\x08__name__\x02up\x03job\x04node";
        assert_eq!(labels.stable_hash(), xxhash_rust::xxh3::xxh3_64(canonical));
        assert_eq!(labels.stable_hash(), 10_531_563_476_587_396_253);
    }

    #[test]
    fn serde_round_trips_through_json_and_msgpack() {
        let labels = l(&[("__name__", "up"), ("job", "nö\"de")]);
        let json = serde_json::to_string(&labels).unwrap();
        assert_eq!(json, r#"{"__name__":"up","job":"nö\"de"}"#);
        assert_eq!(serde_json::from_str::<Labels>(&json).unwrap(), labels);
        let bytes = rmp_serde::to_vec(&labels).unwrap();
        let back: Labels = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, labels);
    }

    #[test]
    fn binary_formats_store_the_canonical_bytes() {
        let labels = l(&[("__name__", "up"), ("job", "node")]);
        let bytes = rmp_serde::to_vec(&labels).unwrap();
        // msgpack bin8: marker, length, then the canonical encoding.
        assert_eq!(
            &bytes[..2],
            &[0xc4, labels.as_canonical_bytes().len() as u8]
        );
        assert_eq!(&bytes[2..], labels.as_canonical_bytes());
        // Every corruption of the bytes is an error or another valid set.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..5_000 {
            let mut m = labels.as_canonical_bytes().to_vec();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x >> 8) as usize % m.len();
            m[i] = (x >> 40) as u8;
            m.truncate(m.len() - (x % 3) as usize);
            if let Ok(parsed) = Labels::from_canonical_bytes(&m) {
                let round = Labels::from_canonical_bytes(parsed.as_canonical_bytes()).unwrap();
                assert_eq!(round, parsed);
                // Accepted bytes are canonical: the builder writes the same.
                let rebuilt = Labels::from_pairs(parsed.iter());
                assert_eq!(rebuilt.as_canonical_bytes(), parsed.as_canonical_bytes());
            }
        }
        assert_eq!(
            Labels::from_canonical_bytes(b"\x01b\x011\x01a\x011"),
            Err(LabelsError::Unsorted {
                previous: "b".into(),
                name: "a".into()
            })
        );
        assert!(Labels::from_canonical_bytes(b"\x05ab").is_err());
        assert_eq!(
            Labels::from_canonical_bytes(b"\x81\x00a\x011"),
            Err(LabelsError::Malformed("non-minimal length"))
        );
        assert!(Labels::from_canonical_bytes(b"\x01\xff\x01a").is_err());
        assert!(Labels::from_canonical_bytes(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff").is_err());
    }

    #[test]
    fn deserialize_rejects_invalid_sets() {
        let err = serde_json::from_str::<Labels>(r#"{"b":"1","a":"1"}"#).unwrap_err();
        assert!(err.to_string().contains("not sorted"), "{err}");
        let err = serde_json::from_str::<Labels>(r#"{"a":"1","a":"2"}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate"), "{err}");
        assert!(serde_json::from_str::<Labels>(r#"[["a","1"]]"#).is_err());
    }
}
