//! Unary and binary operators with Alloy's semantics.
//!
//! The evaluator calls these after evaluating both operands (`&&` and `||`
//! do not short-circuit in Alloy). Numbers are widened to the wider kind
//! (uint < int < float) and wrap on overflow like Go's fixed-size integers;
//! `==` compares across number kinds (`3 == 3.0`) and deeply for arrays and
//! objects, unlike the structural `Eq` of [`Value`].

use crate::syntax::ast::{BinaryOp, UnaryOp};
use crate::syntax::value::{Capsule, Number, NumberKind, Value, ValueType};

use super::error::ValueError;

/// Apply a unary operator. Errors are about operand 0.
pub fn unary_op(op: UnaryOp, val: Value) -> Result<Value, ValueError> {
    match (op, val) {
        (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnaryOp::Not, v) => Err(ValueError::type_mismatch(ValueType::Bool, &v).on(0)),
        (UnaryOp::Neg, Value::Number(Number::Float(f))) => Ok(Value::float(-f)),
        (UnaryOp::Neg, Value::Number(n)) => Ok(Value::int(n.as_i64().wrapping_neg())),
        (UnaryOp::Neg, v) => Err(ValueError::type_mismatch(ValueType::Number, &v).on(0)),
    }
}

fn allowed_types(op: BinaryOp) -> &'static [ValueType] {
    use ValueType::*;
    match op {
        BinaryOp::Or | BinaryOp::And => &[Bool],
        BinaryOp::Add => &[Number, String, Capsule],
        BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Pow => &[Number],
        BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Lte | BinaryOp::Gte => &[Number, String],
        BinaryOp::Eq | BinaryOp::Neq => &[],
    }
}

fn fmt_types(types: &[ValueType]) -> String {
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    format!("[{}]", names.join(" "))
}

/// Secrets mixed with strings: the string side is promoted so that
/// `"a" + secret` is a secret (Alloy's `tryUnwrapCapsules`).
fn unwrap_capsules(lhs: Value, rhs: Value) -> (Value, Value) {
    use Capsule::{OptionalSecret, Secret};
    match (lhs, rhs) {
        (Value::Capsule(OptionalSecret { value, is_secret }), rhs) => match rhs {
            Value::Capsule(Secret(_)) => (Value::secret(value), rhs),
            Value::String(s) if is_secret => (
                Value::Capsule(OptionalSecret { value, is_secret }),
                Value::Capsule(OptionalSecret {
                    value: s,
                    is_secret: true,
                }),
            ),
            Value::String(s) => (Value::String(value), Value::String(s)),
            rhs => (Value::Capsule(OptionalSecret { value, is_secret }), rhs),
        },
        (lhs @ Value::Capsule(Secret(_)), rhs) => match rhs {
            Value::Capsule(OptionalSecret { value, .. }) => (lhs, Value::secret(value)),
            Value::String(s) => (lhs, Value::secret(s)),
            rhs => (lhs, rhs),
        },
        (Value::String(l), rhs) => match rhs {
            Value::Capsule(OptionalSecret {
                value,
                is_secret: true,
            }) => (
                Value::Capsule(OptionalSecret {
                    value: l,
                    is_secret: true,
                }),
                Value::Capsule(OptionalSecret {
                    value,
                    is_secret: true,
                }),
            ),
            Value::Capsule(OptionalSecret { value, .. }) => {
                (Value::String(l), Value::String(value))
            }
            rhs @ Value::Capsule(Secret(_)) => (Value::secret(l), rhs),
            rhs => (Value::String(l), rhs),
        },
        pair => pair,
    }
}

fn fit(a: &Number, b: &Number) -> NumberKind {
    a.kind().max(b.kind())
}

/// Alloy's `==`: false across types, numbers compared in their wider kind,
/// arrays and objects deeply, functions never equal.
pub fn values_equal(lhs: &Value, rhs: &Value) -> bool {
    match (lhs, rhs) {
        (Value::Null, Value::Null) => true,
        (Value::Number(a), Value::Number(b)) => match fit(a, b) {
            NumberKind::Uint => a.as_u64() == b.as_u64(),
            NumberKind::Int => a.as_i64() == b.as_i64(),
            NumberKind::Float => a.as_f64() == b.as_f64(),
        },
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_equal(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| values_equal(v, w)))
        }
        (Value::Function(_), Value::Function(_)) => false,
        (Value::Capsule(a), Value::Capsule(b)) => a == b,
        _ => false,
    }
}

/// Go's integer `^` as Alloy implements it: repeated multiplication that
/// wraps; a zero exponent gives 1 and a negative one returns the base.
fn int_pow_u(n: u64, m: u64) -> u64 {
    if m == 0 || n == 1 {
        return 1;
    }
    if n == 0 {
        return 0;
    }
    wrapping_pow(n, m)
}

fn int_pow_i(n: i64, m: i64) -> i64 {
    if m == 0 || n == 1 {
        return 1;
    }
    if n == 0 && m > 0 {
        return 0;
    }
    if m < 0 {
        return n;
    }
    wrapping_pow(n as u64, m as u64) as i64
}

/// n^m modulo 2^64 by squaring (same bits as m-1 wrapping multiplications).
fn wrapping_pow(mut base: u64, mut exp: u64) -> u64 {
    let mut acc: u64 = 1;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        exp >>= 1;
    }
    acc
}

fn is_zero(n: &Number) -> bool {
    match *n {
        Number::Int(i) => i == 0,
        Number::Uint(u) => u == 0,
        Number::Float(f) => f == 0.0,
    }
}

/// Apply a binary operator to two evaluated operands. Errors name operand 0
/// (left) or 1 (right).
pub fn binary_op(lhs: Value, op: BinaryOp, rhs: Value) -> Result<Value, ValueError> {
    let (lhs, rhs) = if matches!(lhs, Value::Capsule(_)) || matches!(rhs, Value::Capsule(_)) {
        unwrap_capsules(lhs, rhs)
    } else {
        (lhs, rhs)
    };

    match op {
        BinaryOp::Eq => return Ok(Value::Bool(values_equal(&lhs, &rhs))),
        BinaryOp::Neq => return Ok(Value::Bool(!values_equal(&lhs, &rhs))),
        _ => {}
    }

    let allowed = allowed_types(op);
    for (i, v) in [&lhs, &rhs].into_iter().enumerate() {
        if !allowed.contains(&v.value_type()) {
            return Err(ValueError::msg(format!(
                "should be one of {} for binop {}, got {}",
                fmt_types(allowed),
                op.as_str(),
                v.value_type()
            ))
            .on(i));
        }
    }
    if lhs.value_type() != rhs.value_type() {
        return Err(ValueError::type_mismatch(lhs.value_type(), &rhs).on(1));
    }

    match (lhs, rhs) {
        (Value::Bool(a), Value::Bool(b)) => Ok(Value::Bool(match op {
            BinaryOp::Or => a || b,
            _ => a && b,
        })),
        (Value::String(a), Value::String(b)) => Ok(match op {
            BinaryOp::Add => Value::String(a + &b),
            BinaryOp::Lt => Value::Bool(a < b),
            BinaryOp::Gt => Value::Bool(a > b),
            BinaryOp::Lte => Value::Bool(a <= b),
            _ => Value::Bool(a >= b),
        }),
        (Value::Capsule(a), Value::Capsule(b)) => match (a, b) {
            (
                Capsule::OptionalSecret {
                    value: l,
                    is_secret: ls,
                },
                Capsule::OptionalSecret {
                    value: r,
                    is_secret: rs,
                },
            ) => Ok(Value::Capsule(Capsule::OptionalSecret {
                value: l + &r,
                is_secret: ls || rs,
            })),
            (Capsule::Secret(l), Capsule::Secret(r)) => Ok(Value::secret(l + &r)),
            (a, b) => Err(ValueError::msg(format!(
                "could not perform binop {} for unknown types lhs {} rhs {}",
                op.as_str(),
                a.describe(),
                b.describe()
            ))
            .on(0)),
        },
        (Value::Number(a), Value::Number(b)) => number_op(a, op, b),
        // Unreachable: both operands have the same allowed type.
        (l, _) => Err(ValueError::msg(format!(
            "could not perform binop {} on {}",
            op.as_str(),
            l.value_type()
        ))
        .on(0)),
    }
}

fn number_op(a: Number, op: BinaryOp, b: Number) -> Result<Value, ValueError> {
    if matches!(op, BinaryOp::Div | BinaryOp::Mod) && is_zero(&b) {
        return Err(ValueError::msg("divide by zero error").on(1));
    }
    let kind = fit(&a, &b);
    let v = match kind {
        NumberKind::Uint => {
            let (x, y) = (a.as_u64(), b.as_u64());
            match op {
                BinaryOp::Add => Value::uint(x.wrapping_add(y)),
                BinaryOp::Sub => Value::uint(x.wrapping_sub(y)),
                BinaryOp::Mul => Value::uint(x.wrapping_mul(y)),
                BinaryOp::Div => Value::uint(x.checked_div(y).unwrap_or(0)),
                BinaryOp::Mod => Value::uint(x.checked_rem(y).unwrap_or(0)),
                BinaryOp::Pow => Value::uint(int_pow_u(x, y)),
                BinaryOp::Lt => Value::Bool(x < y),
                BinaryOp::Gt => Value::Bool(x > y),
                BinaryOp::Lte => Value::Bool(x <= y),
                _ => Value::Bool(x >= y),
            }
        }
        NumberKind::Int => {
            let (x, y) = (a.as_i64(), b.as_i64());
            match op {
                BinaryOp::Add => Value::int(x.wrapping_add(y)),
                BinaryOp::Sub => Value::int(x.wrapping_sub(y)),
                BinaryOp::Mul => Value::int(x.wrapping_mul(y)),
                BinaryOp::Div if y == 0 => Value::int(0),
                BinaryOp::Div => Value::int(x.wrapping_div(y)),
                BinaryOp::Mod if y == 0 => Value::int(0),
                BinaryOp::Mod => Value::int(x.wrapping_rem(y)),
                BinaryOp::Pow => Value::int(int_pow_i(x, y)),
                BinaryOp::Lt => Value::Bool(x < y),
                BinaryOp::Gt => Value::Bool(x > y),
                BinaryOp::Lte => Value::Bool(x <= y),
                _ => Value::Bool(x >= y),
            }
        }
        NumberKind::Float => {
            let (x, y) = (a.as_f64(), b.as_f64());
            match op {
                BinaryOp::Add => Value::float(x + y),
                BinaryOp::Sub => Value::float(x - y),
                BinaryOp::Mul => Value::float(x * y),
                BinaryOp::Div => Value::float(x / y),
                BinaryOp::Mod => Value::float(x % y),
                BinaryOp::Pow => Value::float(x.powf(y)),
                BinaryOp::Lt => Value::Bool(x < y),
                BinaryOp::Gt => Value::Bool(x > y),
                BinaryOp::Lte => Value::Bool(x <= y),
                _ => Value::Bool(x >= y),
            }
        }
    };
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow_edge_cases() {
        assert_eq!(int_pow_i(2, 10), 1024);
        assert_eq!(int_pow_i(5, -1), 5);
        assert_eq!(int_pow_i(0, 0), 1);
        assert_eq!(int_pow_i(-2, 3), -8);
        assert_eq!(int_pow_u(3, 4), 81);
        // Large exponents wrap instead of looping for ever.
        assert_eq!(int_pow_i(2, 64), 0);
        assert_eq!(int_pow_u(3, u64::MAX), wrapping_pow(3, u64::MAX));
    }

    #[test]
    fn secret_concat() {
        let v = binary_op(Value::string("a"), BinaryOp::Add, Value::secret("b")).expect("add");
        assert_eq!(v, Value::secret("ab"));
        let v = binary_op(Value::secret("a"), BinaryOp::Add, Value::string("b")).expect("add");
        assert_eq!(v, Value::secret("ab"));
    }

    #[test]
    fn int_min_div_minus_one_wraps() {
        let v = binary_op(Value::int(i64::MIN), BinaryOp::Div, Value::int(-1)).expect("div");
        assert_eq!(v, Value::int(i64::MIN));
    }
}
