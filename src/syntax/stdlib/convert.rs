//! `convert.*`: explicit conversions (`convert.nonsensitive`).

use super::{arg, arity};
use crate::syntax::decode::Secret;
use crate::syntax::eval::ValueError;
use crate::syntax::value::Value;

/// `convert.nonsensitive(secret)`: the secret's plain text.
pub fn nonsensitive(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 1)?;
    let s: Secret = arg(args, 0)?;
    Ok(Value::String(s.0))
}
