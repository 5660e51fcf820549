//! The syntax tree of an `.alloy` file: what the parser produces and the
//! evaluator, formatter and graph loader read.
//!
//! Every node carries byte offsets ([`Pos`]) into its file so any later error
//! (an evaluation failure, a graph cycle) can point at the text. End positions
//! are inclusive (the last byte of the node), as in Alloy, because the pretty
//! diagnostics underline up to and including that byte.

use compact_str::CompactString;

use super::token::{Pos, Token, NO_POS};

/// A parsed file: its statements and every comment, kept for the formatter.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub name: String,
    pub body: Body,
    pub comments: Vec<CommentGroup>,
}

pub type Body = Vec<Stmt>;

/// A `//` or `/* */` comment with its text as written (without `\r`).
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub pos: Pos,
    pub text: String,
}

impl Comment {
    pub fn end_pos(&self) -> Pos {
        end_of(self.pos, self.text.len())
    }
}

/// Adjacent comments (no blank line between them).
pub type CommentGroup = Vec<Comment>;

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Attribute(AttributeStmt),
    Block(BlockStmt),
}

impl Stmt {
    pub fn start_pos(&self) -> Pos {
        match self {
            Stmt::Attribute(a) => a.name.pos,
            Stmt::Block(b) => b.name_pos,
        }
    }

    pub fn end_pos(&self) -> Pos {
        match self {
            Stmt::Attribute(a) => a.value.end_pos(),
            Stmt::Block(b) => b.rcurly,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: CompactString,
    pub pos: Pos,
}

impl Ident {
    pub fn end_pos(&self) -> Pos {
        end_of(self.pos, self.name.len())
    }
}

/// `name = value`
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeStmt {
    pub name: Ident,
    pub value: Expr,
}

/// `a.b.c "label" { body }`
#[derive(Debug, Clone, PartialEq)]
pub struct BlockStmt {
    pub name: Vec<CompactString>,
    pub name_pos: Pos,
    /// The label without its quotes; empty when there is none.
    pub label: CompactString,
    pub label_pos: Pos,
    pub body: Body,
    pub lcurly: Pos,
    pub rcurly: Pos,
}

impl BlockStmt {
    /// The dotted name, e.g. `prometheus.remote_write`.
    pub fn full_name(&self) -> String {
        self.name.join(".")
    }

    /// The node ID: name plus label, e.g. `prometheus.remote_write.default`.
    pub fn id(&self) -> String {
        let mut id = self.full_name();
        if !self.label.is_empty() {
            id.push('.');
            id.push_str(&self.label);
        }
        id
    }

    /// The inclusive end of the block's header (`name "label" {`), which is
    /// what Alloy underlines for block-level graph errors.
    pub fn header_end(&self) -> Pos {
        self.lcurly
    }
}

/// The kind of a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LitKind {
    Number,
    Float,
    String,
    Bool,
    Null,
}

impl LitKind {
    pub fn from_token(t: Token) -> Option<LitKind> {
        Some(match t {
            Token::Number => LitKind::Number,
            Token::Float => LitKind::Float,
            Token::String => LitKind::String,
            Token::Bool => LitKind::Bool,
            Token::Null => LitKind::Null,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectField {
    pub name: Ident,
    /// The name was written as a quoted string.
    pub quoted: bool,
    pub value: Expr,
}

/// Unary operators: `!` and `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
}

/// Binary operators, by Alloy's precedence classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
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
}

impl BinaryOp {
    pub fn from_token(t: Token) -> Option<BinaryOp> {
        Some(match t {
            Token::Or => BinaryOp::Or,
            Token::And => BinaryOp::And,
            Token::Eq => BinaryOp::Eq,
            Token::Neq => BinaryOp::Neq,
            Token::Lt => BinaryOp::Lt,
            Token::Lte => BinaryOp::Lte,
            Token::Gt => BinaryOp::Gt,
            Token::Gte => BinaryOp::Gte,
            Token::Add => BinaryOp::Add,
            Token::Sub => BinaryOp::Sub,
            Token::Mul => BinaryOp::Mul,
            Token::Div => BinaryOp::Div,
            Token::Mod => BinaryOp::Mod,
            Token::Pow => BinaryOp::Pow,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Lte => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Gte => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
        }
    }

    /// Precedence, higher binds tighter (Alloy's `BinaryPrecedence`).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Neq
            | BinaryOp::Lt
            | BinaryOp::Lte
            | BinaryOp::Gt
            | BinaryOp::Gte => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 5,
            BinaryOp::Pow => 6,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A bare identifier: a scope name, a stdlib namespace, or the head of a
    /// component reference.
    Identifier(Ident),
    /// A literal; `raw` is the source text (strings keep their quotes).
    Literal {
        kind: LitKind,
        raw: CompactString,
        pos: Pos,
    },
    Array {
        elements: Vec<Expr>,
        lbrack: Pos,
        rbrack: Pos,
    },
    Object {
        fields: Vec<ObjectField>,
        lcurly: Pos,
        rcurly: Pos,
    },
    Access {
        value: Box<Expr>,
        name: Ident,
    },
    Index {
        value: Box<Expr>,
        index: Box<Expr>,
        lbrack: Pos,
        rbrack: Pos,
    },
    Call {
        value: Box<Expr>,
        args: Vec<Expr>,
        lparen: Pos,
        rparen: Pos,
    },
    Unary {
        op: UnaryOp,
        op_pos: Pos,
        value: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        op_pos: Pos,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Paren {
        inner: Box<Expr>,
        lparen: Pos,
        rparen: Pos,
    },
}

impl Expr {
    pub fn start_pos(&self) -> Pos {
        match self {
            Expr::Identifier(i) => i.pos,
            Expr::Literal { pos, .. } => *pos,
            Expr::Array { lbrack, .. } => *lbrack,
            Expr::Object { lcurly, .. } => *lcurly,
            Expr::Access { value, .. } | Expr::Index { value, .. } | Expr::Call { value, .. } => {
                value.start_pos()
            }
            Expr::Unary { op_pos, .. } => *op_pos,
            Expr::Binary { left, .. } => left.start_pos(),
            Expr::Paren { lparen, .. } => *lparen,
        }
    }

    /// Inclusive end position.
    pub fn end_pos(&self) -> Pos {
        match self {
            Expr::Identifier(i) => i.end_pos(),
            Expr::Literal { raw, pos, .. } => end_of(*pos, raw.len()),
            Expr::Array { rbrack, .. } => *rbrack,
            Expr::Object { rcurly, .. } => *rcurly,
            Expr::Access { name, .. } => name.end_pos(),
            Expr::Index { rbrack, .. } => *rbrack,
            Expr::Call { rparen, .. } => *rparen,
            Expr::Unary { value, .. } => value.end_pos(),
            Expr::Binary { right, .. } => right.end_pos(),
            Expr::Paren { rparen, .. } => *rparen,
        }
    }
}

/// Inclusive end of a node of `len` bytes starting at `pos`.
fn end_of(pos: Pos, len: usize) -> Pos {
    if pos == NO_POS {
        return NO_POS;
    }
    pos + (len as u32).saturating_sub(1)
}
