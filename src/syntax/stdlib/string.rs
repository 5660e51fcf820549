//! `string.*`: Go's `strings` functions and `fmt.Sprintf` (`string.format`).

use super::{arg, arity};
use crate::syntax::eval::ValueError;
use crate::syntax::value::Value;

fn s1(args: &[Value], f: impl Fn(&str) -> String) -> Result<Value, ValueError> {
    arity(args, 1)?;
    let s: String = arg(args, 0)?;
    Ok(Value::String(f(&s)))
}

fn s2(args: &[Value], f: impl Fn(&str, &str) -> String) -> Result<Value, ValueError> {
    arity(args, 2)?;
    let a: String = arg(args, 0)?;
    let b: String = arg(args, 1)?;
    Ok(Value::String(f(&a, &b)))
}

/// `string.format(fmt, args...)`: Go's `fmt.Sprintf`, see [`super::format`].
pub fn format(args: &[Value]) -> Result<Value, ValueError> {
    if args.is_empty() {
        return Err(ValueError::msg("expected at least 1 args, got 0"));
    }
    let f: String = arg(args, 0)?;
    Ok(Value::String(super::format::sprintf(&f, &args[1..])))
}

pub fn join(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 2)?;
    let items: Vec<String> = arg(args, 0)?;
    let sep: String = arg(args, 1)?;
    Ok(Value::String(items.join(&sep)))
}

pub fn replace(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 3)?;
    let s: String = arg(args, 0)?;
    let old: String = arg(args, 1)?;
    let new: String = arg(args, 2)?;
    Ok(Value::String(s.replace(&old, &new)))
}

/// Go's `strings.Split`: an empty separator splits into characters.
pub fn split(args: &[Value]) -> Result<Value, ValueError> {
    arity(args, 2)?;
    let s: String = arg(args, 0)?;
    let sep: String = arg(args, 1)?;
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep.as_str()).map(Value::from).collect()
    };
    Ok(Value::Array(parts))
}

pub fn to_lower(args: &[Value]) -> Result<Value, ValueError> {
    s1(args, str::to_lowercase)
}

pub fn to_upper(args: &[Value]) -> Result<Value, ValueError> {
    s1(args, str::to_uppercase)
}

/// Go's `strings.Trim(s, cutset)`.
pub fn trim(args: &[Value]) -> Result<Value, ValueError> {
    s2(args, |s, cut| {
        s.trim_matches(|c| cut.contains(c)).to_string()
    })
}

pub fn trim_prefix(args: &[Value]) -> Result<Value, ValueError> {
    s2(args, |s, p| s.strip_prefix(p).unwrap_or(s).to_string())
}

pub fn trim_suffix(args: &[Value]) -> Result<Value, ValueError> {
    s2(args, |s, p| s.strip_suffix(p).unwrap_or(s).to_string())
}

pub fn trim_space(args: &[Value]) -> Result<Value, ValueError> {
    s1(args, |s| s.trim().to_string())
}
