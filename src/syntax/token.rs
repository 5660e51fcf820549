//! Tokens of the Alloy syntax and the positions they carry.
//!
//! The scanner turns source bytes into these tokens; the parser reads them;
//! diagnostics turn a byte [`Pos`] back into `file:line:col` through a
//! [`SourceFile`]. Names and precedences follow Alloy's `syntax/token`, because
//! error messages quote them (`expected TERMINATOR, got IDENT`).

use std::fmt;
use std::sync::Arc;

/// A byte offset into one source file. [`NO_POS`] marks "no position".
pub type Pos = u32;

/// The position of nothing (Alloy's `token.NoPos`).
pub const NO_POS: Pos = u32::MAX;

/// A lexical token kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Token {
    Illegal,
    Eof,
    Comment,
    Ident,
    Number,
    Float,
    String,
    Bool,
    Null,
    Or,
    And,
    Not,
    Assign,
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    LCurly,
    RCurly,
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    Dot,
    Terminator,
}

impl Token {
    /// The spelling Alloy uses for the token in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Token::Illegal => "ILLEGAL",
            Token::Eof => "EOF",
            Token::Comment => "COMMENT",
            Token::Ident => "IDENT",
            Token::Number => "NUMBER",
            Token::Float => "FLOAT",
            Token::String => "STRING",
            Token::Bool => "BOOL",
            Token::Null => "NULL",
            Token::Or => "||",
            Token::And => "&&",
            Token::Not => "!",
            Token::Assign => "=",
            Token::Eq => "==",
            Token::Neq => "!=",
            Token::Lt => "<",
            Token::Lte => "<=",
            Token::Gt => ">",
            Token::Gte => ">=",
            Token::Add => "+",
            Token::Sub => "-",
            Token::Mul => "*",
            Token::Div => "/",
            Token::Mod => "%",
            Token::Pow => "^",
            Token::LCurly => "{",
            Token::RCurly => "}",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBrack => "[",
            Token::RBrack => "]",
            Token::Comma => ",",
            Token::Dot => ".",
            Token::Terminator => "TERMINATOR",
        }
    }

    /// Binary operator precedence (higher binds tighter); 0 for non-operators.
    pub fn binary_precedence(self) -> u8 {
        match self {
            Token::Or => 1,
            Token::And => 2,
            Token::Eq | Token::Neq | Token::Lt | Token::Lte | Token::Gt | Token::Gte => 3,
            Token::Add | Token::Sub => 4,
            Token::Mul | Token::Div | Token::Mod => 5,
            Token::Pow => 6,
            _ => 0,
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resolved position: `file:line:col`, 1-based, column counted in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    pub filename: Arc<str>,
    pub offset: u32,
    /// 1-based line; 0 means "no position".
    pub line: u32,
    /// 1-based byte column.
    pub column: u32,
}

impl Position {
    pub fn is_valid(&self) -> bool {
        self.line > 0
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_valid(), self.filename.is_empty()) {
            (false, _) => f.write_str("-"),
            (true, true) => write!(f, "{}:{}", self.line, self.column),
            (true, false) => write!(f, "{}:{}:{}", self.filename, self.line, self.column),
        }
    }
}

/// A source file: its name, bytes and line starts, to resolve offsets.
///
/// Cheap to clone (every part is shared). The bytes are a [`bytes::Bytes`],
/// so a file read into a `Vec` becomes a `SourceFile` without a copy, and
/// the line table is built on the first [`SourceFile::position`] call only:
/// an incremental reload of a 13 MB file that parses one changed block
/// without a diagnostic never needs it.
///
/// A *fragment* ([`SourceFile::fragment`]) holds only a part of a file (one
/// block), with offsets still counted in the whole file: what a long-lived
/// syntax tree keeps instead of the whole text of the version it was parsed
/// from.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: Arc<str>,
    src: bytes::Bytes,
    /// Offset of `src[0]` in the whole file: 0 except for a fragment.
    base: Pos,
    /// Line starts (offsets in `src`), built once on demand and shared by
    /// every clone: every graph node keeps a handle on its file.
    line_starts: Arc<std::sync::OnceLock<Box<[u32]>>>,
}

impl SourceFile {
    pub fn new(name: impl Into<Arc<str>>, src: impl Into<bytes::Bytes>) -> Self {
        SourceFile {
            name: name.into(),
            src: src.into(),
            base: 0,
            line_starts: Arc::default(),
        }
    }

    /// The bytes `start..end` (whole-file offsets) of this file as a file of
    /// their own that keeps the whole-file offsets: [`SourceFile::text`] and
    /// the `offset` of [`SourceFile::position`] are those of the whole file,
    /// line and column are counted from `start` (the owner maps them back,
    /// see the runtime's engine). The bytes are copied, so the fragment does
    /// not keep the whole text alive. `None` if the range is not in the file.
    pub fn fragment(&self, start: Pos, end: Pos) -> Option<SourceFile> {
        let (s, e) = (start.checked_sub(self.base)?, end.checked_sub(self.base)?);
        let bytes = self.src.get(s as usize..e as usize)?;
        Some(SourceFile {
            name: self.name.clone(),
            src: bytes::Bytes::copy_from_slice(bytes),
            base: start,
            line_starts: Arc::default(),
        })
    }

    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The bytes this file holds (for a fragment, only its part: index them
    /// with offsets minus [`SourceFile::base`], or use [`SourceFile::text`]).
    pub fn src(&self) -> &[u8] {
        &self.src
    }

    /// The shared bytes.
    pub fn bytes(&self) -> &bytes::Bytes {
        &self.src
    }

    /// Whole-file offset of the first byte held: 0 except for a fragment.
    pub fn base(&self) -> Pos {
        self.base
    }

    /// The bytes `start..=end_inclusive`, in whole-file offsets.
    pub fn text(&self, start: Pos, end_inclusive: Pos) -> Option<&[u8]> {
        let s = start.checked_sub(self.base)? as usize;
        let e = end_inclusive.checked_sub(self.base)? as usize;
        self.src.get(s..=e)
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = Vec::with_capacity(self.src.len() / 32 + 1);
            starts.push(0u32);
            // memchr: this may be a whole (possibly 13 MB) file.
            starts.extend(memchr::memchr_iter(b'\n', &self.src).map(|i| i as u32 + 1));
            starts.into_boxed_slice()
        })
    }

    /// Resolve a byte offset to `file:line:col` (for a fragment, line and
    /// column from the fragment's start).
    pub fn position(&self, pos: Pos) -> Position {
        if pos == NO_POS {
            return Position {
                filename: self.name.clone(),
                ..Position::default()
            };
        }
        let rel = pos.saturating_sub(self.base);
        let line_starts = self.line_starts();
        let line = line_starts.partition_point(|&s| s <= rel).max(1);
        Position {
            filename: self.name.clone(),
            offset: pos,
            line: line as u32,
            column: rel - line_starts[line - 1] + 1,
        }
    }
}
