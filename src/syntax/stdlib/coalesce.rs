//! `coalesce(...)`: the first argument that is not null, zero or empty.

use crate::syntax::value::Value;

/// Returns the first argument that is not `null`, a zero value (`0`, `""`,
/// `false`) or an empty array/object; otherwise the last argument (so
/// `coalesce(false, false)` is `false`), or `null` with no arguments.
pub fn coalesce(args: Vec<Value>) -> Value {
    let mut last = Value::Null;
    for a in args {
        if !a.is_zero() {
            return a;
        }
        last = a;
    }
    last
}
