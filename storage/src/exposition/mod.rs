//! The scrape parser: Prometheus text format 0.0.4 and OpenMetrics 1.0 text.
//!
//! This is the hot path of `prometheus.scrape`, so it is written by hand: no
//! crate parses the exposition formats at this speed without allocating per
//! sample. The parser is zero-copy: it walks the page line by line (lines found
//! with `memchr`), validates UTF-8 once for the whole page, and yields
//! [`Entry`] values that borrow names, label names and label values from the
//! page. Nothing is allocated per sample unless a label value or HELP text
//! holds an escape sequence (then only that string is decoded into a
//! [`Cow::Owned`](std::borrow::Cow)).
//!
//! ```
//! use smelter_storage::exposition::{Entry, Format, Parser};
//!
//! let page = b"# TYPE http_requests_total counter\n\
//!              http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n";
//! let mut samples = 0;
//! for entry in Parser::new(page, Format::PrometheusText) {
//!     if let Entry::Sample { name, labels, value, timestamp_ms, .. } = entry.unwrap() {
//!         assert_eq!(name, "http_requests_total");
//!         assert_eq!(labels.get("code").as_deref(), Some("200"));
//!         assert_eq!((value, timestamp_ms), (1027.0, Some(1395066363000)));
//!         samples += 1;
//!     }
//! }
//! assert_eq!(samples, 1);
//! ```
//!
//! # Grammar and choices
//!
//! Both formats:
//! - Metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`.
//!   The quoted UTF-8 names of newer Prometheus are accepted: a quoted metric
//!   name as the first item of the label set (`{"my.metric", a="b"} 1`), quoted
//!   label names (`{"my.label"="v"}`), quoted names in `# HELP`/`# TYPE`.
//!   Quoted *names* may not contain escapes ([`ErrorKind::EscapedName`]).
//! - Label values are quoted strings with escapes `\\`, `\"`, `\n`; other
//!   backslash sequences are kept verbatim (as Prometheus does). A label value
//!   cannot span lines (Prometheus' text lexer would allow a raw newline inside
//!   quotes; we do not).
//! - A trailing comma in a label set is allowed; `{}` is an empty set.
//! - Values follow Go's `strconv.ParseFloat`: `NaN`, `Inf`, `+Inf`, `-Inf`,
//!   `Infinity`, decimals with exponents, hex floats (`0x1p3`).
//! - Invalid UTF-8 anywhere in a line is an error for that line.
//! - Errors stop the parse: after the first `Err` the iterator is fused and
//!   returns `None` (Prometheus also rejects the whole scrape on one error).
//! - Limits ([`Limits`]) cap the line length and the number of labels per set.
//!
//! Prometheus text format 0.0.4 ([`Format::PrometheusText`]):
//! - Spaces and tabs are allowed between all tokens, at line start and end,
//!   including inside label sets (`{ a = "b" , }`), as in Prometheus'
//!   `textparse`; the value may follow `}` directly. Blank lines are skipped.
//! - `# HELP name text` (escapes `\\`, `\n`), `# TYPE name
//!   counter|gauge|histogram|summary|untyped`; any other `#` line is a comment
//!   and ignored.
//! - Timestamps are optional integers in milliseconds (digits only).
//! - CRLF line ends are tolerated: one `\r` before `\n` is dropped. (HELP text
//!   therefore never ends in `\r`.) A missing final newline is accepted.
//!
//! OpenMetrics 1.0 ([`Format::OpenMetrics`]) is strict, as the spec is:
//! - Tokens are separated by exactly one space; no whitespace inside label
//!   sets, at line start or end; blank lines, `\r` and comments other than
//!   `# HELP`/`# TYPE`/`# UNIT`/`# EOF` are errors.
//! - `# EOF` must end the input (an optional `\n` may follow it); anything
//!   after it, or its absence, is an error.
//! - Types: counter, gauge, histogram, gaugehistogram, summary, info,
//!   stateset, unknown. HELP escapes are `\\`, `\n`, `\"`. A non-empty unit
//!   must be a suffix of the family name.
//! - Samples are grouped into families: after `# TYPE foo counter`, the
//!   samples `foo_total` and `foo_created` belong to `foo` (see
//!   [`MetricKind::sample_suffixes`] and [`family_name`]). A sample that does
//!   not fit the current family starts a new family of unknown type (metadata
//!   is optional); a sample named exactly like a typed family that requires a
//!   suffix (`foo` in counter family `foo`) is an error.
//! - Timestamps are float seconds, converted to milliseconds (rounded; plain
//!   decimals are converted exactly).
//! - Exemplars follow ` # ` on a line: `# {trace_id="abc"} 1.0 [ts]`, and are
//!   allowed only on a counter's `_total` and a (gauge) histogram's `_bucket`
//!   samples. The 128-character limit on exemplar labels is not enforced.

mod error;
mod labels;
mod number;
mod parser;

pub use error::{ErrorKind, ParseError};
pub use labels::{LabelsIter, LabelsRef};
pub use parser::{Limits, Parser};

use std::borrow::Cow;
use std::fmt;

/// The exposition format of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    PrometheusText,
    /// OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`).
    OpenMetrics,
}

impl Format {
    /// The format of an HTTP `Content-Type`: `application/openmetrics-text`
    /// (any version) or `text/plain`, case-insensitive, parameters ignored.
    /// `None` for anything else (Prometheus then falls back to the text
    /// format; the caller decides).
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Some(Format::OpenMetrics)
        } else if media.eq_ignore_ascii_case("text/plain") {
            Some(Format::PrometheusText)
        } else {
            None
        }
    }
}

/// A metric family type from `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// `counter`
    Counter,
    /// `gauge`
    Gauge,
    /// `histogram`
    Histogram,
    /// `gaugehistogram` (OpenMetrics only)
    GaugeHistogram,
    /// `summary`
    Summary,
    /// `info` (OpenMetrics only)
    Info,
    /// `stateset` (OpenMetrics only)
    StateSet,
    /// `untyped` (text format only)
    Untyped,
    /// `unknown` (OpenMetrics only)
    Unknown,
}

impl MetricKind {
    /// The keyword used in `# TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::GaugeHistogram => "gaugehistogram",
            MetricKind::Summary => "summary",
            MetricKind::Info => "info",
            MetricKind::StateSet => "stateset",
            MetricKind::Untyped => "untyped",
            MetricKind::Unknown => "unknown",
        }
    }

    /// Parses a `# TYPE` keyword of the given format.
    pub fn parse(s: &str, format: Format) -> Option<MetricKind> {
        let kind = match s {
            "counter" => MetricKind::Counter,
            "gauge" => MetricKind::Gauge,
            "histogram" => MetricKind::Histogram,
            "summary" => MetricKind::Summary,
            "untyped" if format == Format::PrometheusText => MetricKind::Untyped,
            "gaugehistogram" if format == Format::OpenMetrics => MetricKind::GaugeHistogram,
            "info" if format == Format::OpenMetrics => MetricKind::Info,
            "stateset" if format == Format::OpenMetrics => MetricKind::StateSet,
            "unknown" if format == Format::OpenMetrics => MetricKind::Unknown,
            _ => return None,
        };
        Some(kind)
    }

    /// The suffixes (appended to the family name) of the samples a family of
    /// this type holds in OpenMetrics; `""` is the bare family name.
    pub fn sample_suffixes(self) -> &'static [&'static str] {
        match self {
            MetricKind::Counter => &["_total", "_created"],
            MetricKind::Histogram => &["_bucket", "_count", "_sum", "_created"],
            MetricKind::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
            MetricKind::Summary => &["", "_count", "_sum", "_created"],
            MetricKind::Info => &["_info"],
            MetricKind::Gauge
            | MetricKind::StateSet
            | MetricKind::Untyped
            | MetricKind::Unknown => &[""],
        }
    }

    /// Whether an OpenMetrics sample of this type with this suffix may carry
    /// an exemplar.
    pub fn allows_exemplar(self, suffix: &str) -> bool {
        matches!(
            (self, suffix),
            (MetricKind::Counter, "_total")
                | (MetricKind::Histogram, "_bucket")
                | (MetricKind::GaugeHistogram, "_bucket")
        )
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The family name of sample `sample` in a family of type `kind`: the name
/// with the first matching suffix of [`MetricKind::sample_suffixes`] removed
/// (`foo_total` → `foo` for a counter, `foo_bucket` → `foo` for a histogram).
/// Returns `sample` unchanged if no suffix matches.
pub fn family_name(sample: &str, kind: MetricKind) -> &str {
    kind.sample_suffixes()
        .iter()
        .filter(|s| !s.is_empty())
        .find_map(|s| sample.strip_suffix(s))
        .unwrap_or(sample)
}

/// An exemplar (OpenMetrics): a traced observation attached to a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// Exemplar labels, e.g. `trace_id`.
    pub labels: LabelsRef<'a>,
    /// Observed value.
    pub value: f64,
    /// Optional timestamp, converted from seconds to milliseconds.
    pub timestamp_ms: Option<i64>,
}

/// One parsed line of interest. Comments, blank lines and `# EOF` yield
/// nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// A sample line.
    Sample {
        /// Metric name (the sample's, with any suffix such as `_total`).
        name: &'a str,
        /// Label set, borrowed.
        labels: LabelsRef<'a>,
        /// Sample value.
        value: f64,
        /// Timestamp in milliseconds since the epoch, if given.
        timestamp_ms: Option<i64>,
        /// Exemplar (OpenMetrics only).
        exemplar: Option<Exemplar<'a>>,
    },
    /// `# HELP name text`, with escapes decoded.
    Help {
        /// Metric family name.
        name: &'a str,
        /// Help text (owned only if it had escapes).
        text: Cow<'a, str>,
    },
    /// `# TYPE name kind`.
    Type {
        /// Metric family name.
        name: &'a str,
        /// Declared type.
        kind: MetricKind,
    },
    /// `# UNIT name unit` (OpenMetrics only).
    Unit {
        /// Metric family name.
        name: &'a str,
        /// Unit, possibly empty.
        unit: &'a str,
    },
}
