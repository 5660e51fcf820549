//! Borrowed label sets: validated once by the parser, decoded lazily.

use std::borrow::Cow;
use std::fmt;

/// The label set of a sample or exemplar, borrowed from the scraped page.
///
/// The parser validates the set while parsing the line and keeps only the
/// raw text between the braces (minus a quoted metric name, if any), the label
/// count and whether any value holds a backslash escape. Iterating re-scans the
/// validated text without allocating; a value is [`Cow::Owned`] only if it
/// contained an escape (`\\`, `\"`, `\n`). Label names are always borrowed.
#[derive(Clone, Copy)]
pub struct LabelsRef<'a> {
    raw: &'a str,
    len: u32,
    escaped: bool,
}

impl<'a> LabelsRef<'a> {
    /// The empty label set.
    pub const EMPTY: LabelsRef<'static> = LabelsRef {
        raw: "",
        len: 0,
        escaped: false,
    };

    pub(crate) fn new(raw: &'a str, len: u32, escaped: bool) -> Self {
        LabelsRef { raw, len, escaped }
    }

    /// Number of labels.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the set has no labels.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether any label value contains an escape sequence (and so would be
    /// decoded into an owned string).
    #[inline]
    pub fn has_escapes(&self) -> bool {
        self.escaped
    }

    /// The validated source text of the labels, as it appeared between the
    /// braces (after a quoted metric name, if there was one).
    #[inline]
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Iterates `(name, value)` pairs in page order.
    #[inline]
    pub fn iter(&self) -> LabelsIter<'a> {
        LabelsIter {
            rest: self.raw,
            remaining: self.len,
        }
    }

    /// The value of the first label called `name`.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Collects the pairs (allocates; for tests and slow paths).
    pub fn to_vec(&self) -> Vec<(&'a str, Cow<'a, str>)> {
        self.iter().collect()
    }
}

impl<'a> IntoIterator for LabelsRef<'a> {
    type Item = (&'a str, Cow<'a, str>);
    type IntoIter = LabelsIter<'a>;
    fn into_iter(self) -> LabelsIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &LabelsRef<'a> {
    type Item = (&'a str, Cow<'a, str>);
    type IntoIter = LabelsIter<'a>;
    fn into_iter(self) -> LabelsIter<'a> {
        self.iter()
    }
}

/// Equality of the decoded pairs, in order (not of the raw text).
impl PartialEq for LabelsRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for LabelsRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Iterator over a [`LabelsRef`].
#[derive(Clone)]
pub struct LabelsIter<'a> {
    rest: &'a str,
    remaining: u32,
}

impl<'a> Iterator for LabelsIter<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let item = self.decode_one();
        match item {
            Some(_) => self.remaining -= 1,
            // Unreachable for text validated by the parser; stop quietly.
            None => self.remaining = 0,
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining as usize, Some(self.remaining as usize))
    }
}

impl ExactSizeIterator for LabelsIter<'_> {}

impl<'a> LabelsIter<'a> {
    fn decode_one(&mut self) -> Option<(&'a str, Cow<'a, str>)> {
        let s = self.rest;
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b',') {
            i += 1;
        }
        let name = if *b.get(i)? == b'"' {
            let end = i + 1 + memchr::memchr(b'"', &b[i + 1..])?;
            let n = s.get(i + 1..end)?;
            i = end + 1;
            n
        } else {
            let start = i;
            i = skip_class(b, i, LABEL_CHAR);
            s.get(start..i)?
        };
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'=') {
            i += 1;
        }
        if *b.get(i)? != b'"' {
            return None;
        }
        let vstart = i + 1;
        let (vend, escaped) = scan_quoted(b, vstart)?;
        let raw = s.get(vstart..vend)?;
        let value = if escaped {
            unescape(raw, true)
        } else {
            Cow::Borrowed(raw)
        };
        self.rest = s.get(vend + 1..)?;
        Some((name, value))
    }
}

/// Finds the closing quote of a quoted string whose content starts at
/// `start`. Returns its index and whether a backslash escape was seen, or
/// `None` if the string is not terminated.
#[inline]
pub(crate) fn scan_quoted(b: &[u8], start: usize) -> Option<(usize, bool)> {
    // Most label values are short: look at the first bytes directly, which is
    // cheaper than setting up a SIMD search.
    let mut i = start;
    let short_end = b.len().min(start + 24);
    while i < short_end {
        if CLASS[b[i] as usize] & QUOTE_OR_BACKSLASH != 0 {
            if b[i] == b'"' {
                return Some((i, false));
            }
            break;
        }
        i += 1;
    }
    let mut escaped = false;
    loop {
        let rel = memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        i += rel;
        if b[i] == b'"' {
            return Some((i, escaped));
        }
        escaped = true;
        i += 2;
    }
}

/// Decodes the escapes of a label value (`\\`, `\"`, `\n`), or of HELP text
/// (`\\`, `\n`, and `\"` only when `quotes`). Any other backslash sequence is
/// kept verbatim, as Prometheus does.
pub(crate) fn unescape(s: &str, quotes: bool) -> Cow<'_, str> {
    if !s.as_bytes().contains(&b'\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quotes => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Byte classes, one lookup instead of several range compares per byte.
pub(crate) const METRIC_CHAR: u8 = 1;
pub(crate) const METRIC_START: u8 = 2;
pub(crate) const LABEL_CHAR: u8 = 4;
pub(crate) const LABEL_START: u8 = 8;
pub(crate) const QUOTE_OR_BACKSLASH: u8 = 16;

pub(crate) static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic() || b == b'_';
        let digit = b.is_ascii_digit();
        let mut v = 0;
        if alpha || digit || b == b':' {
            v |= METRIC_CHAR;
        }
        if alpha || b == b':' {
            v |= METRIC_START;
        }
        if alpha || digit {
            v |= LABEL_CHAR;
        }
        if alpha {
            v |= LABEL_START;
        }
        if b == b'"' || b == b'\\' {
            v |= QUOTE_OR_BACKSLASH;
        }
        t[c] = v;
        c += 1;
    }
    t
};

/// Index of the first byte from `i` that is not of class `class`.
#[inline(always)]
pub(crate) fn skip_class(b: &[u8], mut i: usize, class: u8) -> usize {
    while i < b.len() && CLASS[b[i] as usize] & class != 0 {
        i += 1;
    }
    i
}
