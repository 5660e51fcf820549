//! The lexer: source bytes to [`Token`]s, the first stage of `.alloy` text → AST.
//!
//! Hand-written (no lexer generator reproduces Alloy's rules): it follows
//! Alloy's scanner byte for byte where users can see it — which characters are
//! illegal, how numbers and escapes are validated, and the automatic insertion
//! of `TERMINATOR` after a newline that follows a token able to end an
//! expression (as Go inserts semicolons). Errors are reported through a
//! callback with their byte offset and scanning goes on, so the parser can
//! report every error of a file at once.
//!
//! # Speed
//!
//! Parsing is on the start-up path of every configuration load, so the
//! scanner is byte-oriented where that is safe. It keeps Go's model of a
//! *current character* (`ch`, decoded and checked when the scanner steps onto
//! it), because that model decides *when* an error is reported — the NUL,
//! invalid UTF-8 or byte-order-mark error for a character comes out with the
//! token *before* it, as in Alloy, and the parser interleaves scanner and
//! parser errors in that order. But runs of ASCII bytes that cannot carry an
//! error (identifier characters, digits, whitespace, plain string and comment
//! text) are skipped with plain byte loops, and only the byte where a run ends
//! is turned into the current character by `Scanner::goto`, whose fast path
//! is an ASCII check and whose slow path (end of input, NUL, bytes ≥ 0x80)
//! decodes UTF-8 and reports errors exactly as Go's `next` does.

use super::token::{Pos, Token};

const EOF: i32 = -1;
const BOM: i32 = 0xFEFF;

/// Bytes that continue an ASCII identifier: letters, digits and `_`.
static IDENT_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    t
};

/// Identifier characters: ASCII letters, `_`, and Unicode letters.
///
/// Go's `unicode.IsLetter` (category L) is approximated by Rust's
/// `is_alphabetic`, which also admits a few letter-like marks.
fn is_letter(ch: i32) -> bool {
    if ch < 0x80 {
        let c = ch as u8;
        return c.is_ascii_alphabetic() || c == b'_';
    }
    char::from_u32(ch as u32).is_some_and(char::is_alphabetic)
}

fn is_decimal(ch: i32) -> bool {
    (b'0' as i32..=b'9' as i32).contains(&ch)
}

fn is_digit(ch: i32) -> bool {
    is_decimal(ch) || (ch >= 0x80 && char::from_u32(ch as u32).is_some_and(char::is_numeric))
}

fn lower(ch: i32) -> i32 {
    (b'a' - b'A') as i32 | ch
}

/// Reports whether `s` is a valid Alloy identifier (used for block labels).
pub fn is_valid_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_ascii() {
        return b
            .first()
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
            && b.iter().all(|&c| IDENT_BYTE[c as usize]);
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_letter(c as i32) => {}
        _ => return false,
    }
    chars.all(|c| is_letter(c as i32) || is_digit(c as i32))
}

/// One scanned token: its kind, start offset and literal text.
#[derive(Debug, Clone, Copy)]
pub struct Scanned<'a> {
    pub pos: Pos,
    pub tok: Token,
    pub lit: &'a str,
}

pub struct Scanner<'a> {
    input: &'a [u8],
    /// The input as text when it is valid UTF-8 (the usual case), so token
    /// literals are sliced without validating each one again.
    text: Option<&'a str>,
    /// The current character ([`EOF`] at the end); its errors, if any, have
    /// been reported.
    ch: i32,
    /// Where `ch` starts.
    offset: usize,
    /// Where the character after `ch` starts.
    read_offset: usize,
    insert_term: bool,
    errors: Vec<(Pos, String)>,
}

impl<'a> Scanner<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        let mut s = Scanner {
            input,
            text: std::str::from_utf8(input).ok(),
            ch: b' ' as i32,
            offset: 0,
            read_offset: 0,
            insert_term: false,
            errors: Vec::new(),
        };
        s.next();
        if s.ch == BOM {
            s.next();
        }
        s
    }

    /// A scanner over `input[start..]` whose positions stay offsets into
    /// `input`: for re-parsing one region of a file whose other regions are
    /// unchanged (an incremental reload). The text is not validated as a
    /// whole (that would cost the whole file): literals are checked one by
    /// one, and invalid UTF-8 is reported as by [`Scanner::new`].
    pub fn new_at(input: &'a [u8], start: usize) -> Self {
        if start == 0 {
            return Scanner::new(input);
        }
        let mut s = Scanner {
            input,
            text: None,
            ch: b' ' as i32,
            offset: start,
            read_offset: start,
            insert_term: false,
            errors: Vec::new(),
        };
        s.next();
        s
    }

    /// Whether errors are waiting to be taken.
    #[inline]
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Errors found so far, in order, as (offset, message).
    pub fn take_errors(&mut self) -> Vec<(Pos, String)> {
        std::mem::take(&mut self.errors)
    }

    #[cold]
    fn error(&mut self, offset: usize, msg: impl Into<String>) {
        self.errors.push((offset as Pos, msg.into()));
    }

    fn peek(&self) -> u8 {
        self.input.get(self.read_offset).copied().unwrap_or(0)
    }

    /// Step to the next character (Go's `next`).
    #[inline(always)]
    fn next(&mut self) {
        self.goto(self.read_offset);
    }

    /// Make the character starting at byte `i` current. `i` must be a
    /// character boundary at or after `read_offset`: every byte skipped to
    /// get there must be one that [`Self::next`] would have accepted without
    /// an error (ASCII other than NUL).
    #[inline(always)]
    fn goto(&mut self, i: usize) {
        match self.input.get(i) {
            Some(&b) if b != 0 && b < 0x80 => {
                self.offset = i;
                self.read_offset = i + 1;
                self.ch = b as i32;
            }
            _ => self.goto_slow(i),
        }
    }

    /// [`Self::goto`] for the end of input, NUL and non-ASCII bytes: decode
    /// like Go's `utf8.DecodeRune` and report what Go's scanner reports.
    #[cold]
    #[inline(never)]
    fn goto_slow(&mut self, i: usize) {
        if i >= self.input.len() {
            self.offset = self.input.len();
            self.read_offset = self.input.len();
            self.ch = EOF;
            return;
        }
        self.offset = i;
        let b = self.input[i];
        let (r, width) = if b == 0 {
            self.error(i, "illegal character NUL");
            (0, 1)
        } else {
            match decode_rune(&self.input[i..]) {
                Some((c, w)) => {
                    if c as i32 == BOM && i > 0 {
                        self.error(i, "illegal byte order mark");
                    }
                    (c as i32, w)
                }
                None => {
                    self.error(i, "illegal UTF-8 encoding");
                    (0xFFFD, 1)
                }
            }
        };
        self.read_offset = i + width;
        self.ch = r;
    }

    /// The index of the first byte at or after `i` that is not in `set`
    /// (or the end of input).
    #[inline(always)]
    fn skip_bytes(&self, i: usize, set: impl Fn(u8) -> bool) -> usize {
        match self.input.get(i..) {
            Some(rest) => i + rest.iter().position(|&b| !set(b)).unwrap_or(rest.len()),
            None => i,
        }
    }

    /// The index of the first byte at or after `i` that needs attention in
    /// a string: `until`, `\\`, a control character (NUL and newline
    /// included) or a non-ASCII byte. Eight bytes at a time: each mask below
    /// flags, in a byte's high bit, the bytes equal to `until`, equal to `\\`,
    /// below 0x20, or at or above 0x80. A borrow can only make a flag appear
    /// *above* a byte that is truly flagged, so the lowest flag is exact.
    #[inline(always)]
    fn skip_string_text(&self, mut i: usize, until: u8) -> usize {
        const LO: u64 = 0x0101_0101_0101_0101;
        const HI: u64 = 0x8080_8080_8080_8080;
        let quote = LO * until as u64;
        let backslash = LO * b'\\' as u64;
        while let Some(chunk) = self.input.get(i..i + 8) {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let x = u64::from_le_bytes(bytes);
            let q = x ^ quote;
            let b = x ^ backslash;
            let flags = ((q.wrapping_sub(LO) & !q)
                | (b.wrapping_sub(LO) & !b)
                | (x.wrapping_sub(LO * 0x20) & !x)
                | x)
                & HI;
            if flags != 0 {
                return i + (flags.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        self.skip_bytes(i, |b| (0x20..0x80).contains(&b) && b != until && b != b'\\')
    }

    #[inline(always)]
    fn text(&self, start: usize, end: usize) -> &'a str {
        if let Some(text) = self.text {
            // Token boundaries are character boundaries; `get` keeps even a
            // mistake from panicking.
            return text.get(start..end).unwrap_or("");
        }
        // Invalid UTF-8 was already reported by `goto`; a literal spanning it
        // becomes empty rather than a panic.
        std::str::from_utf8(&self.input[start..end]).unwrap_or("")
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        if !matches!(self.ch, 0x20 | 0x09 | 0x0D | 0x0A) {
            return;
        }
        let skip_newline = !self.insert_term;
        let i = self.skip_bytes(self.offset, |b| {
            b == b' ' || b == b'\t' || b == b'\r' || (b == b'\n' && skip_newline)
        });
        if i != self.offset {
            self.goto(i);
        }
    }

    /// Scan the next token. Inlined into the parser's one call site, where
    /// it runs once per token.
    #[inline(always)]
    pub fn scan(&mut self) -> Scanned<'a> {
        self.skip_whitespace();
        let pos = self.offset;
        let ch = self.ch;
        let (tok, lit, insert_term) = if (0..0x80).contains(&ch) && IDENT_BYTE[ch as usize] {
            if is_decimal(ch) {
                let (tok, lit) = self.scan_number();
                (tok, lit, true)
            } else {
                let lit = self.scan_identifier();
                let tok = match lit {
                    "true" | "false" => Token::Bool,
                    "null" => Token::Null,
                    _ => Token::Ident,
                };
                (tok, lit, true)
            }
        } else if ch == b'.' as i32 && self.peek().is_ascii_digit() {
            let (tok, lit) = self.scan_number();
            (tok, lit, true)
        } else if ch >= 0x80 && is_letter(ch) {
            let lit = self.scan_identifier();
            (Token::Ident, lit, true)
        } else {
            match self.scan_other(pos, ch) {
                Ok(t) => t,
                Err(terminator) => return terminator,
            }
        };
        self.insert_term = insert_term;
        Scanned {
            pos: pos as Pos,
            tok,
            lit,
        }
    }

    /// Everything but identifiers and numbers: operators, strings,
    /// comments, newlines, EOF and illegal characters. `Err` is a terminator
    /// to return as it is.
    #[inline(always)]
    #[allow(clippy::type_complexity)]
    fn scan_other(&mut self, pos: usize, ch: i32) -> Result<(Token, &'a str, bool), Scanned<'a>> {
        let terminator = Scanned {
            pos: pos as Pos,
            tok: Token::Terminator,
            lit: "\n",
        };
        self.next();
        let mut keep_term = false;
        let mut lit: &'a str = "";
        let tok = match ch {
            EOF => {
                if self.insert_term {
                    self.insert_term = false;
                    return Err(terminator);
                }
                Token::Eof
            }
            0x0A => {
                self.insert_term = false;
                return Err(terminator);
            }
            0x27 => {
                self.error(pos, "illegal single-quoted string; use double quotes");
                keep_term = true;
                lit = self.scan_string(b'\'', true, false);
                Token::Illegal
            }
            0x22 => {
                keep_term = true;
                lit = self.scan_string(b'"', true, false);
                Token::String
            }
            0x60 => {
                keep_term = true;
                lit = self.scan_string(b'`', false, true);
                Token::String
            }
            0x7C => {
                if self.ch != b'|' as i32 {
                    self.error(self.offset, "missing second | in ||");
                } else {
                    self.next();
                }
                Token::Or
            }
            0x26 => {
                if self.ch != b'&' as i32 {
                    self.error(self.offset, "missing second & in &&");
                } else {
                    self.next();
                }
                Token::And
            }
            0x21 => self.switch2(Token::Not, Token::Neq),
            0x3D => self.switch2(Token::Assign, Token::Eq),
            0x3C => self.switch2(Token::Lt, Token::Lte),
            0x3E => self.switch2(Token::Gt, Token::Gte),
            0x2B => Token::Add,
            0x2D => Token::Sub,
            0x2A => Token::Mul,
            0x2F => {
                if self.ch == b'/' as i32 || self.ch == b'*' as i32 {
                    if self.insert_term && self.find_line_end(pos) {
                        // Emit the terminator first; the comment is scanned
                        // again on the next call.
                        self.ch = b'/' as i32;
                        self.offset = pos;
                        self.read_offset = pos + 1;
                        self.insert_term = false;
                        return Err(terminator);
                    }
                    lit = self.scan_comment(pos);
                    Token::Comment
                } else {
                    Token::Div
                }
            }
            0x25 => Token::Mod,
            0x5E => Token::Pow,
            0x7B => Token::LCurly,
            0x7D => {
                keep_term = true;
                Token::RCurly
            }
            0x28 => Token::LParen,
            0x29 => {
                keep_term = true;
                Token::RParen
            }
            0x5B => Token::LBrack,
            0x5D => {
                keep_term = true;
                Token::RBrack
            }
            0x2C => Token::Comma,
            0x2E => Token::Dot,
            _ => {
                self.illegal(pos, ch);
                keep_term = self.insert_term;
                lit = self.text(pos, self.offset);
                Token::Illegal
            }
        };
        Ok((tok, lit, keep_term))
    }

    #[cold]
    fn illegal(&mut self, pos: usize, ch: i32) {
        if ch != BOM {
            self.error(pos, format!("illegal character {}", go_unicode_repr(ch)));
        }
    }

    #[inline(always)]
    fn switch2(&mut self, a: Token, b: Token) -> Token {
        if self.ch == b'=' as i32 {
            self.next();
            b
        } else {
            a
        }
    }

    #[inline(always)]
    fn scan_identifier(&mut self) -> &'a str {
        let start = self.offset;
        // `ch` is an identifier character: skip it and the ASCII identifier
        // bytes after it, then look at what ends the run.
        let i = self.skip_bytes(self.read_offset, |b| IDENT_BYTE[b as usize]);
        self.goto(i);
        if self.ch >= 0x80 {
            self.scan_identifier_unicode();
        }
        self.text(start, self.offset)
    }

    /// The rest of an identifier from a non-ASCII character on.
    #[cold]
    #[inline(never)]
    fn scan_identifier_unicode(&mut self) {
        while self.ch >= 0x80 && (is_letter(self.ch) || is_digit(self.ch)) {
            let i = self.skip_bytes(self.read_offset, |b| IDENT_BYTE[b as usize]);
            self.goto(i);
        }
    }

    /// Skip decimal digits from the current character; returns how many.
    #[inline]
    fn digits(&mut self) -> usize {
        if !is_decimal(self.ch) {
            return 0;
        }
        let i = self.skip_bytes(self.read_offset, |b| b.is_ascii_digit());
        let n = i - self.offset;
        self.goto(i);
        n
    }

    fn scan_number(&mut self) -> (Token, &'a str) {
        let start = self.offset;
        let mut tok = Token::Number;
        if self.ch != b'.' as i32 {
            self.digits();
        }
        if self.ch == b'.' as i32 {
            tok = Token::Float;
            self.next();
            self.digits();
        }
        if lower(self.ch) == b'e' as i32 {
            tok = Token::Float;
            self.next();
            if self.ch == b'+' as i32 || self.ch == b'-' as i32 {
                self.next();
            }
            if self.digits() == 0 {
                self.error(start, "exponent has no digits");
            }
        }
        (tok, self.text(start, self.offset))
    }

    /// Scan a string whose opening quote (at `offset - 1`) was consumed.
    #[inline(always)]
    fn scan_string(&mut self, until: u8, escape: bool, multiline: bool) -> &'a str {
        let start = self.offset - 1;
        // Fast path: plain ASCII text up to the closing quote. `ch` itself
        // was checked when the scanner stepped onto it; a non-ASCII or EOF
        // `ch` stops the run at once.
        let i = self.skip_string_text(self.offset, until);
        if self.input.get(i) == Some(&until) {
            self.goto(i + 1);
            return self.text(start, self.offset);
        }
        if i != self.offset {
            self.goto(i);
        }
        self.scan_string_slow(start, until, escape, multiline)
    }

    #[inline(never)]
    fn scan_string_slow(
        &mut self,
        start: usize,
        until: u8,
        escape: bool,
        multiline: bool,
    ) -> &'a str {
        loop {
            // Skip text that needs no attention: not the closing quote, a
            // backslash, a newline, NUL or a non-ASCII byte.
            if self.ch != until as i32 && (0x20..0x80).contains(&self.ch) && self.ch != 0x5C {
                let i = self.skip_string_text(self.read_offset, until);
                self.goto(i);
            }
            let ch = self.ch;
            if (!multiline && ch == b'\n' as i32) || ch == EOF {
                self.error(start, "string literal not terminated");
                break;
            }
            self.next();
            if ch == until as i32 {
                break;
            }
            if escape && ch == b'\\' as i32 {
                self.scan_escape();
            }
        }
        self.text(start, self.offset)
    }

    fn scan_escape(&mut self) {
        let off = self.offset;
        let (mut n, base, max): (u32, u32, u32) = match self.ch {
            c if c >= 0 && b"abfnrtv\\\"".contains(&(c as u8)) && c < 0x80 => {
                self.next();
                return;
            }
            c if (b'0' as i32..=b'7' as i32).contains(&c) => (3, 8, 255),
            0x78 => {
                self.next();
                (2, 16, 255)
            }
            0x75 => {
                self.next();
                (4, 16, 0x10FFFF)
            }
            0x55 => {
                self.next();
                (8, 16, 0x10FFFF)
            }
            _ => {
                let msg = if self.ch == EOF {
                    "escape sequence not terminated"
                } else {
                    "unknown escape sequence"
                };
                self.error(off, msg);
                return;
            }
        };
        let mut x: u32 = 0;
        while n > 0 {
            let d = digit_val(self.ch);
            if d >= base {
                let msg = if self.ch == EOF {
                    "escape sequence not terminated".to_string()
                } else {
                    format!(
                        "illegal character {} in escape sequence",
                        go_unicode_repr(self.ch)
                    )
                };
                self.error(off, msg);
                return;
            }
            x = x.wrapping_mul(base).wrapping_add(d);
            self.next();
            n -= 1;
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            self.error(off, "escape sequence is invalid Unicode code point");
        }
    }

    /// Scan a comment whose first `/` is at `start`. Like Alloy, one trailing
    /// `\r` is dropped (CRLF files); the parser strips any other `\r` when it
    /// keeps the comment's text.
    fn scan_comment(&mut self, start: usize) -> &'a str {
        if self.ch == b'/' as i32 {
            while self.ch != b'\n' as i32 && self.ch != EOF {
                if (0x01..0x80).contains(&self.ch) {
                    // Plain ASCII up to the newline (or a byte that needs
                    // decoding) in one go.
                    let i = self.skip_bytes(self.read_offset, |b| b != b'\n' && b != 0 && b < 0x80);
                    self.goto(i);
                } else {
                    self.next();
                }
            }
        } else {
            self.next();
            let mut closed = false;
            while self.ch != EOF {
                if self.ch != b'*' as i32 && (0x01..0x80).contains(&self.ch) {
                    // Plain ASCII up to a `*` (or a byte that needs decoding).
                    let i = self.skip_bytes(self.read_offset, |b| b != b'*' && b != 0 && b < 0x80);
                    self.goto(i);
                    continue;
                }
                let ch = self.ch;
                self.next();
                if ch == b'*' as i32 && self.ch == b'/' as i32 {
                    self.next();
                    closed = true;
                    break;
                }
            }
            if !closed {
                self.error(start, "block comment not terminated");
            }
        }
        let lit = self.text(start, self.offset);
        lit.strip_suffix('\r').unwrap_or(lit)
    }

    /// Reports whether only comments remain until the end of the line, so a
    /// pending terminator must be emitted before them. Restores the scanner to
    /// just after the first `/` of the comment.
    fn find_line_end(&mut self, slash: usize) -> bool {
        let result = self.find_line_end_inner();
        self.ch = b'/' as i32;
        self.offset = slash;
        self.read_offset = slash + 1;
        self.next();
        result
    }

    fn find_line_end_inner(&mut self) -> bool {
        while self.ch == b'/' as i32 || self.ch == b'*' as i32 {
            if self.ch == b'/' as i32 {
                return true;
            }
            self.next();
            while self.ch != EOF {
                let ch = self.ch;
                if ch == b'\n' as i32 {
                    return true;
                }
                self.next();
                if ch == b'*' as i32 && self.ch == b'/' as i32 {
                    self.next();
                    break;
                }
            }
            self.skip_whitespace();
            if self.ch == EOF || self.ch == b'\n' as i32 {
                return true;
            }
            if self.ch != b'/' as i32 {
                return false;
            }
            self.next();
        }
        false
    }
}

pub fn strip_cr(s: &str, block: bool) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    for (j, &ch) in b.iter().enumerate() {
        let keep_star_cr =
            block && out.len() > 2 && out.last() == Some(&b'*') && b.get(j + 1) == Some(&b'/');
        if ch != b'\r' || keep_star_cr {
            out.push(ch);
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

fn digit_val(ch: i32) -> u32 {
    if is_decimal(ch) {
        return (ch - b'0' as i32) as u32;
    }
    let l = lower(ch);
    if (b'a' as i32..=b'f' as i32).contains(&l) {
        return (l - b'a' as i32 + 10) as u32;
    }
    16
}

/// Go's `%#U` formatting of a rune: `U+0023 '#'`.
pub fn go_unicode_repr(ch: i32) -> String {
    match char::from_u32(ch.max(0) as u32) {
        Some(c) if !c.is_control() => format!("U+{:04X} '{}'", ch, c),
        _ => format!("U+{:04X}", ch.max(0)),
    }
}

/// Decode one UTF-8 scalar at the start of `b`, as Go's `utf8.DecodeRune`
/// (returns `None` where Go returns `RuneError` with width 1).
fn decode_rune(b: &[u8]) -> Option<(char, usize)> {
    let width = match b[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let chunk = b.get(..width)?;
    let s = std::str::from_utf8(chunk).ok()?;
    s.chars().next().map(|c| (c, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight-bytes-at-a-time string skip agrees with the byte loop for
    /// every byte value at every offset of a chunk and of the tail.
    #[test]
    fn skip_string_text_matches_byte_loop() {
        for until in [b'"', b'\'', b'`'] {
            for len in [1usize, 7, 8, 9, 16, 17] {
                for at in 0..len {
                    for special in 0..=255u8 {
                        let mut buf = vec![b'a'; len];
                        buf[at] = special;
                        let s = Scanner::new(&buf);
                        let fast = s.skip_string_text(0, until);
                        let slow = s.skip_bytes(0, |b| {
                            (0x20..0x80).contains(&b) && b != until && b != b'\\'
                        });
                        assert_eq!(fast, slow, "until {until} len {len} at {at} byte {special}");
                    }
                }
            }
        }
    }

    /// A few of the cases the differential check (`examples/syntax_diff.rs`)
    /// covers at scale, pinned here.
    #[test]
    fn tokens_errors_and_positions() {
        let src = "a\u{e9}b = \"x\\q\" // c\n\0 \u{feff}1e";
        let mut s = Scanner::new(src.as_bytes());
        let mut got = Vec::new();
        loop {
            let t = s.scan();
            got.push(format!("{} {} {:?}", t.pos, t.tok, t.lit));
            for (pos, msg) in s.take_errors() {
                got.push(format!("  {pos}: {msg}"));
            }
            if t.tok == Token::Eof {
                break;
            }
        }
        assert_eq!(
            got,
            [
                "0 IDENT \"aéb\"",
                "5 = \"\"",
                "7 STRING \"\\\"x\\\\q\\\"\"",
                "  10: unknown escape sequence",
                "13 TERMINATOR \"\\n\"",
                "13 COMMENT \"// c\"",
                // Go reports NUL twice: on reading it, and as a token.
                "18 ILLEGAL \"\\0\"",
                "  18: illegal character NUL",
                "  18: illegal character U+0000",
                "20 ILLEGAL \"\\u{feff}\"",
                "  20: illegal byte order mark",
                "23 FLOAT \"1e\"",
                "  23: exponent has no digits",
                "25 TERMINATOR \"\\n\"",
                "25 EOF \"\"",
            ]
        );
    }
}
