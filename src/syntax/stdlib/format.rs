//! A Go-compatible subset of `fmt.Sprintf` for `string.format`.
//!
//! Supported: verbs `%v %s %d %q %f %F %e %E %g %G %x %X %o %b %t %c %%`,
//! flags `- + # 0 space`, width and precision (not `*`), Go's error forms
//! (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA ...)`). Arguments are Alloy
//! values: numbers keep their kind (int, uint, float64), arrays print as
//! `[a b]`, objects as `map[k:v]`, secrets as `(secret)`. Not supported:
//! argument indexes (`%[1]d`), `*` width, `%U`, `%p`.

use crate::syntax::parser::go_quote;
use crate::syntax::value::{Capsule, Number, Value};

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Format `args` with a Go format string.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = read_num(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.prec = Some(read_num(&mut chars).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(argi) {
            None => {
                out.push_str(&format!("%!{verb}(MISSING)"));
            }
            Some(arg) => {
                argi += 1;
                let s = format_arg(verb, spec, arg);
                out.push_str(&s);
            }
        }
    }
    if argi < args.len() {
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|a| format!("{}={}", go_type(a), format_v(a, false)))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

fn read_num(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(
            n.unwrap_or(0)
                .saturating_mul(10)
                .saturating_add(d as usize)
                .min(10_000),
        );
        chars.next();
    }
    n
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(Number::Int(_)) => "int",
        Value::Number(Number::Uint(_)) => "uint",
        Value::Number(Number::Float(_)) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        Value::Function(_) => "func",
        Value::Capsule(_) => "capsule",
    }
}

fn bad_verb(verb: char, v: &Value) -> String {
    match v {
        Value::Null => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", go_type(v), format_v(v, false)),
    }
}

fn pad(s: String, spec: Spec, numeric: bool) -> String {
    let Some(w) = spec.width else { return s };
    let len = s.chars().count();
    if len >= w {
        return s;
    }
    let fill = w - len;
    if spec.minus {
        format!("{s}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, digits) = match s.strip_prefix(['-', '+', ' ']) {
            Some(rest) => (&s[..1], rest),
            None => ("", s.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

fn sign(s: String, spec: Spec, negative: bool) -> String {
    if negative {
        s
    } else if spec.plus {
        format!("+{s}")
    } else if spec.space {
        format!(" {s}")
    } else {
        s
    }
}

fn format_int(verb: char, spec: Spec, neg: bool, mag: u128) -> Option<String> {
    let digits = match verb {
        'd' | 'v' => mag.to_string(),
        'x' => format!("{mag:x}"),
        'X' => format!("{mag:X}"),
        'o' => format!("{mag:o}"),
        'b' => format!("{mag:b}"),
        _ => return None,
    };
    let digits = match spec.prec {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    };
    let prefix = match (spec.sharp, verb) {
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        (true, 'o') => "0",
        _ => "",
    };
    let s = format!("{}{prefix}{digits}", if neg { "-" } else { "" });
    Some(pad(sign(s, spec, neg), spec, spec.prec.is_none()))
}

/// Go's `strconv.FormatFloat(f, 'e', prec, 64)` exponent style (`e+06`).
fn go_exp(f: f64, prec: Option<usize>, upper: bool) -> String {
    let s = match prec {
        Some(p) => format!("{f:.p$e}"),
        None => format!("{f:e}"),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}{e}{sign}{:02}", exp.abs())
}

/// Go's `%g` / `%v` for floats (`strconv.FormatFloat(f, 'g', prec, 64)`):
/// exponent form when the exponent is < -4 or >= the precision, where the
/// shortest representation decides with precision 6 (`1e+06`).
fn go_g(f: f64, prec: Option<usize>, upper: bool) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Digits and exponent of the shortest (or `prec`-digit) representation.
    let sci = match prec {
        Some(p) => format!("{f:.*e}", p.max(1) - 1),
        None => format!("{f:e}"),
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let ndigits = mant.chars().filter(|c| c.is_ascii_digit()).count() as i32;
    let eprec = match prec {
        Some(p) => {
            let p = p.max(1) as i32;
            if p > ndigits && ndigits > exp {
                ndigits
            } else {
                p
            }
        }
        None => 6,
    };
    if exp < -4 || exp >= eprec {
        let mant = if mant.contains('.') {
            mant.trim_end_matches('0').trim_end_matches('.')
        } else {
            mant
        };
        let e = if upper { 'E' } else { 'e' };
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}{e}{sign}{:02}", exp.abs())
    } else {
        let s = match prec {
            None => format!("{f}"),
            Some(_) => {
                let decimals = (ndigits - 1 - exp).max(0) as usize;
                let s = format!("{f:.decimals$}");
                if s.contains('.') {
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    s
                }
            }
        };
        s
    }
}

fn format_float(verb: char, spec: Spec, f: f64) -> Option<String> {
    let s = match verb {
        'f' | 'F' => {
            if f.is_finite() {
                format!("{f:.*}", spec.prec.unwrap_or(6))
            } else {
                go_g(f, None, false)
            }
        }
        'e' | 'E' => {
            if f.is_finite() {
                go_exp(f, Some(spec.prec.unwrap_or(6)), verb == 'E')
            } else {
                go_g(f, None, false)
            }
        }
        'g' | 'G' | 'v' => go_g(f, spec.prec, verb == 'G'),
        _ => return None,
    };
    let already_signed = s.starts_with('-') || s.starts_with('+');
    let s = sign(s, spec, already_signed);
    Some(pad(s, spec, f.is_finite()))
}

fn format_str(verb: char, spec: Spec, s: &str) -> Option<String> {
    let s = match spec.prec {
        Some(p) if matches!(verb, 's' | 'v' | 'q') => s.chars().take(p).collect(),
        _ => s.to_string(),
    };
    let out = match verb {
        's' | 'v' => s,
        'q' => {
            if spec.sharp && !s.contains('`') {
                format!("`{s}`")
            } else {
                go_quote(&s)
            }
        }
        'x' => s.bytes().map(|b| format!("{b:02x}")).collect(),
        'X' => s.bytes().map(|b| format!("{b:02X}")).collect(),
        _ => return None,
    };
    Some(pad(out, spec, false))
}

/// Go's `%v` (and `%#v` when `sharp`) for an Alloy value.
fn format_v(v: &Value, sharp: bool) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(Number::Int(i)) => i.to_string(),
        Value::Number(Number::Uint(u)) if sharp => format!("0x{u:x}"),
        Value::Number(Number::Uint(u)) => u.to_string(),
        Value::Number(Number::Float(f)) => go_g(*f, None, false),
        Value::String(s) if sharp => go_quote(s),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|i| format_v(i, sharp)).collect();
            if sharp {
                format!("[]interface {{}}{{{}}}", inner.join(", "))
            } else {
                format!("[{}]", inner.join(" "))
            }
        }
        Value::Object(map) => {
            if sharp {
                let inner: Vec<String> = map
                    .iter()
                    .map(|(k, x)| format!("{}:{}", go_quote(k), format_v(x, true)))
                    .collect();
                format!("map[string]interface {{}}{{{}}}", inner.join(", "))
            } else {
                let inner: Vec<String> = map
                    .iter()
                    .map(|(k, x)| format!("{k}:{}", format_v(x, false)))
                    .collect();
                format!("map[{}]", inner.join(" "))
            }
        }
        Value::Function(f) => format!("function({})", f.name()),
        Value::Capsule(Capsule::OptionalSecret {
            value,
            is_secret: false,
        }) => value.clone(),
        Value::Capsule(c) => c.to_string(),
    }
}

fn format_arg(verb: char, spec: Spec, v: &Value) -> String {
    let res = match v {
        Value::Number(Number::Int(i)) => match verb {
            'c' => char::from_u32(*i as u32).map(|c| c.to_string()),
            'q' => char::from_u32(*i as u32).map(|c| format!("{c:?}")),
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => None,
            _ => format_int(verb, spec, *i < 0, i128::from(*i).unsigned_abs()),
        },
        Value::Number(Number::Uint(u)) => match verb {
            'v' if spec.sharp => Some(pad(format!("0x{u:x}"), spec, false)),
            _ => format_int(verb, spec, false, u128::from(*u)),
        },
        Value::Number(Number::Float(f)) => format_float(verb, spec, *f),
        Value::String(s) => match verb {
            'v' if spec.sharp => Some(pad(go_quote(s), spec, false)),
            _ => format_str(verb, spec, s),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => Some(pad(b.to_string(), spec, false)),
            _ => None,
        },
        Value::Capsule(Capsule::OptionalSecret {
            value,
            is_secret: false,
        }) => format_str(verb, spec, value),
        other => match verb {
            'v' => Some(pad(format_v(other, spec.sharp), spec, false)),
            's' if !matches!(other, Value::Null) => Some(pad(format_v(other, false), spec, false)),
            _ => None,
        },
    };
    res.unwrap_or_else(|| bad_verb(verb, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Value]) -> String {
        sprintf(fmt, args)
    }

    #[test]
    fn go_verbs() {
        assert_eq!(f("Hello %s", &[Value::from("World")]), "Hello World");
        assert_eq!(f("%#v", &[Value::int(1)]), "1");
        assert_eq!(f("%#v", &[Value::Bool(true)]), "true");
        assert_eq!(f("%q", &[Value::from("hello")]), "\"hello\"");
        assert_eq!(f("%d%%", &[Value::int(50)]), "50%");
        assert_eq!(f("%05d", &[Value::int(-42)]), "-0042");
        assert_eq!(f("%-4d|", &[Value::int(7)]), "7   |");
        assert_eq!(f("%x", &[Value::int(255)]), "ff");
        assert_eq!(f("%x", &[Value::from("hi")]), "6869");
        assert_eq!(f("%.2f", &[Value::float(1.23456)]), "1.23");
        assert_eq!(f("%f", &[Value::float(1.0)]), "1.000000");
        assert_eq!(f("%e", &[Value::float(1234.5678)]), "1.234568e+03");
        assert_eq!(f("%v", &[Value::float(1.5)]), "1.5");
        assert_eq!(f("%v", &[Value::float(1e21)]), "1e+21");
        assert_eq!(f("%v", &[Value::float(1e6)]), "1e+06");
        assert_eq!(f("%v", &[Value::float(123456.0)]), "123456");
        assert_eq!(f("%g", &[Value::float(0.00001)]), "1e-05");
        assert_eq!(f("%t", &[Value::Bool(false)]), "false");
        assert_eq!(f("%v", &[Value::from(vec![1i64, 2])]), "[1 2]");
        assert_eq!(
            f("%v", &[Value::object([("a", Value::int(1))])]),
            "map[a:1]"
        );
        assert_eq!(f("%d", &[Value::from("x")]), "%!d(string=x)");
        assert_eq!(f("%s %s", &[Value::from("x")]), "x %!s(MISSING)");
        assert_eq!(
            f("%s", &[Value::from("x"), Value::int(1)]),
            "x%!(EXTRA int=1)"
        );
        assert_eq!(f("%s", &[Value::secret("pw")]), "(secret)");
        assert_eq!(f("%8.3f|", &[Value::float(2.5)]), "   2.500|");
        assert_eq!(f("%+d", &[Value::int(3)]), "+3");
    }
}
