//! `sys.*`: the process environment (`sys.env`, and the deprecated `env`).

use super::{arg, arity};
use crate::syntax::eval::ValueError;
use crate::syntax::value::Value;

/// `sys.env(name)`: the variable's value, or `""` when unset (as Go's
/// `os.Getenv`).
pub fn env(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 1)?;
    let name: String = arg(args, 0)?;
    Ok(Value::String(std::env::var(&name).unwrap_or_default()))
}
