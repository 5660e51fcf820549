//! Typed parse errors.

/// A parse error: the 1-based line number and what went wrong.
///
/// Displays as e.g. `line 12: expected label name, got "="`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// 1-based line number (for a missing `# EOF`, one past the last line).
    pub line: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// The kinds of [`ParseError`]. Offending text is quoted and cut to a short
/// snippet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A token other than the expected one.
    #[error("expected {expected}, got {got}")]
    Unexpected {
        /// What the grammar allows here.
        expected: &'static str,
        /// The text found (quoted snippet) or `end of line`.
        got: String,
    },
    /// The value is not a Go `ParseFloat` literal.
    #[error("invalid value {0:?}")]
    InvalidValue(String),
    /// The timestamp is not an integer (text format, ms) or a finite float
    /// (OpenMetrics, seconds) in range.
    #[error("invalid timestamp {0:?}")]
    InvalidTimestamp(String),
    /// Unknown metric type in `# TYPE`.
    #[error("invalid metric type {0:?}")]
    InvalidType(String),
    /// The line holds bytes that are not UTF-8.
    #[error("invalid UTF-8 at byte {column} of the line")]
    InvalidUtf8 {
        /// 1-based byte column of the first invalid byte.
        column: usize,
    },
    /// The line exceeds [`Limits::max_line_len`](super::Limits::max_line_len).
    #[error("line longer than {max} bytes")]
    LineTooLong {
        /// The limit.
        max: usize,
    },
    /// The label set exceeds [`Limits::max_labels`](super::Limits::max_labels).
    #[error("more than {max} labels")]
    TooManyLabels {
        /// The limit.
        max: usize,
    },
    /// A quoted string has no closing quote on its line.
    #[error("unterminated quoted string")]
    UnterminatedString,
    /// A quoted metric or label name contains a backslash escape (not
    /// supported: names are returned as borrowed `&str`).
    #[error("escape sequences in quoted names are not supported")]
    EscapedName,
    /// A `\r` in OpenMetrics, whose lines end with `\n` only.
    #[error("carriage return (OpenMetrics lines end with \\n only)")]
    CarriageReturn,
    /// An empty line in OpenMetrics.
    #[error("empty line (not allowed in OpenMetrics)")]
    EmptyLine,
    /// OpenMetrics input that does not end with `# EOF`.
    #[error("missing \"# EOF\" at the end of OpenMetrics input")]
    MissingEof,
    /// Anything after `# EOF` in OpenMetrics.
    #[error("data after \"# EOF\"")]
    DataAfterEof,
    /// `# UNIT` whose unit is not a suffix of the family name.
    #[error("unit {unit:?} is not a suffix of metric family {name:?}")]
    UnitNotSuffix {
        /// Family name.
        name: String,
        /// Declared unit.
        unit: String,
    },
    /// An OpenMetrics sample named like its typed family but without the
    /// suffix the type requires (e.g. `foo` in counter family `foo`).
    #[error("sample {name:?} does not fit its {kind} family (missing suffix)")]
    SampleNotInFamily {
        /// Sample name.
        name: String,
        /// Family type.
        kind: &'static str,
    },
    /// An exemplar on a sample other than a counter's `_total` or a
    /// histogram's `_bucket`.
    #[error(
        "exemplar not allowed on {0:?} (only on counter _total and histogram _bucket samples)"
    )]
    ExemplarNotAllowed(String),
}

/// A short quoted snippet of `line` from byte `i`, or `end of line`.
pub(crate) fn got(line: &str, i: usize) -> String {
    let rest = line.get(i..).unwrap_or("");
    let b = rest.as_bytes();
    if b.is_empty() {
        return "end of line".to_string();
    }
    let end = if matches!(b[0], b'{' | b'}' | b'=' | b',' | b'"' | b'#' | b' ' | b'\t') {
        1
    } else {
        b.iter()
            .position(|c| matches!(c, b'{' | b'}' | b'=' | b',' | b'"' | b' ' | b'\t'))
            .unwrap_or(b.len())
    };
    format!("{:?}", snippet(&rest[..end]))
}

/// `s` cut to at most 32 characters.
pub(crate) fn snippet(s: &str) -> String {
    match s.char_indices().nth(32) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
