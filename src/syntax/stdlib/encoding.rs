//! `encoding.*`: JSON, YAML, base64 and URL encodings, with Go's semantics
//! (JSON numbers decode as floats, YAML integers as ints, `url_encode` is
//! Go's `url.QueryEscape`).

use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{arg, arity};
use crate::syntax::eval::ValueError;
use crate::syntax::value::{from_json as json_to_value, Capsule, Number, Value};

/// Maximum nesting accepted when converting decoded documents, so hostile
/// input cannot exhaust the stack.
const MAX_NESTING: usize = 256;

pub fn from_json(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 1)?;
    let s: String = arg(args, 0)?;
    let v: serde_json::Value =
        serde_json::from_str(&s).map_err(|e| ValueError::msg(e.to_string()))?;
    Ok(json_to_value(v))
}

pub fn from_yaml(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 1)?;
    let s: String = arg(args, 0)?;
    let v: serde_yaml::Value =
        serde_yaml::from_str(&s).map_err(|e| ValueError::msg(e.to_string()))?;
    yaml_to_value(v, 0)
}

fn yaml_to_value(v: serde_yaml::Value, depth: usize) -> Result<Value, ValueError> {
    if depth > MAX_NESTING {
        return Err(ValueError::msg("yaml: document nested too deeply"));
    }
    Ok(match v {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(b),
        serde_yaml::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::int(i)
            } else if let Some(u) = n.as_u64() {
                Value::uint(u)
            } else {
                Value::float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_yaml::Value::String(s) => Value::String(s),
        serde_yaml::Value::Sequence(seq) => Value::Array(
            seq.into_iter()
                .map(|v| yaml_to_value(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        serde_yaml::Value::Mapping(map) => {
            // Collected, then sorted once: inserting one by one into the
            // sorted vector would move it for every out-of-order key.
            let mut out = Vec::with_capacity(map.len());
            for (k, v) in map {
                let key = match k {
                    serde_yaml::Value::String(s) => s,
                    serde_yaml::Value::Number(n) => n.to_string(),
                    serde_yaml::Value::Bool(b) => b.to_string(),
                    serde_yaml::Value::Null => "null".to_string(),
                    _ => return Err(ValueError::msg("yaml: unsupported map key type")),
                };
                out.push((key, yaml_to_value(v, depth + 1)?));
            }
            Value::Object(out.into_iter().collect())
        }
        serde_yaml::Value::Tagged(t) => yaml_to_value(t.value, depth + 1)?,
    })
}

pub fn from_base64(args: &[Value], url: bool) -> Result<Value, ValueError> {
    arity(args, 1)?;
    let s: String = arg(args, 0)?;
    let engine = if url {
        &base64::engine::general_purpose::URL_SAFE
    } else {
        &base64::engine::general_purpose::STANDARD
    };
    let bytes = engine
        .decode(s.as_bytes())
        .map_err(|e| ValueError::msg(format!("illegal base64 data: {e}")))?;
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

pub fn to_base64(args: &[Value], url: bool) -> Result<Value, ValueError> {
    arity(args, 1)?;
    let s: String = arg(args, 0)?;
    let engine = if url {
        &base64::engine::general_purpose::URL_SAFE
    } else {
        &base64::engine::general_purpose::STANDARD
    };
    Ok(Value::String(engine.encode(s.as_bytes())))
}

/// Go's `url.QueryEscape` keeps `A-Za-z0-9-_.~` and turns space into `+`.
const QUERY_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b' ');

pub fn url_encode(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 1)?;
    let s: String = arg(args, 0)?;
    Ok(Value::String(
        utf8_percent_encode(&s, QUERY_ESCAPE)
            .to_string()
            .replace(' ', "+"),
    ))
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XY` must be valid hex.
pub fn url_decode(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 1)?;
    let s: String = arg(args, 0)?;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => out.push(v),
                    None => {
                        let bad: String =
                            String::from_utf8_lossy(&b[i..b.len().min(i + 3)]).into_owned();
                        return Err(ValueError::msg(format!(
                            "invalid URL escape {}",
                            crate::syntax::parser::go_quote(&bad)
                        )));
                    }
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(Value::String(String::from_utf8_lossy(&out).into_owned()))
}

/// `encoding.to_json(object)`: only objects are accepted, as in Alloy.
pub fn to_json(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 1)?;
    match &args[0] {
        Value::Object(_) => {
            let j = to_json_value(&args[0], 0)?;
            serde_json::to_string(&j)
                .map(Value::String)
                .map_err(|e| ValueError::msg(e.to_string()))
        }
        _ => Err(ValueError::msg("jsonEncode only supports map")),
    }
}

fn to_json_value(v: &Value, depth: usize) -> Result<serde_json::Value, ValueError> {
    if depth > MAX_NESTING {
        return Err(ValueError::msg("json: value nested too deeply"));
    }
    Ok(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(Number::Int(i)) => serde_json::Value::from(*i),
        Value::Number(Number::Uint(u)) => serde_json::Value::from(*u),
        Value::Number(Number::Float(f)) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .ok_or_else(|| {
                ValueError::msg(format!("json: unsupported value: {}", Number::Float(*f)))
            })?,
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(a) => serde_json::Value::Array(
            a.iter()
                .map(|x| to_json_value(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), to_json_value(x, depth + 1)?)))
                .collect::<Result<_, ValueError>>()?,
        ),
        Value::Capsule(Capsule::Secret(_))
        | Value::Capsule(Capsule::OptionalSecret {
            is_secret: true, ..
        }) => serde_json::Value::String("(secret)".into()),
        Value::Capsule(Capsule::OptionalSecret { value, .. }) => {
            serde_json::Value::String(value.clone())
        }
        Value::Capsule(c) => serde_json::Value::String(c.to_string()),
        Value::Function(f) => serde_json::Value::String(format!("function({})", f.name())),
    })
}
