//! The line parser behind [`Parser`].

use std::iter::FusedIterator;

use super::error::{got, snippet, ErrorKind, ParseError};
use super::labels::{
    all_class, find_byte, scan_quoted, skip_class, unescape, LabelsRef, CLASS, LABEL_CHAR,
    LABEL_START, METRIC_CHAR, METRIC_START,
};
use super::number::{eight_digits, parse_timestamp_ms, parse_timestamp_seconds, parse_value};
use super::{Entry, Exemplar, Format, MetricKind};

type R<T> = Result<T, ErrorKind>;

/// Caps that bound the work and memory a hostile page can cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted line in bytes, without its line end.
    pub max_line_len: usize,
    /// Most labels in one label set (a sample's or an exemplar's), not
    /// counting a quoted metric name.
    pub max_labels: usize,
}

impl Limits {
    /// No caps.
    pub const UNLIMITED: Limits = Limits {
        max_line_len: usize::MAX,
        max_labels: usize::MAX,
    };
}

impl Default for Limits {
    /// 1 MiB lines, 1024 labels.
    fn default() -> Self {
        Limits {
            max_line_len: 1 << 20,
            max_labels: 1024,
        }
    }
}

/// Zero-copy parser of one scraped page; iterates its [`Entry`]s.
///
/// After the first `Err` the iterator returns `None`.
pub struct Parser<'a> {
    bytes: &'a [u8],
    /// The longest valid UTF-8 prefix of `bytes` (all of it for good input).
    text: &'a str,
    pos: usize,
    line: usize,
    format: Format,
    limits: Limits,
    done: bool,
    saw_eof: bool,
    family: Family<'a>,
    /// The previous sample's bare metric name: consecutive lines mostly
    /// share it, and a `memcmp` is cheaper than classifying each byte again.
    last_name: &'a str,
}

/// The OpenMetrics family the parser is in.
#[derive(Clone, Copy)]
struct Family<'a> {
    name: &'a str,
    kind: MetricKind,
    has_help: bool,
    has_type: bool,
    has_unit: bool,
    has_samples: bool,
}

impl<'a> Family<'a> {
    fn new(name: &'a str) -> Self {
        Family {
            name,
            kind: MetricKind::Unknown,
            has_help: false,
            has_type: false,
            has_unit: false,
            has_samples: false,
        }
    }
}

#[derive(Clone, Copy)]
enum Meta {
    Help,
    Type,
    Unit,
}

impl<'a> Parser<'a> {
    /// A parser with the default [`Limits`].
    pub fn new(bytes: &'a [u8], format: Format) -> Self {
        Self::with_limits(bytes, format, Limits::default())
    }

    /// A parser with explicit [`Limits`].
    pub fn with_limits(bytes: &'a [u8], format: Format, limits: Limits) -> Self {
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
        };
        Parser {
            bytes,
            text,
            pos: 0,
            line: 0,
            format,
            limits,
            done: false,
            saw_eof: false,
            family: Family::new(""),
            last_name: "",
        }
    }

    /// The format being parsed.
    pub fn format(&self) -> Format {
        self.format
    }

    /// 1-based number of the last line read (0 before the first).
    pub fn line(&self) -> usize {
        self.line
    }

    fn fail(&mut self, line: usize, kind: ErrorKind) -> Option<Result<Entry<'a>, ParseError>> {
        self.done = true;
        Some(Err(ParseError { line, kind }))
    }

    fn parse_line(&mut self, mut line: &'a str) -> R<Option<Entry<'a>>> {
        let om = self.format == Format::OpenMetrics;
        if let Some(stripped) = line.strip_suffix('\r') {
            if om {
                return Err(ErrorKind::CarriageReturn);
            }
            line = stripped;
        }
        let b = line.as_bytes();
        if om {
            match b.first() {
                None => Err(ErrorKind::EmptyLine),
                Some(b'#') => self.om_comment(line),
                Some(_) => self.sample(line, 0).map(Some),
            }
        } else {
            let i = skip_ws(b, 0);
            match b.get(i) {
                None => Ok(None),
                Some(b'#') => self.text_comment(line, i + 1),
                Some(_) => self.sample(line, i).map(Some),
            }
        }
    }

    /// Text format: `# HELP`, `# TYPE`, or an ignored comment. `i` is after `#`.
    fn text_comment(&mut self, line: &'a str, i: usize) -> R<Option<Entry<'a>>> {
        let b = line.as_bytes();
        let j = skip_ws(b, i);
        if j == i {
            return Ok(None);
        }
        let rest = &b[j..];
        let help = rest.starts_with(b"HELP");
        if !help && !rest.starts_with(b"TYPE") {
            return Ok(None);
        }
        let n = skip_ws(b, j + 4);
        if n == j + 4 {
            // `# HELPER ...` or a bare `# HELP`: a comment.
            return Ok(None);
        }
        let (name, after) = meta_name(line, n)?;
        let t = skip_ws(b, after);
        if t == after && after < b.len() {
            return Err(unexpected("whitespace after metric name", line, after));
        }
        if help {
            return Ok(Some(Entry::Help {
                name,
                text: unescape(&line[t..], false),
            }));
        }
        let kw = line[t..].trim_end_matches([' ', '\t']);
        if kw.is_empty() {
            return Err(unexpected("metric type", line, t));
        }
        let kind = MetricKind::parse(kw, Format::PrometheusText)
            .ok_or_else(|| ErrorKind::InvalidType(snippet(kw)))?;
        Ok(Some(Entry::Type { name, kind }))
    }

    /// OpenMetrics: `# HELP`, `# TYPE`, `# UNIT` or `# EOF`; nothing else.
    fn om_comment(&mut self, line: &'a str) -> R<Option<Entry<'a>>> {
        if line == "# EOF" {
            self.saw_eof = true;
            return Ok(None);
        }
        let b = line.as_bytes();
        if b.get(1) != Some(&b' ') {
            return Err(unexpected("\" \" after \"#\"", line, 1));
        }
        let which = match b.get(2..6) {
            Some(b"HELP") => Meta::Help,
            Some(b"TYPE") => Meta::Type,
            Some(b"UNIT") => Meta::Unit,
            _ => return Err(unexpected("HELP, TYPE, UNIT or EOF", line, 2)),
        };
        if b.get(6) != Some(&b' ') {
            return Err(unexpected("\" \"", line, 6));
        }
        let (name, after) = meta_name(line, 7)?;
        let rest: &'a str = match b.get(after) {
            None => "",
            Some(b' ') => &line[after + 1..],
            Some(_) => return Err(unexpected("\" \" after metric name", line, after)),
        };
        match which {
            Meta::Help => {
                self.meta(name, which);
                Ok(Some(Entry::Help {
                    name,
                    text: unescape(rest, true),
                }))
            }
            Meta::Type => {
                if rest.is_empty() {
                    return Err(unexpected("metric type", line, b.len()));
                }
                let kind = MetricKind::parse(rest, Format::OpenMetrics)
                    .ok_or_else(|| ErrorKind::InvalidType(snippet(rest)))?;
                self.meta(name, which);
                self.family.kind = kind;
                Ok(Some(Entry::Type { name, kind }))
            }
            Meta::Unit => {
                let fits = rest.is_empty()
                    || name
                        .strip_suffix(rest)
                        .is_some_and(|head| head.ends_with('_'));
                if !fits {
                    return Err(ErrorKind::UnitNotSuffix {
                        name: snippet(name),
                        unit: snippet(rest),
                    });
                }
                self.meta(name, which);
                Ok(Some(Entry::Unit { name, unit: rest }))
            }
        }
    }

    /// Records OpenMetrics metadata, starting a new family when the name
    /// changes, samples were already seen, or this metadata repeats.
    fn meta(&mut self, name: &'a str, which: Meta) {
        let f = &self.family;
        let repeated = match which {
            Meta::Help => f.has_help,
            Meta::Type => f.has_type,
            Meta::Unit => f.has_unit,
        };
        if f.name != name || f.has_samples || repeated {
            self.family = Family::new(name);
        }
        let f = &mut self.family;
        match which {
            Meta::Help => f.has_help = true,
            Meta::Type => f.has_type = true,
            Meta::Unit => f.has_unit = true,
        }
    }

    /// Places an OpenMetrics sample in its family and checks its exemplar.
    fn check_family(&mut self, name: &'a str, has_exemplar: bool) -> R<()> {
        let f = &mut self.family;
        let suffix = name
            .strip_prefix(f.name)
            .filter(|s| !f.name.is_empty() && f.kind.sample_suffixes().contains(s));
        let suffix = match suffix {
            Some(s) => s,
            None => {
                if name == f.name {
                    return Err(ErrorKind::SampleNotInFamily {
                        name: snippet(name),
                        kind: f.kind.as_str(),
                    });
                }
                *f = Family::new(name);
                ""
            }
        };
        f.has_samples = true;
        if has_exemplar && !f.kind.allows_exemplar(suffix) {
            return Err(ErrorKind::ExemplarNotAllowed(snippet(name)));
        }
        Ok(())
    }

    /// A sample line starting at `i` (first non-blank byte).
    fn sample(&mut self, line: &'a str, mut i: usize) -> R<Entry<'a>> {
        let om = self.format == Format::OpenMetrics;
        let b = line.as_bytes();
        let len = b.len();
        let name: &'a str;
        let labels: LabelsRef<'a>;
        if b[i] == b'{' {
            let (n, l, j) = self.label_set(line, i + 1, true)?;
            name = n.unwrap_or("");
            labels = l;
            i = j;
        } else {
            name = self.sample_name(line, i)?;
            i += name.len();
            let j = if om { i } else { skip_ws(b, i) };
            if b.get(j) == Some(&b'{') {
                let (_, l, k) = self.label_set(line, j + 1, false)?;
                labels = l;
                i = k;
            } else {
                if !om && j == i && j < len {
                    return Err(unexpected("whitespace or '{' after metric name", line, i));
                }
                labels = LabelsRef::EMPTY;
                i = j;
            }
        }
        if om {
            self.om_rest(line, i, name, labels)
        } else {
            text_rest(line, i, name, labels)
        }
    }

    /// The bare metric name of a sample line starting at `i`.
    #[inline]
    fn sample_name(&mut self, line: &'a str, i: usize) -> R<&'a str> {
        let b = line.as_bytes();
        let last = self.last_name.as_bytes();
        if !last.is_empty()
            && b.len() > i + last.len()
            && &b[i..i + last.len()] == last
            && CLASS[b[i + last.len()] as usize] & METRIC_CHAR == 0
        {
            return Ok(&line[i..i + last.len()]);
        }
        if !is_metric_start(b[i]) {
            return Err(unexpected("metric name", line, i));
        }
        let end = skip_class(b, i + 1, METRIC_CHAR);
        let name = &line[i..end];
        self.last_name = name;
        Ok(name)
    }

    /// OpenMetrics: ` value[ timestamp][ # exemplar]` from `i`.
    fn om_rest(
        &mut self,
        line: &'a str,
        mut i: usize,
        name: &'a str,
        labels: LabelsRef<'a>,
    ) -> R<Entry<'a>> {
        let b = line.as_bytes();
        let len = b.len();
        if b.get(i) != Some(&b' ') {
            return Err(unexpected("\" \" before value", line, i));
        }
        i += 1;
        let (value, j) = om_value(line, i)?;
        i = j;
        let mut timestamp_ms = None;
        let mut exemplar = None;
        if i < len {
            i += 1; // the space that ended the value
            if b.get(i) != Some(&b'#') {
                let (ts, j) = om_timestamp(line, i)?;
                timestamp_ms = Some(ts);
                i = j;
                if i < len {
                    i += 1;
                    if b.get(i) != Some(&b'#') {
                        return Err(unexpected("\"#\" before exemplar", line, i));
                    }
                }
            }
            if i < len {
                exemplar = Some(self.exemplar(line, i)?);
            }
        }
        self.check_family(name, exemplar.is_some())?;
        Ok(Entry::Sample {
            name,
            labels,
            value,
            timestamp_ms,
            exemplar,
        })
    }

    /// OpenMetrics exemplar `# {labels} value[ timestamp]`; `i` is at `#`.
    fn exemplar(&self, line: &'a str, i: usize) -> R<Exemplar<'a>> {
        let b = line.as_bytes();
        if b.get(i + 1) != Some(&b' ') {
            return Err(unexpected("\" \" after \"#\"", line, i + 1));
        }
        if b.get(i + 2) != Some(&b'{') {
            return Err(unexpected("exemplar label set", line, i + 2));
        }
        let (_, labels, mut i) = self.label_set(line, i + 3, false)?;
        if b.get(i) != Some(&b' ') {
            return Err(unexpected("\" \" before exemplar value", line, i));
        }
        let (value, j) = om_value(line, i + 1)?;
        i = j;
        let mut timestamp_ms = None;
        if i < b.len() {
            let (ts, j) = om_timestamp(line, i + 1)?;
            if j < b.len() {
                return Err(unexpected("end of line", line, j));
            }
            timestamp_ms = Some(ts);
        }
        Ok(Exemplar {
            labels,
            value,
            timestamp_ms,
        })
    }

    /// A label set; `i` is just after `{`. With `want_name`, the set starts
    /// with a quoted metric name. Returns the name, the labels and the index
    /// after `}`.
    fn label_set(
        &self,
        line: &'a str,
        mut i: usize,
        want_name: bool,
    ) -> R<(Option<&'a str>, LabelsRef<'a>, usize)> {
        let b = line.as_bytes();
        let ws = self.format == Format::PrometheusText;
        let mut name = None;
        if ws {
            i = skip_ws(b, i);
        }
        if want_name {
            if b.get(i) != Some(&b'"') {
                return Err(unexpected("quoted metric name", line, i));
            }
            let (n, mut j) = quoted_name(line, i)?;
            if ws {
                j = skip_ws(b, j);
            }
            match b.get(j) {
                Some(b',') => j += 1,
                Some(b'}') => {}
                _ => return Err(unexpected("',' or '}' after metric name", line, j)),
            }
            name = Some(n);
            i = j;
        }
        let raw_start = i;
        let mut count: usize = 0;
        let mut escaped = false;
        loop {
            if ws {
                i = skip_ws(b, i);
            }
            let c = match b.get(i) {
                Some(&c) => c,
                None => return Err(unexpected("label name or '}'", line, i)),
            };
            if c == b'}' {
                break;
            }
            if c == b'"' {
                i = quoted_name(line, i)?.1;
            } else if CLASS[c as usize] & LABEL_START != 0 {
                // Fast path: the name runs up to the next `=` (found 8 bytes
                // at a time) and is all label characters.
                match find_byte(b, i + 1, b'=') {
                    Some(eq) if all_class(&b[i + 1..eq], LABEL_CHAR) => i = eq,
                    _ => i = skip_class(b, i + 1, LABEL_CHAR),
                }
            } else {
                return Err(unexpected("label name", line, i));
            }
            count += 1;
            if count > self.limits.max_labels {
                return Err(ErrorKind::TooManyLabels {
                    max: self.limits.max_labels,
                });
            }
            if ws {
                i = skip_ws(b, i);
            }
            if b.get(i) != Some(&b'=') {
                return Err(unexpected("'='", line, i));
            }
            i += 1;
            if ws {
                i = skip_ws(b, i);
            }
            if b.get(i) != Some(&b'"') {
                return Err(unexpected("label value", line, i));
            }
            let (end, esc) = scan_quoted(b, i + 1).ok_or(ErrorKind::UnterminatedString)?;
            escaped |= esc;
            i = end + 1;
            if ws {
                i = skip_ws(b, i);
            }
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => break,
                _ => return Err(unexpected("',' or '}'", line, i)),
            }
        }
        let raw = &line[raw_start..i];
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        Ok((name, LabelsRef::new(raw, count, escaped), i + 1))
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let start = self.pos;
            if start >= self.bytes.len() {
                self.done = true;
                if self.format == Format::OpenMetrics && !self.saw_eof {
                    return self.fail(self.line + 1, ErrorKind::MissingEof);
                }
                return None;
            }
            let (end, next) = match memchr::memchr(b'\n', &self.bytes[start..]) {
                Some(n) => (start + n, start + n + 1),
                None => (self.bytes.len(), self.bytes.len()),
            };
            self.pos = next;
            self.line += 1;
            let line_no = self.line;
            if self.saw_eof {
                return self.fail(line_no, ErrorKind::DataAfterEof);
            }
            if end - start > self.limits.max_line_len {
                let max = self.limits.max_line_len;
                return self.fail(line_no, ErrorKind::LineTooLong { max });
            }
            if end > self.text.len() {
                let column = self.text.len() - start + 1;
                return self.fail(line_no, ErrorKind::InvalidUtf8 { column });
            }
            let line = &self.text[start..end];
            match self.parse_line(line) {
                Ok(Some(entry)) => return Some(Ok(entry)),
                Ok(None) => continue,
                Err(kind) => return self.fail(line_no, kind),
            }
        }
    }
}

impl FusedIterator for Parser<'_> {}

/// Text format: `[ ]value[ timestamp][ ]` from `i`.
fn text_rest<'a>(
    line: &'a str,
    mut i: usize,
    name: &'a str,
    labels: LabelsRef<'a>,
) -> R<Entry<'a>> {
    let b = line.as_bytes();
    let len = b.len();
    i = skip_ws(b, i);
    let vs = i;
    // Fast path: a plain integer value is parsed while it is scanned.
    let (mut acc, mut j) = (0u64, i);
    while j < len && j - vs < 15 && b[j].is_ascii_digit() {
        acc = acc * 10 + (b[j] - b'0') as u64;
        j += 1;
    }
    let value = if j > vs && (j == len || is_ws(b[j])) {
        i = j;
        acc as f64
    } else {
        while i < len && !is_ws(b[i]) {
            i += 1;
        }
        if vs == i {
            return Err(unexpected("value", line, i));
        }
        let v = &line[vs..i];
        parse_value(v).ok_or_else(|| ErrorKind::InvalidValue(snippet(v)))?
    };
    if i == len {
        return Ok(Entry::Sample {
            name,
            labels,
            value,
            timestamp_ms: None,
            exemplar: None,
        });
    }
    i = skip_ws(b, i);
    let mut timestamp_ms = None;
    if i < len {
        let ts = i;
        // Fast path: up to 18 digits cannot overflow an i64; 8 at a time
        // while they last.
        let mut acc: i64 = 0;
        while i + 8 <= len && i - ts <= 10 {
            match eight_digits(&b[i..]) {
                Some(v) => {
                    acc = acc * 100_000_000 + v as i64;
                    i += 8;
                }
                None => break,
            }
        }
        while i < len && i - ts < 18 && b[i].is_ascii_digit() {
            acc = acc * 10 + (b[i] - b'0') as i64;
            i += 1;
        }
        if i > ts && (i == len || is_ws(b[i])) {
            timestamp_ms = Some(acc);
        } else {
            while i < len && !is_ws(b[i]) {
                i += 1;
            }
            let t = &line[ts..i];
            timestamp_ms =
                Some(parse_timestamp_ms(t).ok_or_else(|| ErrorKind::InvalidTimestamp(snippet(t)))?);
        }
        i = skip_ws(b, i);
        if i < len {
            return Err(unexpected("end of line", line, i));
        }
    }
    Ok(Entry::Sample {
        name,
        labels,
        value,
        timestamp_ms,
        exemplar: None,
    })
}

/// OpenMetrics value token from `i` up to a space or the end.
fn om_value(line: &str, i: usize) -> R<(f64, usize)> {
    let b = line.as_bytes();
    let end = token_end(b, i);
    if end == i {
        return Err(unexpected("value", line, i));
    }
    let v = &line[i..end];
    let value = parse_value(v).ok_or_else(|| ErrorKind::InvalidValue(snippet(v)))?;
    Ok((value, end))
}

/// OpenMetrics timestamp token (seconds) from `i`.
fn om_timestamp(line: &str, i: usize) -> R<(i64, usize)> {
    let b = line.as_bytes();
    let end = token_end(b, i);
    if end == i {
        return Err(unexpected("timestamp", line, i));
    }
    let t = &line[i..end];
    let ts = parse_timestamp_seconds(t).ok_or_else(|| ErrorKind::InvalidTimestamp(snippet(t)))?;
    Ok((ts, end))
}

#[inline]
fn token_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b' ' {
        i += 1;
    }
    i
}

/// A metric name in `# HELP`/`# TYPE`/`# UNIT`: bare or quoted.
fn meta_name(line: &str, i: usize) -> R<(&str, usize)> {
    let b = line.as_bytes();
    match b.get(i) {
        Some(b'"') => quoted_name(line, i),
        Some(&c) if is_metric_start(c) => {
            let j = skip_class(b, i + 1, METRIC_CHAR);
            Ok((&line[i..j], j))
        }
        _ => Err(unexpected("metric name", line, i)),
    }
}

/// A quoted, non-empty name without escapes; `i` is at the opening quote.
fn quoted_name(line: &str, i: usize) -> R<(&str, usize)> {
    match scan_quoted(line.as_bytes(), i + 1) {
        None => Err(ErrorKind::UnterminatedString),
        Some((_, true)) => Err(ErrorKind::EscapedName),
        Some((end, false)) if end == i + 1 => Err(unexpected("non-empty name", line, i)),
        Some((end, false)) => Ok((&line[i + 1..end], end + 1)),
    }
}

fn unexpected(expected: &'static str, line: &str, i: usize) -> ErrorKind {
    ErrorKind::Unexpected {
        expected,
        got: got(line, i),
    }
}

#[inline]
fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

#[inline]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i
}

#[inline]
fn is_metric_start(c: u8) -> bool {
    CLASS[c as usize] & METRIC_START != 0
}
