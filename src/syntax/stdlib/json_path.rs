//! `json_path(json, path)`: query a JSON document with JSONPath.
//!
//! Alloy uses the `ojg` Go library, which accepts paths without the leading
//! `$` (`.a`, `[0]`); smelter uses the RFC 9535 engine of `serde_json_path`
//! and prepends `$` when it is missing.

use super::{arg, arity};
use crate::syntax::eval::ValueError;
use crate::syntax::value::{from_json, Value};

pub fn json_path(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 2)?;
    let doc: String = arg(args, 0)?;
    let path: String = arg(args, 1)?;
    let path = if path.starts_with('$') {
        path
    } else if path.starts_with('.') || path.starts_with('[') {
        format!("${path}")
    } else {
        format!("$.{path}")
    };
    let query = serde_json_path::JsonPath::parse(&path)
        .map_err(|e| ValueError::msg(format!("invalid JSONPath: {e}")))?;
    let json: serde_json::Value =
        serde_json::from_str(&doc).map_err(|e| ValueError::msg(e.to_string()))?;
    let found = query.query(&json).all();
    Ok(Value::Array(
        found.into_iter().map(|v| from_json(v.clone())).collect(),
    ))
}
