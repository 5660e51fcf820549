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
pub mod printer;
pub mod scanner;
pub mod stdlib;
pub mod token;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use eval::{evaluate, EvalContext, Scope, StabilityLevel, ValueError};
pub use parser::{parse_expression, parse_file, parse_range, parse_statements};
pub use token::{Pos, Position, SourceFile};
pub use value::{Capsule, Number, Object, OpaqueHandle, ReceiverId, Value, ValueType};

/// Run every stage of the language on arbitrary bytes, for the fuzzers.
/// Returns whether the input parsed cleanly. Must never panic.
#[doc(hidden)]
pub fn fuzz_one(input: &[u8]) -> bool {
    let file = SourceFile::new("fuzz.alloy", input.to_vec());
    let (ast, diags) = parse_file(&file);
    let _ = diag::render(&diags, |_| Some(input));
    let Some(ast) = ast else {
        return false;
    };
    // What the formatter prints must parse again and be a fixed point.
    evaluate_all(&file, &ast.body);
    let once = printer::format_file(&ast, input);
    let twice = printer::format_source("fuzz.alloy", once.as_bytes());
    assert_eq!(
        twice.as_deref(),
        Ok(once.as_str()),
        "formatter not idempotent"
    );
    true
}

/// Evaluate every attribute of a body (and nested blocks) in an empty scope;
/// errors are expected, panics are not.
fn evaluate_all(file: &SourceFile, body: &ast::Body) {
    let scope = Scope::new();
    let ctx = EvalContext::new(file, &scope).with_stability(StabilityLevel::Experimental);
    for stmt in body {
        match stmt {
            ast::Stmt::Attribute(a) => {
                let _ = ctx.eval(&a.value);
            }
            ast::Stmt::Block(b) => evaluate_all(file, &b.body),
        }
    }
}
