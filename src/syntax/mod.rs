//! The Alloy configuration language: `.alloy` text → tokens → AST → values.
//!
//! This is the first stage of the data flow in `DESIGN.md`: everything the
//! controller knows about a configuration comes through here. The scanner and
//! parser are hand-written because Alloy's grammar is newline-sensitive and its
//! error messages and recovery must be reproduced exactly; no parser generator
//! gives that control. The evaluator ([`eval`]) turns expressions into
//! [`Value`]s with the standard library ([`stdlib`]), and [`decode`] turns
//! evaluated blocks into components' typed arguments.

pub mod ast;
pub mod decode;
pub mod diag;
pub mod eval;
pub mod parser;
pub mod scanner;
pub mod stdlib;
pub mod token;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use eval::{evaluate, EvalContext, Scope, StabilityLevel, ValueError};
pub use parser::{parse_expression, parse_file};
pub use token::{Pos, Position, SourceFile};
pub use value::{Capsule, Number, ReceiverId, Value, ValueType};
