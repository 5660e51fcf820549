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

use std::collections::hash_map::{Entry as MapEntry, RandomState};
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

use smelter_storage::exposition::Format;
use smelter_storage::{Labels, LabelsBuildHasher, Sample, Series};

use super::arguments::Limits;
use super::ingest::PageSettings;

/// The hash of one series' raw text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key(u64, u64);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a hash: the table needs only 64 bits of it.
        state.write_u64(self.0 ^ self.1);
    }
}

/// Passes [`Key`]'s precomputed hash through.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not reached by `Key`; kept correct for any other input.
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
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
#[derive(Debug)]
pub struct ScrapeCache {
    seed: u64,
    fingerprint: Option<Fingerprint>,
    /// The scrape under way; 0 before the first.
    scrape: u32,
    by_key: HashMap<Key, Entry, BuildHasherDefault<KeyHasher>>,
    by_labels: HashMap<Labels, Key, LabelsBuildHasher>,
    /// Series of the scrape under way not in the previous one.
    added: usize,
}

impl Default for ScrapeCache {
    fn default() -> Self {
        ScrapeCache {
            seed: fresh_seed(),
            fingerprint: None,
            scrape: 0,
            by_key: HashMap::default(),
            by_labels: HashMap::default(),
            added: 0,
        }
    }
}

/// A seed no page can predict.
fn fresh_seed() -> u64 {
    RandomState::new().hash_one(0x5eed_u64)
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
        let Some(entry) = self.by_key.get_mut(&key.0) else {
            return Lookup::Miss;
        };
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
        // The entry the label set had under its previous text, if any
        // (every label set has one; a missing one starts afresh).
        let (labels, previous) = match self.by_labels.entry(labels) {
            MapEntry::Occupied(mut known) => {
                let old_key = *known.get();
                match self.by_key.remove(&old_key) {
                    Some(entry) if entry.seen == self.scrape => {
                        self.by_key.insert(old_key, entry);
                        return None;
                    }
                    previous => {
                        known.insert(key.0);
                        (known.key().clone(), previous)
                    }
                }
            }
            MapEntry::Vacant(new) => {
                let labels = new.key().clone();
                new.insert(key.0);
                (labels, None)
            }
        };
        let entry = match previous {
            Some(mut entry) => {
                if entry.flags & IN_PREVIOUS == 0 {
                    self.added += 1;
                }
                entry.seen = self.scrape;
                entry.flags = (entry.flags & !UNTRACKED) | untracked;
                entry
            }
            None => {
                self.added += 1;
                Entry {
                    labels,
                    seen: self.scrape,
                    flags: untracked,
                }
            }
        };
        let labels = entry.labels.clone();
        self.by_key.insert(key.0, entry);
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
        let mut gone = Vec::new();
        let mut stale = Vec::new();
        self.by_key.retain(|_, entry| {
            if entry.seen == scrape {
                entry.flags = IN_PREVIOUS
                    | if entry.flags & UNTRACKED != 0 {
                        PREVIOUS_UNTRACKED
                    } else {
                        0
                    };
                return true;
            }
            if entry.flags & (IN_PREVIOUS | PREVIOUS_UNTRACKED) == IN_PREVIOUS {
                stale.push(entry.labels.clone());
            }
            gone.push(entry.labels.clone());
            false
        });
        for labels in &gone {
            self.by_labels.remove(labels);
        }
        markers(stale, ts_ms)
    }

    /// Ends a failed scrape, or the target: every tracked series of the
    /// previous successful scrape gets a staleness marker and the cache is
    /// emptied.
    pub fn fail(&mut self, ts_ms: i64) -> Vec<Series> {
        let stale = self
            .by_key
            .drain()
            .filter(|(_, e)| e.flags & (IN_PREVIOUS | PREVIOUS_UNTRACKED) == IN_PREVIOUS)
            .map(|(_, e)| e.labels)
            .collect();
        self.by_labels = HashMap::default();
        self.added = 0;
        markers(stale, ts_ms)
    }

    /// Number of series cached.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
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
            assert_eq!(a.labels, b.labels);
            // Not rebuilt: the very same buffer.
            assert_eq!(
                a.labels.as_canonical_bytes().as_ptr(),
                b.labels.as_canonical_bytes().as_ptr()
            );
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
