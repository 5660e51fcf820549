//! The scrape cache of one target: the series of its page, by raw text,
//! kept across scrapes; and with them the staleness state.
//!
//! In the data flow this sits inside [`ingest`](super::ingest), between the
//! exposition parser and the batch: for each sample line the parser's raw
//! series text (the metric name and the label text between the braces) is
//! hashed once and looked up. A hit hands back the [`Labels`] built on an
//! earlier scrape, skipping everything that builds them (collecting and
//! sorting the pairs, the target labels and `exported_` renames, the label
//! limits, the canonical encoding and its allocation); the `Labels` handed
//! on are the same reference-counted buffer every scrape, so downstream
//! stages see one allocation per series for the target's lifetime. This is
//! Prometheus' `scrapeCache`.
//!
//! The entries are also the loop's memory between scrapes, which is what
//! staleness needs (Prometheus keeps that in the same cache): each entry
//! remembers the scrape that last saw it, so after a successful scrape the
//! series not seen get a staleness marker ([`Sample::stale`]) and leave the
//! cache, a failed scrape marks every series of the previous one stale and
//! empties it, and a removed target's loop marks everything stale and drops
//! the cache with it. Series whose page timestamp was honoured are not
//! tracked for staleness unless `track_timestamps_staleness`, as in
//! Prometheus.
//!
//! Key: a 128-bit xxh3 of the raw text under a seed drawn at random per
//! cache and redrawn whenever what the labels depend on changes (target
//! labels, `honor_labels`, label limits, page format). The text itself is
//! not stored: at 100 k series that would double the cache's memory, and an
//! accidental collision of two 128-bit hashes among a target's series is
//! not a practical concern (the random seed also keeps a page from
//! constructing one on purpose). Redrawing the seed makes every key miss
//! once; the series are then found again by their label set, so staleness
//! survives a settings change and only series whose labels changed go stale.
//!
//! Invariant: no two entries hold equal label sets. Two raw texts can build
//! the same set (labels in another order, an empty value); the second one
//! takes over the entry, and within one scrape it is a duplicate (Prometheus
//! keeps the first sample of a series on a page).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use smelter_storage::exposition::Format;
use smelter_storage::{Labels, Sample, Series};

use super::arguments::Limits;
use super::ingest::PageSettings;

/// The hash of one series' raw text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key(u64, u64);

impl Key {
    /// Already a hash: the tables need only 64 bits of it.
    fn table_hash(self) -> u64 {
        self.0 ^ self.1
    }
}

/// The entry was part of the last successful scrape.
const IN_PREVIOUS: u8 = 1;
/// ... and was not tracked for staleness then.
const PREVIOUS_UNTRACKED: u8 = 2;
/// Not tracked for staleness in the scrape under way.
const UNTRACKED: u8 = 4;

#[derive(Debug)]
struct Entry {
    key: Key,
    labels: Labels,
    /// The scrape that last saw the series.
    seen: u32,
    flags: u8,
}

/// What the labels of a page depend on besides its text.
#[derive(Debug, Clone, PartialEq)]
struct Fingerprint {
    target_labels: Labels,
    honor_labels: bool,
    label_limit: u64,
    label_name_length_limit: u64,
    label_value_length_limit: u64,
    format: Format,
}

impl Fingerprint {
    fn new(settings: &PageSettings<'_>, format: Format) -> Self {
        let Limits {
            label_limit,
            label_name_length_limit,
            label_value_length_limit,
            ..
        } = *settings.limits;
        Fingerprint {
            target_labels: settings.target_labels.clone(),
            honor_labels: settings.honor_labels,
            label_limit,
            label_name_length_limit,
            label_value_length_limit,
            format,
        }
    }
}

/// What a lookup of one sample's raw series text found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The series' labels, built on an earlier scrape.
    Hit(Labels),
    /// The series was already on this page: the sample is dropped.
    Duplicate,
    /// Build the labels and [`ScrapeCache::insert`] them.
    Miss,
}

/// The handle of one sample's raw series text in a [`ScrapeCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesKey(Key);

/// One target's series across scrapes (see the module documentation).
///
/// The entries sit in one vector, found by raw-text key and by label set
/// through two tables of `u32` positions into it. Two maps owning
/// (key, entry) and (label set, key) pairs spent ≈ 150 bytes per series in
/// buckets, 15 MB at 100 k series (heaptrack, `benches/MEMORY.md`); this
/// layout spends ≈ 60.
#[derive(Debug)]
pub struct ScrapeCache {
    seed: u64,
    fingerprint: Option<Fingerprint>,
    /// The scrape under way; 0 before the first.
    scrape: u32,
    entries: Vec<Entry>,
    /// Positions in `entries`, hashed by [`Key::table_hash`].
    by_key: HashTable<u32>,
    /// Positions in `entries`, hashed by [`Labels::stable_hash`].
    by_labels: HashTable<u32>,
    /// Series of the scrape under way not in the previous one.
    added: usize,
}

impl Default for ScrapeCache {
    fn default() -> Self {
        ScrapeCache {
            seed: fresh_seed(),
            fingerprint: None,
            scrape: 0,
            entries: Vec::new(),
            by_key: HashTable::new(),
            by_labels: HashTable::new(),
            added: 0,
        }
    }
}

/// A seed no page can predict.
fn fresh_seed() -> u64 {
    RandomState::new().hash_one(0x5eed_u64)
}

/// A position in the entries vector (a target holds far fewer than 2^32
/// series: `sample_limit` and the body size cap bound a page).
fn position(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// Adds position `at` to `table`, under `hash` of its entry; `hash` also
/// rehashes the other positions when the table grows.
fn index(table: &mut HashTable<u32>, entries: &[Entry], at: u32, hash: fn(&Entry) -> u64) {
    table.insert_unique(hash(&entries[at as usize]), at, |&i| {
        hash(&entries[i as usize])
    });
}

/// Points the slot of position `from` (found under `hash`) at `to`, or
/// removes it when `to` is `None`.
fn reindex(table: &mut HashTable<u32>, hash: u64, from: u32, to: Option<u32>) {
    if let Ok(slot) = table.find_entry(hash, |&i| i == from) {
        match to {
            Some(to) => *slot.into_mut() = to,
            None => {
                slot.remove();
            }
        }
    }
}

fn key_hash(entry: &Entry) -> u64 {
    entry.key.table_hash()
}

fn labels_hash(entry: &Entry) -> u64 {
    entry.labels.stable_hash()
}

impl ScrapeCache {
    /// Starts a scrape of a page in `format` under `settings`. A change of
    /// what labels depend on redraws the seed, so every key misses once.
    pub fn begin(&mut self, settings: &PageSettings<'_>, format: Format) {
        // Wraps after 2^32 scrapes (13 centuries at 10 s); 0 stays "never".
        self.scrape = self.scrape.wrapping_add(1).max(1);
        self.added = 0;
        let fingerprint = Fingerprint::new(settings, format);
        if self.fingerprint.as_ref() != Some(&fingerprint) {
            if self.fingerprint.is_some() {
                self.seed = fresh_seed();
            }
            self.fingerprint = Some(fingerprint);
        }
    }

    /// The key of a sample's series: its metric name and the raw label text
    /// between the braces, as the parser found them.
    pub fn key(&self, name: &str, raw_labels: &str) -> SeriesKey {
        let seed = xxhash_rust::xxh3::xxh3_64_with_seed(name.as_bytes(), self.seed);
        let h = xxhash_rust::xxh3::xxh3_128_with_seed(raw_labels.as_bytes(), seed);
        SeriesKey(Key(h as u64, (h >> 64) as u64))
    }

    /// Looks a series up and, if found, marks it seen by this scrape
    /// (`untracked`: not to be tracked for staleness this time).
    pub fn lookup(&mut self, key: SeriesKey, untracked: bool) -> Lookup {
        let entries = &self.entries;
        let Some(&at) = self
            .by_key
            .find(key.0.table_hash(), |&i| entries[i as usize].key == key.0)
        else {
            return Lookup::Miss;
        };
        let entry = &mut self.entries[at as usize];
        if entry.seen == self.scrape {
            return Lookup::Duplicate;
        }
        entry.seen = self.scrape;
        entry.flags = (entry.flags & !UNTRACKED) | if untracked { UNTRACKED } else { 0 };
        Lookup::Hit(entry.labels.clone())
    }

    /// Remembers the labels built after a [`Lookup::Miss`]. `None` if the
    /// label set is already on this page under another text (a duplicate);
    /// otherwise the labels to use — the earlier buffer when the set was
    /// known under another text.
    pub fn insert(&mut self, key: SeriesKey, labels: Labels, untracked: bool) -> Option<Labels> {
        let untracked = if untracked { UNTRACKED } else { 0 };
        let Self {
            entries,
            by_key,
            by_labels,
            ..
        } = self;
        let known = by_labels
            .find(labels.stable_hash(), |&i| {
                entries[i as usize].labels == labels
            })
            .copied();
        let Some(at) = known else {
            let at = position(entries.len());
            entries.push(Entry {
                key: key.0,
                labels,
                seen: self.scrape,
                flags: untracked,
            });
            index(by_key, entries, at, key_hash);
            index(by_labels, entries, at, labels_hash);
            self.added += 1;
            return Some(entries[at as usize].labels.clone());
        };
        // The label set under its previous text: re-keyed to this one.
        let entry = &mut entries[at as usize];
        if entry.seen == self.scrape {
            return None;
        }
        reindex(by_key, key_hash(entry), at, None);
        entry.key = key.0;
        if entry.flags & IN_PREVIOUS == 0 {
            self.added += 1;
        }
        entry.seen = self.scrape;
        entry.flags = (entry.flags & !UNTRACKED) | untracked;
        let labels = entry.labels.clone();
        index(by_key, entries, at, key_hash);
        Some(labels)
    }

    /// How many series of the scrape under way (or the one just committed)
    /// were not in the previous successful one (`scrape_series_added`).
    pub fn series_added(&self) -> usize {
        self.added
    }

    /// Ends a successful scrape: the series of the previous one not seen now
    /// leave the cache, with staleness markers at `ts_ms` (sorted by labels)
    /// for those that were tracked.
    pub fn commit(&mut self, ts_ms: i64) -> Vec<Series> {
        let scrape = self.scrape;
        let mut stale = Vec::new();
        let mut i = 0;
        while i < self.entries.len() {
            let entry = &mut self.entries[i];
            if entry.seen == scrape {
                entry.flags = IN_PREVIOUS
                    | if entry.flags & UNTRACKED != 0 {
                        PREVIOUS_UNTRACKED
                    } else {
                        0
                    };
                i += 1;
                continue;
            }
            let gone = self.remove(i);
            if gone.flags & (IN_PREVIOUS | PREVIOUS_UNTRACKED) == IN_PREVIOUS {
                stale.push(gone.labels);
            }
            // The last entry moved into `i`: look at it next.
        }
        markers(stale, ts_ms)
    }

    /// Takes the entry at `at` out of the vector and both tables; the last
    /// entry moves into its place.
    fn remove(&mut self, at: usize) -> Entry {
        let Self {
            entries,
            by_key,
            by_labels,
            ..
        } = self;
        let here = position(at);
        reindex(by_key, key_hash(&entries[at]), here, None);
        reindex(by_labels, labels_hash(&entries[at]), here, None);
        let last = position(entries.len() - 1);
        let gone = entries.swap_remove(at);
        if here != last {
            let moved = &entries[at];
            reindex(by_key, key_hash(moved), last, Some(here));
            reindex(by_labels, labels_hash(moved), last, Some(here));
        }
        gone
    }

    /// Ends a failed scrape, or the target: every tracked series of the
    /// previous successful scrape gets a staleness marker and the cache is
    /// emptied.
    pub fn fail(&mut self, ts_ms: i64) -> Vec<Series> {
        self.by_key.clear();
        self.by_labels.clear();
        self.added = 0;
        let stale = self
            .entries
            .drain(..)
            .filter(|e| e.flags & (IN_PREVIOUS | PREVIOUS_UNTRACKED) == IN_PREVIOUS)
            .map(|e| e.labels)
            .collect();
        markers(stale, ts_ms)
    }

    /// Number of series cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn markers(mut stale: Vec<Labels>, ts_ms: i64) -> Vec<Series> {
    stale.sort_unstable();
    stale
        .into_iter()
        .map(|l| Series::new(l, vec![Sample::stale(ts_ms)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::prometheus::scrape::ingest::{ingest, Ingested};

    const TS: i64 = 1_700_000_000_000;

    struct Target {
        labels: Labels,
        limits: Limits,
        honor_labels: bool,
    }

    impl Target {
        fn new(job: &str) -> Self {
            Target {
                labels: Labels::from_pairs([("instance", "a:9100"), ("job", job)]),
                limits: Limits::default(),
                honor_labels: false,
            }
        }

        fn scrape(&self, cache: &mut ScrapeCache, page: &str, ts: i64) -> (Ingested, Vec<Series>) {
            let settings = PageSettings {
                target_labels: &self.labels,
                honor_labels: self.honor_labels,
                honor_timestamps: true,
                track_timestamps_staleness: false,
                limits: &self.limits,
            };
            match ingest(
                page.as_bytes(),
                Format::PrometheusText,
                &settings,
                cache,
                ts,
            ) {
                Ok(ingested) => {
                    let markers = cache.commit(ts);
                    (ingested, markers)
                }
                Err(_) => (Ingested::default(), cache.fail(ts)),
            }
        }
    }

    fn names(series: &[Series]) -> Vec<String> {
        series.iter().map(|s| s.labels.to_string()).collect()
    }

    const PAGE: &str = "a{x=\"1\"} 1\na{x=\"2\"} 2\nb 3\n";

    /// Equal label sets, and not rebuilt: the very same buffer.
    fn assert_same_buffer(a: &Labels, b: &Labels) {
        assert_eq!(a, b);
        assert_eq!(
            a.as_canonical_bytes().as_ptr(),
            b.as_canonical_bytes().as_ptr()
        );
    }

    #[test]
    fn a_hit_returns_the_same_labels_buffer() {
        let target = Target::new("node");
        let mut cache = ScrapeCache::default();
        let (first, markers) = target.scrape(&mut cache, PAGE, TS);
        assert!(markers.is_empty());
        assert_eq!(cache.len(), 3);
        let (second, markers) = target.scrape(&mut cache, PAGE, TS + 10_000);
        assert!(markers.is_empty());
        assert_eq!(second.series.len(), 3);
        assert_eq!((second.total, second.added), (3, 3));
        assert_eq!(cache.series_added(), 0);
        for (a, b) in first.series.iter().zip(&second.series) {
            assert_same_buffer(&a.labels, &b.labels);
        }
        assert_eq!(
            names(&second.series),
            [
                r#"{__name__="a", instance="a:9100", job="node", x="1"}"#,
                r#"{__name__="a", instance="a:9100", job="node", x="2"}"#,
                r#"{__name__="b", instance="a:9100", job="node"}"#,
            ]
        );
        assert_eq!(second.series[1].samples[0].value, 2.0);
        assert_eq!(second.series[1].samples[0].timestamp_ms, TS + 10_000);
    }

    #[test]
    fn a_vanished_series_gets_one_marker_and_leaves_the_cache() {
        let target = Target::new("node");
        let mut cache = ScrapeCache::default();
        target.scrape(&mut cache, PAGE, TS);
        let (ingested, markers) = target.scrape(&mut cache, "a{x=\"1\"} 1\nb 3\n", TS + 1);
        assert_eq!(ingested.series.len(), 2);
        assert_eq!(
            names(&markers),
            [r#"{__name__="a", instance="a:9100", job="node", x="2"}"#]
        );
        assert!(markers[0].samples[0].is_stale());
        assert_eq!(markers[0].samples[0].timestamp_ms, TS + 1);
        assert_eq!(cache.len(), 2);
        // Gone for good: no second marker, and coming back counts as added.
        let (_, markers) = target.scrape(&mut cache, "a{x=\"1\"} 1\nb 3\n", TS + 2);
        assert!(markers.is_empty());
        target.scrape(&mut cache, PAGE, TS + 3);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn churn_over_many_scrapes_keeps_every_sample_with_its_labels() {
        // Slots whose series are replaced every scrape (as the bench's
        // churn): every line must come out once, under its own labels.
        let target = Target::new("node");
        let mut cache = ScrapeCache::default();
        let mut generation = [0u32; 200];
        let mut state = 12345u64;
        for scrape in 0..60 {
            for _ in 0..7 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                generation[(state >> 33) as usize % 200] += 1;
            }
            let page: String = (0..200)
                .map(|i| format!("m{{i=\"{i}\",g=\"{}\"}} {i}\n", generation[i]))
                .collect();
            let (out, _) = target.scrape(&mut cache, &page, TS + scrape);
            assert_eq!(out.series.len(), 200, "scrape {scrape}");
            for s in &out.series {
                let i = s.samples[0].value as usize;
                assert_eq!(s.labels.get("i"), Some(i.to_string().as_str()));
                assert_eq!(s.labels.get("g"), Some(generation[i].to_string().as_str()));
            }
            assert_eq!(cache.len(), 200);
        }
    }

    #[test]
    fn removals_in_the_middle_keep_every_other_series_found() {
        // Removing an entry moves the last one into its place: both tables
        // must follow, or a later lookup misses (a new buffer, a wrong
        // `series_added`) or hits another series.
        let target = Target::new("node");
        let mut cache = ScrapeCache::default();
        let page = |keep: &dyn Fn(usize) -> bool| -> String {
            (0..60)
                .filter(|i| keep(*i))
                .map(|i| format!("m{{i=\"{i}\"}} {i}\n"))
                .collect()
        };
        let (first, _) = target.scrape(&mut cache, &page(&|_| true), TS);
        let (second, markers) = target.scrape(&mut cache, &page(&|i| i % 3 != 0), TS + 1);
        assert_eq!(markers.len(), 20);
        assert_eq!(cache.len(), 40);
        assert_eq!(cache.by_key.len(), 40);
        assert_eq!(cache.by_labels.len(), 40);
        let (third, markers) = target.scrape(&mut cache, &page(&|i| i % 3 != 0), TS + 2);
        assert!(markers.is_empty());
        assert_eq!(cache.series_added(), 0);
        for (b, c) in second.series.iter().zip(&third.series) {
            assert_same_buffer(&b.labels, &c.labels);
            let wanted = first
                .series
                .iter()
                .find(|s| s.labels == c.labels)
                .map(|s| s.samples[0].value);
            assert_eq!(wanted, Some(c.samples[0].value));
        }
        // The removed third comes back as new series.
        target.scrape(&mut cache, &page(&|_| true), TS + 3);
        assert_eq!(cache.series_added(), 20);
        assert_eq!(cache.len(), 60);
    }

    #[test]
    fn series_added_counts_series_new_since_the_previous_scrape() {
        let target = Target::new("node");
        let mut cache = ScrapeCache::default();
        target.scrape(&mut cache, PAGE, TS);
        let page = "a{x=\"1\"} 1\na{x=\"3\"} 2\nc 3\n";
        let pageset = PageSettings {
            target_labels: &target.labels,
            honor_labels: false,
            honor_timestamps: true,
            track_timestamps_staleness: false,
            limits: &target.limits,
        };
        let ingested = ingest(
            page.as_bytes(),
            Format::PrometheusText,
            &pageset,
            &mut cache,
            TS + 1,
        )
        .unwrap();
        assert_eq!(ingested.added, 3);
        assert_eq!(cache.series_added(), 2);
        assert_eq!(cache.commit(TS + 1).len(), 2);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn changed_settings_rebuild_the_labels_and_drop_the_old_entries() {
        let mut target = Target::new("node");
        let mut cache = ScrapeCache::default();
        let (first, _) = target.scrape(&mut cache, PAGE, TS);
        target.labels = Labels::from_pairs([("instance", "a:9100"), ("job", "other")]);
        let (second, markers) = target.scrape(&mut cache, PAGE, TS + 1);
        assert_eq!(second.series.len(), 3);
        assert!(second
            .series
            .iter()
            .all(|s| s.labels.get("job") == Some("other")));
        // The old label sets went stale and left; only the new ones remain.
        assert_eq!(names(&markers), names(&first.series));
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.by_labels.len(), 3);
        // Settings that do not change the labels keep the series (found
        // again by label set), without markers.
        target.limits.label_limit = 100;
        let (third, markers) = target.scrape(&mut cache, PAGE, TS + 2);
        assert!(markers.is_empty());
        assert_eq!(cache.series_added(), 0);
        assert_eq!(names(&third.series), names(&second.series));
        assert_eq!(cache.len(), 3);
        // A limit that the page breaks fails the scrape: everything stale.
        target.limits.label_limit = 3;
        let (_, markers) = target.scrape(&mut cache, PAGE, TS + 3);
        assert_eq!(markers.len(), 3);
        assert!(cache.is_empty());
    }

    #[test]
    fn honor_labels_is_part_of_the_key() {
        let mut target = Target::new("node");
        let mut cache = ScrapeCache::default();
        let page = "a{job=\"page\"} 1\n";
        let (first, _) = target.scrape(&mut cache, page, TS);
        assert_eq!(first.series[0].labels.get("exported_job"), Some("page"));
        target.honor_labels = true;
        let (second, markers) = target.scrape(&mut cache, page, TS + 1);
        assert_eq!(second.series[0].labels.get("job"), Some("page"));
        assert_eq!(second.series[0].labels.get("exported_job"), None);
        assert_eq!(markers.len(), 1);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_same_label_set_under_two_texts_is_one_series() {
        let target = Target::new("node");
        let mut cache = ScrapeCache::default();
        // Same set: other order, and an empty value that means "absent".
        let page = "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\na{x=\"1\",y=\"2\",z=\"\"} 3\n";
        let (first, _) = target.scrape(&mut cache, page, TS);
        assert_eq!((first.total, first.added), (3, 1));
        assert_eq!(first.series[0].samples[0].value, 1.0);
        assert_eq!(cache.len(), 1);
        // Next scrape only the second spelling: the same series, no marker.
        let (second, markers) = target.scrape(&mut cache, "a{y=\"2\",x=\"1\"} 5\n", TS + 1);
        assert!(markers.is_empty());
        assert_eq!(cache.series_added(), 0);
        assert_eq!(second.series[0].labels, first.series[0].labels);
        assert_eq!(cache.len(), 1);
        // Both again: the first spelling is now the duplicate.
        let (third, _) = target.scrape(&mut cache, page, TS + 2);
        assert_eq!((third.total, third.added), (3, 1));
        assert_eq!(third.series[0].samples[0].value, 1.0);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.by_labels.len(), 1);
    }

    #[test]
    fn a_failed_scrape_marks_the_previous_series_only_and_empties_the_cache() {
        let mut target = Target::new("node");
        let mut cache = ScrapeCache::default();
        target.scrape(&mut cache, "a 1\n", TS);
        // `b` and `c` are new on the failing page: no marker for them.
        target.limits.sample_limit = 2;
        let (_, markers) = target.scrape(&mut cache, "a 1\nb 2\nc 3\n", TS + 1);
        assert_eq!(
            names(&markers),
            [r#"{__name__="a", instance="a:9100", job="node"}"#]
        );
        assert!(cache.is_empty());
        target.limits.sample_limit = 0;
        let (ingested, markers) = target.scrape(&mut cache, "a 1\nb 2\nc 3\n", TS + 2);
        assert!(markers.is_empty());
        assert_eq!(ingested.added, 3);
        // The cache was emptied: all three are new again.
        assert_eq!(cache.series_added(), 3);
    }

    #[test]
    fn honoured_timestamps_are_not_tracked_for_staleness() {
        let target = Target::new("node");
        let mut cache = ScrapeCache::default();
        target.scrape(&mut cache, "a 1 1000\nb 2\n", TS);
        let (_, markers) = target.scrape(&mut cache, "", TS + 1);
        assert_eq!(
            names(&markers),
            [r#"{__name__="b", instance="a:9100", job="node"}"#]
        );
        assert!(cache.is_empty());
    }
}
