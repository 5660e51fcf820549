//! The Alloy configuration language: `.alloy` text → tokens → AST → values.
//!
//! This is the first stage of the data flow in `DESIGN.md`: everything the
//! controller knows about a configuration comes through here. The scanner and
//! parser are hand-written because Alloy's grammar is newline-sensitive and its
//! error messages and recovery must be reproduced exactly; no parser generator
//! gives that control.

pub mod ast;
pub mod diag;
pub mod parser;
pub mod printer;
pub mod scanner;
pub mod token;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use parser::{parse_expression, parse_file};
pub use token::{Pos, Position, SourceFile};

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
    let once = printer::format_file(&ast, input);
    let twice = printer::format_source("fuzz.alloy", once.as_bytes());
    assert_eq!(
        twice.as_deref(),
        Ok(once.as_str()),
        "formatter not idempotent"
    );
    true
}
