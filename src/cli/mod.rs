//! Command-line entry points; `main.rs` wires them into clap.

pub mod validate;
