//! The canonical formatter: AST → `.alloy` text, as `alloy fmt` prints it.
//!
//! It sits at the end of the syntax stage of the data flow (text → tokens →
//! AST → *text again*) and is used by `smelter fmt`. It must reproduce Alloy's
//! printer byte for byte, so it follows the same three-step design:
//!
//! 1. [`walk`] visits the AST and sends the [`Printer`] tokens, position hints
//!    and abstract whitespace (blank, soft tab, newline, form feed,
//!    indent/unindent). Whitespace is held back until the next token so that
//!    comments, which live apart from the tree in [`ast::File::comments`], can
//!    be slotted in front of the token they precede in the source.
//! 2. The printer produces a byte stream in which `\v` (soft tab) and `\t`
//!    (hard tab) end alignment cells, `\f` ends an alignment section, and
//!    comments are bracketed by [`tabwriter::ESCAPE`].
//! 3. [`tabwriter::align`] lays out the cells with elastic tabstops (this is
//!    what aligns `=` signs and trailing comments), then [`tabwriter::trim`]
//!    drops trailing blanks and the escape brackets.
//!
//! Positions are tracked the way Alloy's printer tracks them: an estimate of
//! the current source offset/line/column that the walker corrects whenever a
//! node carries a position. Decisions such as "is this comment on the same
//! line as the previous token" depend on that estimate, so it is reproduced
//! exactly rather than replaced by something cleverer.

mod tabwriter;
mod walk;

use super::ast::{self, Comment, CommentGroup, LitKind};
use super::diag::Diagnostics;
use super::parser::parse_file;
use super::token::{Pos, SourceFile, Token, NO_POS};

/// Format a parsed file exactly as `alloy fmt` does, final newline included.
/// `src` must be the text `file` was parsed from (positions refer to it).
pub fn format_file(file: &ast::File, src: &[u8]) -> String {
    let lines = LineIndex::new(src);
    let mut p = Printer::new(&lines, src, &file.comments);
    walk::file(&mut p, file);
    let mut out = p.finish();
    out.push('\n');
    out
}

/// Parse and format `src`; the parse diagnostics on failure.
pub fn format_source(name: &str, src: &[u8]) -> Result<String, Diagnostics> {
    let sf = SourceFile::new(name, src.to_vec());
    match parse_file(&sf) {
        (Some(file), _) => Ok(format_file(&file, src)),
        (None, diags) => Err(diags),
    }
}

/// Line starts of the source, to turn byte offsets into lines and columns.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(src: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn position(&self, pos: Pos) -> Position {
        if pos == NO_POS {
            return Position::NONE;
        }
        let off = pos as usize;
        let line = self.starts.partition_point(|&s| s <= off).max(1);
        Position {
            offset: off as i64,
            line: line as i64,
            column: (off - self.starts[line - 1] + 1) as i64,
        }
    }
}

/// An offset/line/column triple; `line == 0` means "unknown". Signed and wide
/// because the printer's estimates are plain arithmetic on them and the final
/// flush uses a position beyond every comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    offset: i64,
    line: i64,
    column: i64,
}

impl Position {
    const NONE: Position = Position {
        offset: 0,
        line: 0,
        column: 0,
    };
    const START: Position = Position {
        offset: 0,
        line: 1,
        column: 1,
    };
    const END: Position = Position {
        offset: i64::MAX,
        line: i64::MAX,
        column: i64::MAX,
    };

    fn is_valid(self) -> bool {
        self.line > 0
    }
}

/// Abstract whitespace requested by the walker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ws {
    /// A cancelled entry.
    Ignore,
    Blank,
    /// Ends an alignment cell without a hard tab (`name\v= value`).
    VTab,
    Newline,
    /// A newline that also ends the current alignment section.
    Formfeed,
    Indent,
    Unindent,
}

impl Ws {
    fn byte(self) -> Option<u8> {
        match self {
            Ws::Blank => Some(b' '),
            Ws::VTab => Some(0x0b),
            Ws::Newline => Some(b'\n'),
            Ws::Formfeed => Some(0x0c),
            Ws::Ignore | Ws::Indent | Ws::Unindent => None,
        }
    }
}

/// What was handed to the printer last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Whitespace,
    Tok(Token),
}

/// Whitespace entries buffered before they are forcibly written.
const WS_CAPACITY: usize = 16;
/// Most newlines kept in a row (so at most one blank line).
const MAX_NEWLINES: i64 = 2;

struct Printer<'a> {
    lines: &'a LineIndex,
    /// The source text, for the few layout decisions the AST does not record
    /// (where the fragments of a dotted block name are).
    src: &'a [u8],
    output: Vec<u8>,
    indent: usize,
    last_tok: Last,
    whitespace: Vec<Ws>,

    comments: &'a [CommentGroup],
    /// Index of the next comment group to load.
    next_group: usize,
    /// The pending comment group and where it starts.
    pending: Option<(&'a CommentGroup, Position)>,

    /// Estimated position in the source.
    pos: Position,
    /// Source position just after the last text written.
    last: Position,
    /// Position in the output (the column decides indentation; the line
    /// measures how many lines a node takes in the output).
    out: Position,
    /// Output line on which each token written so far starts.
    token_lines: Vec<i64>,
}

impl<'a> Printer<'a> {
    fn new(lines: &'a LineIndex, src: &'a [u8], comments: &'a [CommentGroup]) -> Self {
        let mut p = Printer {
            lines,
            src,
            output: Vec::new(),
            indent: 0,
            last_tok: Last::Whitespace,
            whitespace: Vec::with_capacity(WS_CAPACITY),
            comments,
            next_group: 0,
            pending: None,
            pos: Position::START,
            last: Position::NONE,
            out: Position::START,
            token_lines: Vec::new(),
        };
        p.load_comment();
        p
    }

    fn position(&self, pos: Pos) -> Position {
        self.lines.position(pos)
    }

    /// Loads the next non-empty comment group, if any.
    fn load_comment(&mut self) {
        self.pending = None;
        while let Some(group) = self.comments.get(self.next_group) {
            self.next_group += 1;
            if let Some(first) = group.first() {
                self.pending = Some((group, self.lines.position(first.pos)));
                return;
            }
        }
    }

    fn comment_before(&self, next: Position) -> bool {
        matches!(self.pending, Some((_, at)) if at.offset <= next.offset)
    }

    // --- what the walker sends -------------------------------------------

    fn ws(&mut self, ws: Ws) {
        if ws == Ws::Ignore {
            return;
        }
        if self.whitespace.len() == WS_CAPACITY {
            self.write_whitespace(WS_CAPACITY);
        }
        self.whitespace.push(ws);
        self.last_tok = Last::Whitespace;
    }

    /// Corrects the position estimate to a node's real position.
    fn at(&mut self, pos: Pos) {
        let p = self.position(pos);
        if p.is_valid() {
            self.pos = p;
        }
    }

    fn ident(&mut self, name: &str) {
        self.last_tok = Last::Tok(Token::Ident);
        self.text(name);
    }

    fn literal(&mut self, kind: LitKind, raw: &str) {
        let tok = match kind {
            LitKind::Number => Token::Number,
            LitKind::Float => Token::Float,
            LitKind::String => Token::String,
            LitKind::Bool => Token::Bool,
            LitKind::Null => Token::Null,
        };
        self.last_tok = Last::Tok(tok);
        // String literals are written verbatim: escaped from the tabwriter so
        // that tabs, form feeds and line breaks inside them are neither
        // aligned, indented, trimmed nor turned into newlines.
        let next = self.pos;
        self.flush(next, false);
        self.token_lines.push(self.out.line);
        self.write_string(next, raw, tok == Token::String);
    }

    /// A mark to pass to [`Printer::output_lines`] after writing a node.
    fn mark(&self) -> usize {
        self.token_lines.len()
    }

    /// How many output lines the tokens written since `mark` span (0 when
    /// none were written). Layout decisions that depend on whether a node
    /// is on one line use this rather than the source, so that formatting
    /// the output again takes the same decisions.
    fn output_lines(&self, mark: usize) -> i64 {
        match self.token_lines.get(mark) {
            Some(&start) => self.out.line - start + 1,
            None => 0,
        }
    }

    fn token(&mut self, tok: Token) {
        let s = tok.as_str();
        // Keep tokens that would fuse when re-scanned apart (`1.`, `/*`).
        let fuses = matches!(
            (self.last_tok, s.as_bytes().first()),
            (Last::Tok(Token::Number), Some(b'.')) | (Last::Tok(Token::Div), Some(b'*'))
        );
        if fuses {
            self.whitespace.clear();
            self.whitespace.push(Ws::Blank);
        }
        self.last_tok = Last::Tok(tok);
        self.text(s);
    }

    fn text(&mut self, data: &str) {
        let next = self.pos;
        let eof = false;
        self.flush(next, eof);
        self.token_lines.push(self.out.line);
        self.write_string(next, data, false);
    }

    /// Writes trailing comments and returns the formatted text.
    fn finish(mut self) -> String {
        self.flush(Position::END, true);
        let aligned = tabwriter::align(&self.output);
        let trimmed = tabwriter::trim(&aligned);
        String::from_utf8(trimmed)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    // --- comments and whitespace ------------------------------------------

    /// Writes the comments that come before `next`, or else the pending
    /// whitespace (which is dropped at the end of the file).
    fn flush(&mut self, next: Position, eof: bool) {
        if self.comment_before(next) {
            self.inject_comments(next, eof);
        } else if !eof {
            self.write_whitespace(self.whitespace.len());
        }
    }

    fn inject_comments(&mut self, next: Position, eof: bool) {
        let mut last_comment: Option<&'a Comment> = None;
        while self.comment_before(next) {
            if let Some((group, _)) = self.pending {
                for c in group {
                    self.comment_prefix(next, c);
                    let at = self.position(c.pos);
                    self.write_string(at, &c.text, true);
                    last_comment = Some(c);
                }
            }
            self.load_comment();
        }
        if let Some(c) = last_comment {
            self.comment_suffix(next, eof, c);
        }
    }

    /// Whitespace to write before comment `c`.
    fn comment_prefix(&mut self, next: Position, c: &Comment) {
        if self.output.is_empty() {
            return;
        }
        let cpos = self.position(c.pos);
        if cpos.line == self.last.line {
            // Same line as the previous token: a trailing comment, aligned
            // with a hard tab, unless the next token follows on this line too
            // (then it is a `/* */` comment in the middle of a line).
            let sep = if cpos.line == next.line { b' ' } else { b'\t' };
            self.write_byte(sep, 1);
            return;
        }
        // On a later line: apply leading indentation changes, cancel the first
        // real whitespace entry (the comment brings its own line breaks).
        let mut count = 0;
        for i in 0..self.whitespace.len() {
            match self.whitespace[i] {
                Ws::Indent | Ws::Unindent => continue,
                Ws::Blank | Ws::VTab | Ws::Newline | Ws::Formfeed => {
                    self.whitespace[i] = Ws::Ignore;
                }
                Ws::Ignore => {}
            }
            count = i;
            break;
        }
        self.write_whitespace(count);
        let newlines = if cpos.is_valid() && self.last.is_valid() {
            cpos.line - self.last.line
        } else {
            0
        };
        if newlines > 0 {
            self.write_byte(0x0c, newlines.min(MAX_NEWLINES) as usize);
        }
    }

    /// Whitespace between the last comment written and the next token.
    fn comment_suffix(&mut self, next: Position, eof: bool, last_comment: &Comment) {
        if eof {
            return;
        }
        let end = self.position(last_comment.end_pos());
        if last_comment.text.as_bytes().get(1) == Some(&b'*') && next.line == end.line {
            self.write_byte(b' ', 1);
        }
        let newlines = next.line - self.last.line;
        let mut dropped_formfeed = false;
        for ws in self.whitespace.iter_mut() {
            match *ws {
                Ws::Indent | Ws::Unindent | Ws::Ignore => {}
                Ws::Blank | Ws::VTab | Ws::Newline => *ws = Ws::Ignore,
                Ws::Formfeed => {
                    dropped_formfeed = true;
                    *ws = Ws::Ignore;
                }
            }
        }
        self.write_whitespace(self.whitespace.len());
        if newlines > 0 {
            let ch = if dropped_formfeed { 0x0c } else { b'\n' };
            self.write_byte(ch, newlines.min(MAX_NEWLINES) as usize);
        }
    }

    // --- output -------------------------------------------------------------

    fn write_string(&mut self, pos: Position, s: &str, escaped: bool) {
        if self.out.column == 1 {
            self.write_indent();
        }
        if pos.is_valid() {
            self.pos = pos;
        }
        if escaped {
            self.output.push(tabwriter::ESCAPE);
        }
        self.output.extend_from_slice(s.as_bytes());
        if escaped {
            self.output.push(tabwriter::ESCAPE);
        }

        // Text (comments, literals) only ever breaks lines with `\n`: that is
        // what the source's line numbers count, and a form feed inside it is
        // escaped from the tabwriter, so it does not end an output line.
        let bytes = s.as_bytes();
        let len = bytes.len() as i64;
        let breaks = bytes.iter().filter(|&&b| b == b'\n').count() as i64;
        self.pos.offset += len;
        if breaks > 0 {
            let last_break = bytes.iter().rposition(|&b| b == b'\n').unwrap_or(0) as i64;
            self.pos.line += breaks;
            self.out.line += breaks;
            self.pos.column = len - last_break;
            self.out.column = len - last_break;
        } else {
            self.pos.column += len;
            self.out.column += len;
        }
        self.last = self.pos;
    }

    fn write_indent(&mut self) {
        let depth = self.indent;
        self.output.extend(std::iter::repeat_n(b'\t', depth));
        self.pos.offset += depth as i64;
        self.pos.column += depth as i64;
        self.out.column += depth as i64;
    }

    /// Writes the whitespace byte `ch` `n` times.
    fn write_byte(&mut self, ch: u8, n: usize) {
        if self.out.column == 1 {
            self.write_indent();
        }
        self.output.extend(std::iter::repeat_n(ch, n));
        let n = n as i64;
        self.pos.offset += n;
        if ch == b'\n' || ch == 0x0c {
            self.pos.line += n;
            self.out.line += n;
            self.pos.column = 1;
            self.out.column = 1;
        } else {
            self.pos.column += n;
            self.out.column += n;
        }
    }

    /// Writes the first `n` buffered whitespace entries.
    fn write_whitespace(&mut self, n: usize) {
        let n = n.min(self.whitespace.len());
        for i in 0..n {
            match self.whitespace[i] {
                Ws::Indent => self.indent += 1,
                Ws::Unindent => self.indent = self.indent.saturating_sub(1),
                ws => {
                    if let Some(b) = ws.byte() {
                        self.write_byte(b, 1);
                    }
                }
            }
        }
        self.whitespace.drain(..n);
    }
}

/// Quote `s` as Go's `%q` does (block labels and quoted object keys are
/// stored unquoted and printed re-quoted). Known gap: Go also escapes
/// printable-looking but non-graphic runes outside C0/C1 (e.g. U+00AD), which
/// are kept as they are here.
fn go_quote(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let v = c as u32;
                if v < 0x10000 {
                    let _ = write!(out, "\\u{v:04x}");
                } else {
                    let _ = write!(out, "\\U{v:08x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::format_source;

    fn fmt(src: &str) -> String {
        format_source("test.alloy", src.as_bytes()).expect("parses")
    }

    #[test]
    fn aligns_consecutive_attributes_until_a_blank_line() {
        assert_eq!(
            fmt("a = 1\nlong_name = 2\n\n\n\nb = 3\ncc = 4"),
            "a         = 1\nlong_name = 2\n\nb  = 3\ncc = 4\n"
        );
    }

    #[test]
    fn empty_blocks_and_block_spacing() {
        assert_eq!(
            fmt("a {}\nb \"x\" {\n  c = 1\n}"),
            "a { }\n\nb \"x\" {\n\tc = 1\n}\n"
        );
    }

    #[test]
    fn trailing_comments_align() {
        assert_eq!(
            fmt("a = 1 // x\nbbb = 22 // y\n"),
            "a   = 1  // x\nbbb = 22 // y\n"
        );
    }

    #[test]
    fn raw_strings_and_literals_are_verbatim() {
        assert_eq!(
            fmt("a = `x\n  y`\nb = 1.50\nc = \"\\u00e9\"\n"),
            "a = `x\n  y`\nb = 1.50\nc = \"\\u00e9\"\n"
        );
    }

    #[test]
    fn multi_line_lists_stay_multi_line() {
        // Elements stay on their lines, indented; a bracket right after the
        // last element stays there.
        assert_eq!(
            fmt("a = [1,\n2,\n]\nb = f(\n1,\n)\nc = [1,\n2]\nd = [1,2]\n"),
            "a = [1,\n\t2,\n]\nb = f(\n\t1,\n)\nc = [1,\n\t2]\nd = [1, 2]\n"
        );
    }
}
