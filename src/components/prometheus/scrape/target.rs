//! From a discovered label map to a scrape target: its URL, interval,
//! timeout and final labels, as Prometheus' `PopulateLabels`.
//!
//! In the data flow this sits between the `targets` argument (fed by
//! `discovery.*`) and the scrape loops: every target of the argument becomes a
//! [`Target`], and its [`Target::hash`] is its identity — a target whose hash
//! is unchanged across argument updates keeps its loop and schedule.
//!
//! As Prometheus: `job`, `__scheme__`, `__metrics_path__`,
//! `__scrape_interval__`, `__scrape_timeout__` default from the arguments
//! unless the target sets them; `params` become `__param_<name>` (the target's
//! own `__param_*` win); `instance` defaults to `__address__`; labels starting
//! with `__` are not part of the target's labels; a timeout above the
//! interval is an error. Unlike Prometheus 2, no default port is added
//! (Prometheus 3 does not either).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::Uri;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use smelter_storage::Labels;

use super::arguments::Arguments;
use crate::syntax::decode::parse_go_duration;

const ADDRESS: &str = "__address__";
const SCHEME: &str = "__scheme__";
const METRICS_PATH: &str = "__metrics_path__";
const INTERVAL: &str = "__scrape_interval__";
const TIMEOUT: &str = "__scrape_timeout__";
const PARAM_PREFIX: &str = "__param_";

/// What Go's `url.QueryEscape` leaves as it is (space aside, which we
/// encode as `%20`).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One target to scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The labels every scraped series gets: no `__` labels, with `job` and
    /// `instance`.
    pub labels: Labels,
    /// Where to scrape.
    pub url: Uri,
    pub interval: Duration,
    pub timeout: Duration,
    /// Identity of the target (all its labels, including `__` ones, and its
    /// URL); also spreads first scrapes over the interval.
    pub hash: u64,
}

/// Builds every target of `args`, dropping (and logging) invalid ones and
/// duplicates, as Prometheus does.
pub fn targets(args: &Arguments) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::with_capacity(args.targets.len());
    for discovered in &args.targets {
        match Target::new(discovered, args) {
            Ok(t) => {
                if !out.iter().any(|o| o.hash == t.hash) {
                    out.push(t);
                }
            }
            Err(err) => {
                tracing::warn!(job = %args.job_name, %err, target = ?discovered, "dropping invalid scrape target")
            }
        }
    }
    out
}

fn duration_label(labels: &BTreeMap<String, String>, name: &str) -> Result<Duration, String> {
    let s = labels.get(name).map(String::as_str).unwrap_or_default();
    let nanos = parse_go_duration(s).map_err(|e| format!("error parsing {name} {s:?}: {e}"))?;
    if nanos <= 0 {
        return Err(format!("{name} {s:?} must be greater than 0"));
    }
    Ok(Duration::from_nanos(nanos as u64))
}

fn go_duration(d: Duration) -> String {
    // Prometheus renders model.Duration; any parseable form works here.
    format!("{}ms", d.as_millis())
}

impl Target {
    /// Applies Prometheus' label population to one discovered target.
    pub fn new(discovered: &BTreeMap<String, String>, args: &Arguments) -> Result<Self, String> {
        let mut labels: BTreeMap<String, String> = discovered
            .iter()
            .filter(|(n, _)| !n.starts_with("__meta_"))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let defaults = [
            ("job", args.job_name.clone()),
            (INTERVAL, go_duration(args.scrape_interval)),
            (TIMEOUT, go_duration(args.scrape_timeout)),
            (METRICS_PATH, args.metrics_path.clone()),
            (SCHEME, args.scheme.clone()),
        ];
        for (name, value) in defaults {
            labels.entry(name.to_string()).or_insert(value);
        }
        for (name, values) in &args.params {
            if let Some(first) = values.first() {
                labels
                    .entry(format!("{PARAM_PREFIX}{name}"))
                    .or_insert_with(|| first.clone());
            }
        }
        labels.retain(|_, v| !v.is_empty());
        let address = labels
            .get(ADDRESS)
            .cloned()
            .ok_or_else(|| "no address".to_string())?;
        if address.contains('/') {
            return Err(format!("{address:?} is not a valid hostname"));
        }
        let interval = duration_label(&labels, INTERVAL)?;
        let timeout = duration_label(&labels, TIMEOUT)?;
        if timeout > interval {
            return Err(format!(
                "scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})"
            ));
        }
        let scheme = labels.get(SCHEME).map(String::as_str).unwrap_or("http");
        match scheme {
            "http" => {}
            "https" => {
                return Err(
                    "scheme \"https\" (TLS) is not supported by smelter's prometheus.scrape yet"
                        .to_string(),
                )
            }
            other => return Err(format!("invalid scheme {other:?}")),
        }
        let path = labels
            .get(METRICS_PATH)
            .map(String::as_str)
            .unwrap_or("/metrics");
        // Query: the arguments' params, the first value replaced by the
        // target's `__param_<name>`; names sorted as Go's url.Values.Encode.
        let mut params: BTreeMap<&str, Vec<&str>> = args
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect()))
            .collect();
        for (name, value) in &labels {
            if let Some(param) = name.strip_prefix(PARAM_PREFIX) {
                let values = params.entry(param).or_default();
                match values.first_mut() {
                    Some(first) => *first = value.as_str(),
                    None => values.push(value.as_str()),
                }
            }
        }
        let mut query = String::new();
        for (name, values) in &params {
            for value in values {
                if !query.is_empty() {
                    query.push('&');
                }
                query.extend(utf8_percent_encode(name, QUERY));
                query.push('=');
                query.extend(utf8_percent_encode(value, QUERY));
            }
        }
        let url = if query.is_empty() {
            format!("{scheme}://{address}{path}")
        } else if path.contains('?') {
            format!("{scheme}://{address}{path}&{query}")
        } else {
            format!("{scheme}://{address}{path}?{query}")
        };
        let url: Uri = url
            .parse()
            .map_err(|e| format!("invalid scrape URL {url:?}: {e}"))?;

        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        labels.hash(&mut hasher);
        url.to_string().hash(&mut hasher);
        let hash = hasher.finish();

        labels.entry("instance".to_string()).or_insert(address);
        let labels = Labels::from_pairs(labels.into_iter().filter(|(n, _)| !n.starts_with("__")));
        Ok(Target {
            labels,
            url,
            interval,
            timeout,
            hash,
        })
    }

    /// How long after `now` the first scrape happens: Prometheus'
    /// `Target.offset`, which spreads targets over the interval by their
    /// hash while keeping each target's phase stable across restarts.
    pub fn offset(&self, now: SystemTime) -> Duration {
        let interval = self.interval.as_nanos().max(1);
        let now = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let base = interval - now % interval;
        let offset = u128::from(self.hash) % interval;
        let mut next = base + offset;
        if next > interval {
            next -= interval;
        }
        Duration::from_nanos(next as u64)
    }
}
