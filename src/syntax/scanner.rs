//! The lexer: source bytes to [`Token`]s, the first stage of `.alloy` text → AST.
//!
//! Hand-written (no lexer generator reproduces Alloy's rules): it follows
//! Alloy's scanner byte for byte where users can see it — which characters are
//! illegal, how numbers and escapes are validated, and the automatic insertion
//! of `TERMINATOR` after a newline that follows a token able to end an
//! expression (as Go inserts semicolons). Errors are reported through a
//! callback with their byte offset and scanning goes on, so the parser can
//! report every error of a file at once.

use super::token::{Pos, Token};

const EOF: i32 = -1;
const BOM: i32 = 0xFEFF;

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
    ch: i32,
    offset: usize,
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

    /// Whether errors are waiting to be taken.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Errors found so far, in order, as (offset, message).
    pub fn take_errors(&mut self) -> Vec<(Pos, String)> {
        std::mem::take(&mut self.errors)
    }

    fn error(&mut self, offset: usize, msg: impl Into<String>) {
        self.errors.push((offset as Pos, msg.into()));
    }

    fn peek(&self) -> u8 {
        self.input.get(self.read_offset).copied().unwrap_or(0)
    }

    fn next(&mut self) {
        if self.read_offset >= self.input.len() {
            self.offset = self.input.len();
            self.ch = EOF;
            return;
        }
        self.offset = self.read_offset;
        let b = self.input[self.read_offset];
        let (r, width) = if b == 0 {
            self.error(self.offset, "illegal character NUL");
            (0, 1)
        } else if b >= 0x80 {
            match decode_rune(&self.input[self.read_offset..]) {
                Some((c, w)) => {
                    if c as i32 == BOM && self.offset > 0 {
                        self.error(self.offset, "illegal byte order mark");
                    }
                    (c as i32, w)
                }
                None => {
                    self.error(self.offset, "illegal UTF-8 encoding");
                    (0xFFFD, 1)
                }
            }
        } else {
            (b as i32, 1)
        };
        self.read_offset += width;
        self.ch = r;
    }

    fn text(&self, start: usize, end: usize) -> &'a str {
        if let Some(text) = self.text {
            // Token boundaries are character boundaries; `get` keeps even a
            // mistake from panicking.
            return text.get(start..end).unwrap_or("");
        }
        // Invalid UTF-8 was already reported by `next`; a literal spanning it
        // becomes empty rather than a panic.
        std::str::from_utf8(&self.input[start..end]).unwrap_or("")
    }

    fn skip_whitespace(&mut self) {
        // Fast path over runs of spaces and tabs (indentation, alignment).
        if self.ch == b' ' as i32 || self.ch == b'\t' as i32 {
            let mut i = self.read_offset;
            while let Some(b' ' | b'\t') = self.input.get(i) {
                i += 1;
            }
            self.offset = i - 1;
            self.read_offset = i;
            self.next();
        }
        while self.ch == b' ' as i32
            || self.ch == b'\t' as i32
            || self.ch == b'\r' as i32
            || (self.ch == b'\n' as i32 && !self.insert_term)
        {
            self.next();
        }
    }

    /// Scan the next token.
    pub fn scan(&mut self) -> Scanned<'a> {
        self.skip_whitespace();
        let pos = self.offset;
        let ch = self.ch;
        let insert_term;
        let tok;
        let mut lit: &'a str = "";

        if is_letter(ch) {
            lit = self.scan_identifier();
            tok = match lit {
                "true" | "false" => Token::Bool,
                "null" => Token::Null,
                _ => Token::Ident,
            };
            insert_term = true;
        } else if is_decimal(ch) || (ch == b'.' as i32 && is_decimal(self.peek() as i32)) {
            insert_term = true;
            let (t, l) = self.scan_number();
            tok = t;
            lit = l;
        } else {
            self.next();
            let mut keep_term = false;
            tok = match ch {
                EOF => {
                    if self.insert_term {
                        self.insert_term = false;
                        return Scanned {
                            pos: pos as Pos,
                            tok: Token::Terminator,
                            lit: "\n",
                        };
                    }
                    Token::Eof
                }
                0x0A => {
                    self.insert_term = false;
                    return Scanned {
                        pos: pos as Pos,
                        tok: Token::Terminator,
                        lit: "\n",
                    };
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
                            // Emit the terminator first; the comment is
                            // scanned again on the next call.
                            self.ch = b'/' as i32;
                            self.offset = pos;
                            self.read_offset = pos + 1;
                            self.insert_term = false;
                            return Scanned {
                                pos: pos as Pos,
                                tok: Token::Terminator,
                                lit: "\n",
                            };
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
                    if ch != BOM {
                        self.error(pos, format!("illegal character {}", go_unicode_repr(ch)));
                    }
                    keep_term = self.insert_term;
                    lit = self.text(pos, self.offset);
                    Token::Illegal
                }
            };
            insert_term = keep_term;
        }
        self.insert_term = insert_term;
        Scanned {
            pos: pos as Pos,
            tok,
            lit,
        }
    }

    fn switch2(&mut self, a: Token, b: Token) -> Token {
        if self.ch == b'=' as i32 {
            self.next();
            b
        } else {
            a
        }
    }

    fn scan_identifier(&mut self) -> &'a str {
        let start = self.offset;
        // Fast path over ASCII identifier bytes.
        let mut i = self.read_offset;
        while i < self.input.len() {
            let b = self.input[i];
            if b.is_ascii_alphanumeric() || b == b'_' {
                i += 1;
                continue;
            }
            break;
        }
        self.read_offset = i;
        if i < self.input.len() && self.input[i] < 0x80 && self.input[i] > 0 {
            self.offset = i;
            self.ch = self.input[i] as i32;
            self.read_offset = i + 1;
        } else {
            self.next();
            while is_letter(self.ch) || is_digit(self.ch) {
                self.next();
            }
        }
        self.text(start, self.offset)
    }

    fn digits(&mut self) -> usize {
        let mut n = 0;
        while is_decimal(self.ch) {
            self.next();
            n += 1;
        }
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

    fn scan_string(&mut self, until: u8, escape: bool, multiline: bool) -> &'a str {
        let start = self.offset - 1;
        loop {
            self.skip_plain_string_bytes(until);
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

    /// Fast path inside a string: skip ASCII bytes that need no attention
    /// (not the closing quote, a backslash, a newline or NUL) without the
    /// per-character bookkeeping of [`Self::next`].
    fn skip_plain_string_bytes(&mut self, until: u8) {
        if self.ch < 0x20 || self.ch >= 0x80 || self.ch == until as i32 || self.ch == b'\\' as i32 {
            return;
        }
        let mut i = self.read_offset;
        while let Some(&b) = self.input.get(i) {
            if !(0x20..0x80).contains(&b) || b == until || b == b'\\' {
                break;
            }
            i += 1;
        }
        // Make the byte before `i` the current character, then step onto `i`.
        self.offset = i - 1;
        self.ch = self.input[i - 1] as i32;
        self.read_offset = i;
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
                self.next();
            }
        } else {
            self.next();
            let mut closed = false;
            while self.ch != EOF {
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
