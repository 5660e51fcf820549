//! Literal conversion: the source text of a NUMBER, FLOAT, STRING, BOOL or
//! NULL token → a [`Value`], with Go's `strconv` rules because Alloy defines
//! its literals through them (`010` is octal, `08` falls back to a float,
//! strings are Go-quoted).

use crate::syntax::ast::LitKind;
use crate::syntax::value::Value;

/// Convert a literal token's raw text to a value.
pub fn value_from_literal(kind: LitKind, raw: &str) -> Result<Value, String> {
    match kind {
        LitKind::Null => Ok(Value::Null),
        LitKind::Bool => match raw {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("invalid boolean literal {raw:?}")),
        },
        LitKind::Number => {
            if let Some(i) = parse_int_base0(raw) {
                return Ok(Value::int(i));
            }
            if let Some(u) = parse_uint_base0(raw) {
                return Ok(Value::uint(u));
            }
            parse_go_float(raw).map(Value::float)
        }
        LitKind::Float => parse_go_float(raw).map(Value::float),
        LitKind::String => go_unquote(raw).map(Value::String),
    }
}

/// Split a Go base-0 integer literal into (radix, digits).
fn base0(s: &str) -> Option<(u32, &str)> {
    let lower = s.get(..2).map(|p| p.to_ascii_lowercase());
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &s[2..]),
        Some("0o") => (8, &s[2..]),
        Some("0b") => (2, &s[2..]),
        _ if s.len() > 1 && s.starts_with('0') => (8, &s[1..]),
        _ => (10, s),
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    Some((radix, digits))
}

fn parse_uint_base0(s: &str) -> Option<u64> {
    let (radix, digits) = base0(s)?;
    u64::from_str_radix(digits, radix).ok()
}

fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = base0(rest)?;
    let mag = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= i64::MAX as u64 + 1 {
            Some((mag as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal literals: out-of-range is an
/// error rather than infinity.
pub fn parse_go_float(s: &str) -> Result<f64, String> {
    let valid = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    match s.parse::<f64>() {
        Ok(f) if valid && f.is_infinite() => Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            crate::syntax::parser::go_quote(s)
        )),
        Ok(f) if valid => Ok(f),
        _ => Err(format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            crate::syntax::parser::go_quote(s)
        )),
    }
}

/// Go's `strconv.Unquote` for `"…"` and `` `…` `` strings. Escapes that
/// produce bytes which are not valid UTF-8 (`"\xff"`) are replaced by U+FFFD,
/// since a Rust `String` cannot hold them.
pub fn go_unquote(raw: &str) -> Result<String, String> {
    const SYNTAX: &str = "invalid syntax";
    let bytes = raw.as_bytes();
    let q = match bytes.first() {
        Some(&q @ (b'"' | b'`')) => q,
        _ => return Err(SYNTAX.into()),
    };
    if bytes.len() < 2 || bytes[bytes.len() - 1] != q {
        return Err(SYNTAX.into());
    }
    // Both ends are ASCII quotes, so these are char boundaries.
    let body = &raw[1..raw.len() - 1];
    match q {
        b'`' => {
            if body.contains('`') {
                return Err(SYNTAX.into());
            }
            Ok(body.replace('\r', ""))
        }
        b'"' => {
            let mut out: Vec<u8> = Vec::with_capacity(body.len());
            let mut chars = body.char_indices().peekable();
            while let Some((_, c)) = chars.next() {
                match c {
                    '"' | '\n' => return Err(SYNTAX.into()),
                    '\\' => {
                        let (_, e) = chars.next().ok_or(SYNTAX)?;
                        let simple = match e {
                            'a' => Some(7u8),
                            'b' => Some(8),
                            'f' => Some(12),
                            'n' => Some(b'\n'),
                            'r' => Some(b'\r'),
                            't' => Some(b'\t'),
                            'v' => Some(11),
                            '\\' => Some(b'\\'),
                            '"' => Some(b'"'),
                            _ => None,
                        };
                        if let Some(b) = simple {
                            out.push(b);
                            continue;
                        }
                        let mut take = |n: usize, radix: u32| -> Result<u32, String> {
                            let mut v: u32 = 0;
                            for _ in 0..n {
                                let (_, d) = chars.next().ok_or(SYNTAX)?;
                                let d = d.to_digit(radix).ok_or(SYNTAX)?;
                                v = v * radix + d;
                            }
                            Ok(v)
                        };
                        match e {
                            '0'..='7' => {
                                let rest = take(2, 8)?;
                                let v = (e as u32 - '0' as u32) * 64 + rest;
                                if v > 255 {
                                    return Err(SYNTAX.into());
                                }
                                out.push(v as u8);
                            }
                            'x' => out.push(take(2, 16)? as u8),
                            'u' | 'U' => {
                                let v = take(if e == 'u' { 4 } else { 8 }, 16)?;
                                let ch = char::from_u32(v).ok_or(SYNTAX)?;
                                let mut buf = [0u8; 4];
                                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            }
                            _ => return Err(SYNTAX.into()),
                        }
                    }
                    c => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            Ok(match String::from_utf8(out) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            })
        }
        _ => Err(SYNTAX.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(raw: &str) -> Value {
        value_from_literal(LitKind::Number, raw).expect("number")
    }

    #[test]
    fn numbers() {
        assert_eq!(num("10"), Value::int(10));
        assert_eq!(num("010"), Value::int(8));
        assert_eq!(num("08"), Value::float(8.0));
        assert_eq!(num("09"), Value::float(9.0));
        assert_eq!(num("0"), Value::int(0));
        assert_eq!(num("18446744073709551615"), Value::uint(u64::MAX));
        assert_eq!(
            num("18446744073709551616"),
            Value::float(18446744073709551616.0)
        );
        assert_eq!(
            value_from_literal(LitKind::Float, "1.5e3").expect("float"),
            Value::float(1500.0)
        );
        assert!(value_from_literal(LitKind::Float, "1e400").is_err());
    }

    #[test]
    fn strings() {
        let s = |r: &str| go_unquote(r).expect(r);
        assert_eq!(s(r#""a\tb\n""#), "a\tb\n");
        assert_eq!(s(r#""\a\b\f\v\\\"""#), "\u{7}\u{8}\u{c}\u{b}\\\"");
        assert_eq!(s(r#""\101\x42\u0043\U00000044""#), "ABCD");
        assert_eq!(s(r#""\u00e9""#), "é");
        assert_eq!(s("`a\\n\r\nb`"), "a\\n\nb");
        assert!(go_unquote(r#""\q""#).is_err());
        assert!(go_unquote(r#""\400""#).is_err());
        assert!(go_unquote(r#""\uD800""#).is_err());
        assert!(go_unquote("é").is_err());
        assert!(go_unquote("\"").is_err());
    }
}
