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
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: Arc<str>,
    src: Arc<[u8]>,
    /// Shared: every graph node keeps a handle on its file.
    line_starts: Arc<[u32]>,
}

impl SourceFile {
    pub fn new(name: impl Into<Arc<str>>, src: impl Into<Arc<[u8]>>) -> Self {
        let src: Arc<[u8]> = src.into();
        let mut line_starts = vec![0u32];
        // memchr: a reload builds this for a whole (possibly 13 MB) file.
        line_starts.extend(memchr::memchr_iter(b'\n', &src).map(|i| i as u32 + 1));
        SourceFile {
            name: name.into(),
            src,
            line_starts: line_starts.into(),
        }
    }

    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    pub fn src(&self) -> &[u8] {
        &self.src
    }

    pub fn src_arc(&self) -> &Arc<[u8]> {
        &self.src
    }

    /// Resolve a byte offset to `file:line:col`.
    pub fn position(&self, pos: Pos) -> Position {
        if pos == NO_POS {
            return Position {
                filename: self.name.clone(),
                ..Position::default()
            };
        }
        let line = self.line_starts.partition_point(|&s| s <= pos).max(1);
        Position {
            filename: self.name.clone(),
            offset: pos,
            line: line as u32,
            column: pos - self.line_starts[line - 1] + 1,
        }
    }
}
