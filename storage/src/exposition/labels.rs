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
    #[inline]
    fn decode_one(&mut self) -> Option<(&'a str, Cow<'a, str>)> {
        let s = self.rest;
        let b = s.as_bytes();
        // Fast path: `name="value"` with a bare name and no blanks, the shape
        // of nearly every label.
        let n = match find_byte(b, 0, b'=') {
            Some(eq) if all_class(&b[..eq], LABEL_CHAR) => eq,
            _ => skip_class(b, 0, LABEL_CHAR),
        };
        if n > 0 && b.get(n) == Some(&b'=') && b.get(n + 1) == Some(&b'"') {
            let vstart = n + 2;
            let (vend, escaped) = scan_quoted(b, vstart)?;
            let raw = s.get(vstart..vend)?;
            let value = if escaped {
                unescape(raw, true)
            } else {
                Cow::Borrowed(raw)
            };
            let mut next = vend + 1;
            if b.get(next) == Some(&b',') {
                next += 1;
            }
            self.rest = s.get(next..)?;
            return Some((s.get(..n)?, value));
        }
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
#[inline(always)]
pub(crate) fn scan_quoted(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    let mut i = start;
    loop {
        i = find_quote_or_backslash(b, i)?;
        if b[i] == b'"' {
            return Some((i, escaped));
        }
        escaped = true;
        i += 2;
    }
}

/// Index of the first `"` or `\\` at or after `i`. On x86_64, 16 bytes are
/// compared at a time with SSE2 (part of the x86_64 baseline, so no runtime
/// detection); the last bytes of a line, and other targets, use 8-byte SWAR.
/// Label values are short, so this beats setting up memchr's AVX2 search.
#[inline(always)]
fn find_quote_or_backslash(b: &[u8], mut i: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8,
        };
        while i + 16 <= b.len() {
            let chunk = &b[i..i + 16];
            // SAFETY: `chunk` is exactly 16 readable bytes and
            // `_mm_loadu_si128` has no alignment requirement; the SSE2
            // intrinsics are sound because SSE2 is always enabled on x86_64.
            let m = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
                let q = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let s = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                _mm_movemask_epi8(_mm_or_si128(q, s)) as u32
            };
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
            i += 16;
        }
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let swar_end = b.len().min(i.saturating_add(64));
    while i + 8 <= swar_end {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        let w = u64::from_le_bytes(w);
        let q = w ^ (ONES * b'"' as u64);
        let s = w ^ (ONES * b'\\' as u64);
        // A zero byte in q or s marks a match; the lowest flagged byte is
        // always a true match (borrows only propagate upwards).
        let m = ((q.wrapping_sub(ONES) & !q) | (s.wrapping_sub(ONES) & !s)) & HIGH;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    if i + 8 > b.len() {
        while i < b.len() {
            if CLASS[b[i] as usize] & QUOTE_OR_BACKSLASH != 0 {
                return Some(i);
            }
            i += 1;
        }
        return None;
    }
    memchr::memchr2(b'"', b'\\', b.get(i..)?).map(|r| i + r)
}

/// Index of the first `byte` at or after `i`, searched 8 bytes at a time
/// (SWAR) for the short distances of label names, then with memchr.
#[inline(always)]
pub(crate) fn find_byte(b: &[u8], mut i: usize, byte: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let swar_end = b.len().min(i.saturating_add(32));
    while i + 8 <= swar_end {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(w) ^ (ONES * byte as u64);
        let m = x.wrapping_sub(ONES) & !x & HIGH;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr::memchr(byte, b.get(i..)?).map(|r| i + r)
}

/// Whether every byte of `b` has class `class` (branch-free over the slice).
#[inline(always)]
pub(crate) fn all_class(b: &[u8], class: u8) -> bool {
    b.iter().fold(class, |acc, &c| acc & CLASS[c as usize]) != 0
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
