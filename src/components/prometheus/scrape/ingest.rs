//! One scraped page to samples: parse, build each series' labels from the
//! sample's and the target's, apply the limits and timestamps.
//!
//! In the data flow this is the CPU-bound middle of a scrape, between the
//! HTTP fetch and the batch handed to the appender; the bench
//! `benches/scrape_parse.rs` measures it. The parser borrows everything from
//! the page, and the target's [`ScrapeCache`] maps each sample's raw series
//! text to the labels built for it on an earlier scrape: in the steady state
//! a sample costs parsing its line, one hash and one lookup, and its entry
//! in the batch. Only a series new to the cache has its labels built (one
//! allocation).
//!
//! As Prometheus' `scrapeLoop.append`: a sample label that collides with a
//! target label is renamed `exported_<name>` (repeatedly, while taken) unless
//! `honor_labels`, in which case the sample's value wins; a duplicate series
//! within one page keeps its first sample; exceeding `sample_limit` or a
//! label limit fails the whole scrape; a page timestamp is kept when
//! `honor_timestamps`, and such series are left out of staleness tracking
//! unless `track_timestamps_staleness`.

use smelter_storage::exposition::{Entry, Format, ParseError, Parser};
use smelter_storage::{Labels, Sample, Series};
use std::borrow::Cow;

use super::arguments::Limits;
use super::cache::{Lookup, ScrapeCache};

/// How a page becomes samples for one target.
#[derive(Debug, Clone, Copy)]
pub struct PageSettings<'a> {
    pub target_labels: &'a Labels,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    pub limits: &'a Limits,
}

/// The samples of a page.
#[derive(Debug, Default)]
pub struct Ingested {
    /// One series per distinct label set, in page order.
    pub series: Vec<Series>,
    /// Sample lines on the page (`scrape_samples_scraped`).
    pub total: usize,
    /// Samples kept (`scrape_samples_post_metric_relabeling`); below `total`
    /// only by duplicates.
    pub added: usize,
}

/// Why a page failed as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    #[error("parsing the page: {0}")]
    Parse(#[from] ParseError),
    #[error("sample limit exceeded: {total} samples, limit {limit}")]
    SampleLimit { limit: u64, total: usize },
    #[error("label limit exceeded: {count} labels on {series}, limit {limit}")]
    LabelLimit {
        limit: u64,
        count: usize,
        series: String,
    },
    #[error("label name {name:?} is longer than label_name_length_limit {limit}")]
    LabelNameLength { limit: u64, name: String },
    #[error("value of label {name:?} is longer than label_value_length_limit {limit}")]
    LabelValueLength { limit: u64, name: String },
    #[error("invalid label set for metric {metric:?}: {reason}")]
    Labels { metric: String, reason: String },
}

/// A failed page: the error and the sample lines seen (still reported as
/// `scrape_samples_scraped`).
#[derive(Debug, Clone, PartialEq)]
pub struct IngestFailure {
    pub error: IngestError,
    pub total: usize,
}

/// Turns `page` into series for a scrape at `scrape_ts_ms`, looking series
/// up in (and adding them to) the target's `cache`. The caller ends the
/// scrape in the cache: [`ScrapeCache::commit`] after `Ok` (staleness
/// markers for vanished series), [`ScrapeCache::fail`] after `Err`.
pub fn ingest(
    page: &[u8],
    format: Format,
    settings: &PageSettings<'_>,
    cache: &mut ScrapeCache,
    scrape_ts_ms: i64,
) -> Result<Ingested, IngestFailure> {
    let mut out = Ingested {
        // One series per line is the common page; reserving for what the
        // cache held last time spares the vector's regrowth copies.
        series: Vec::with_capacity(cache.len()),
        ..Ingested::default()
    };
    cache.begin(settings, format);
    let limits = settings.limits;
    let mut failure: Option<IngestError> = None;
    let target: Vec<(&str, &str)> = settings.target_labels.iter().collect();
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(16);
    let mut conflicts: Vec<usize> = Vec::new();
    for entry in Parser::new(page, format) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                return Err(IngestFailure {
                    error: e.into(),
                    total: out.total,
                })
            }
        };
        let Entry::Sample {
            name,
            labels,
            value,
            timestamp_ms,
            ..
        } = entry
        else {
            continue;
        };
        out.total += 1;
        if failure.is_some() {
            // Keep counting sample lines for the report; nothing is kept.
            continue;
        }
        if limits.sample_limit > 0 && out.total as u64 > limits.sample_limit {
            failure = Some(IngestError::SampleLimit {
                limit: limits.sample_limit,
                total: 0,
            });
            continue;
        }

        let untracked = timestamp_ms.is_some()
            && settings.honor_timestamps
            && !settings.track_timestamps_staleness;
        let ts = match timestamp_ms {
            Some(t) if settings.honor_timestamps => t,
            _ => scrape_ts_ms,
        };
        let key = cache.key(name, labels.raw());
        let series_labels = match cache.lookup(key, untracked) {
            Lookup::Hit(labels) => labels,
            // Duplicate series on one page: Prometheus keeps the first.
            Lookup::Duplicate => continue,
            Lookup::Miss => {
                let built = match build_labels(
                    name,
                    labels.iter(),
                    &target,
                    settings,
                    &mut pairs,
                    &mut conflicts,
                ) {
                    Ok(l) => l,
                    Err(e) => {
                        failure = Some(e);
                        continue;
                    }
                };
                match cache.insert(key, built, untracked) {
                    Some(labels) => labels,
                    None => continue,
                }
            }
        };
        out.added += 1;
        out.series
            .push(Series::new(series_labels, vec![Sample::new(value, ts)]));
    }
    match failure {
        None => Ok(out),
        Some(IngestError::SampleLimit { limit, .. }) => Err(IngestFailure {
            error: IngestError::SampleLimit {
                limit,
                total: out.total,
            },
            total: out.total,
        }),
        Some(error) => Err(IngestFailure {
            error,
            total: out.total,
        }),
    }
}

/// Builds the labels of a series new to the cache from the sample's pairs
/// and the target's, in reused buffers; checks the label limits.
fn build_labels<'p>(
    name: &'p str,
    page_labels: impl Iterator<Item = (&'p str, Cow<'p, str>)>,
    target: &[(&'p str, &'p str)],
    settings: &PageSettings<'_>,
    pairs: &mut Vec<(Cow<'p, str>, Cow<'p, str>)>,
    conflicts: &mut Vec<usize>,
) -> Result<Labels, IngestError> {
    pairs.clear();
    conflicts.clear();
    pairs.push((Cow::Borrowed("__name__"), Cow::Borrowed(name)));
    for (n, v) in page_labels {
        if !v.is_empty() {
            pairs.push((Cow::Borrowed(n), v));
        }
    }
    let page_len = pairs.len();
    for &(tn, tv) in target {
        match pairs[..page_len].iter().position(|(n, _)| n == tn) {
            Some(_) if settings.honor_labels => {}
            Some(i) => {
                conflicts.push(i);
                pairs.push((Cow::Borrowed(tn), Cow::Borrowed(tv)));
            }
            None => pairs.push((Cow::Borrowed(tn), Cow::Borrowed(tv))),
        }
    }
    if !conflicts.is_empty() {
        resolve_conflicts(pairs, conflicts);
    }
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    check_label_limits(settings.limits, pairs, name)?;
    Labels::try_from_sorted(pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))).map_err(|e| {
        IngestError::Labels {
            metric: name.to_string(),
            reason: e.to_string(),
        }
    })
}

/// Renames the sample labels at `conflicts` to `exported_<name>`, prefixing
/// again while the name is taken, shortest names first (Prometheus'
/// `resolveConflictingExposedLabels`).
fn resolve_conflicts(pairs: &mut [(Cow<'_, str>, Cow<'_, str>)], conflicts: &mut [usize]) {
    conflicts.sort_by_key(|&i| pairs[i].0.len());
    for &i in conflicts.iter() {
        let mut name = format!("exported_{}", pairs[i].0);
        while pairs.iter().any(|(n, _)| *n == name) {
            name = format!("exported_{name}");
        }
        pairs[i].0 = Cow::Owned(name);
    }
}

fn check_label_limits(
    limits: &Limits,
    pairs: &[(Cow<'_, str>, Cow<'_, str>)],
    metric: &str,
) -> Result<(), IngestError> {
    if limits.label_limit > 0 && pairs.len() as u64 > limits.label_limit {
        return Err(IngestError::LabelLimit {
            limit: limits.label_limit,
            count: pairs.len(),
            series: metric.to_string(),
        });
    }
    if limits.label_name_length_limit == 0 && limits.label_value_length_limit == 0 {
        return Ok(());
    }
    for (n, v) in pairs {
        if limits.label_name_length_limit > 0 && n.len() as u64 > limits.label_name_length_limit {
            return Err(IngestError::LabelNameLength {
                limit: limits.label_name_length_limit,
                name: n.to_string(),
            });
        }
        if limits.label_value_length_limit > 0 && v.len() as u64 > limits.label_value_length_limit {
            return Err(IngestError::LabelValueLength {
                limit: limits.label_value_length_limit,
                name: n.to_string(),
            });
        }
    }
    Ok(())
}
