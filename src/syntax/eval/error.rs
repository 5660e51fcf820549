//! Value errors: failures found while operating on values (a type mismatch, a
//! division by zero, a bad function argument) before they are tied to text.
//!
//! Operators, stdlib functions and the decoder report a [`ValueError`] naming
//! *which* operand failed and the path inside it (`.object.field1[2]`); the
//! evaluator then finds the AST node that produced that value and turns the
//! error into a positioned [`Diagnostic`](crate::syntax::Diagnostic), printing
//! the node's text first as Alloy does
//! (`key_value.object.field1[2] should be number, got string`).

use std::fmt;

use crate::syntax::value::{Value, ValueType};

/// One step into a value: `.field` or `[index]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Field(String),
    Index(usize),
}

impl fmt::Display for PathSeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSeg::Field(name) => write!(f, ".{name}"),
            PathSeg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// `should be <expected>, got <got>`
    Type { expected: ValueType, got: ValueType },
    /// Any other message, printed as is.
    Message(String),
}

/// An error about a value, not yet placed in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Which operand of the failing operation the error is about: for a
    /// binary operator 0 = left, 1 = right; for a call `None` = the function
    /// and `Some(i)` = argument `i`; for an index 0 = the indexed value,
    /// 1 = the index. `None` elsewhere means the whole expression.
    pub operand: Option<usize>,
    /// Path inside that operand's value.
    pub path: Vec<PathSeg>,
    pub kind: ErrorKind,
}

impl ValueError {
    pub fn msg(message: impl Into<String>) -> Self {
        ValueError {
            operand: None,
            path: Vec::new(),
            kind: ErrorKind::Message(message.into()),
        }
    }

    pub fn type_mismatch(expected: ValueType, got: &Value) -> Self {
        ValueError {
            operand: None,
            path: Vec::new(),
            kind: ErrorKind::Type {
                expected,
                got: got.value_type(),
            },
        }
    }

    pub fn on(mut self, operand: usize) -> Self {
        self.operand = Some(operand);
        self
    }

    /// Prefix the path with one more outer step (used while unwinding out
    /// of nested arrays and objects).
    pub fn within(mut self, seg: PathSeg) -> Self {
        self.path.insert(0, seg);
        self
    }

    pub fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Type { expected, got } => format!("should be {expected}, got {got}"),
            ErrorKind::Message(m) => m.clone(),
        }
    }

    /// The path as Alloy prints it after the node text.
    pub fn path_string(&self) -> String {
        self.path.iter().map(|s| s.to_string()).collect()
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path_string();
        if path.is_empty() {
            f.write_str(&self.message())
        } else {
            write!(f, "{path} {}", self.message())
        }
    }
}

impl std::error::Error for ValueError {}
