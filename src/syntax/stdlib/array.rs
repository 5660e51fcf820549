//! `array.*`: `concat`, and the experimental `combine_maps` and `group_by`
//! (the evaluator refuses those below the experimental stability level).

use std::collections::BTreeMap;

use crate::syntax::eval::ops::values_equal;
use crate::syntax::eval::{PathSeg, ValueError};
use crate::syntax::value::{Object, Value, ValueType};

/// `array.concat(a, b, ...)`: one array with every element, in order.
pub fn concat(args: Vec<Value>) -> Result<Value, ValueError> {
    for (i, a) in args.iter().enumerate() {
        if !matches!(a, Value::Array(_)) {
            return Err(ValueError::type_mismatch(ValueType::Array, a).on(i));
        }
    }
    let mut out = Vec::new();
    for a in args {
        if let Value::Array(items) = a {
            out.extend(items);
        }
    }
    Ok(Value::Array(out))
}

fn array_of_objects(args: &[Value], i: usize) -> Result<Vec<&Object>, ValueError> {
    let Value::Array(items) = &args[i] else {
        return Err(ValueError::type_mismatch(ValueType::Array, &args[i]).on(i));
    };
    items
        .iter()
        .enumerate()
        .map(|(j, item)| {
            item.try_as_object().ok_or_else(|| {
                ValueError::type_mismatch(ValueType::Object, item)
                    .within(PathSeg::Index(j))
                    .on(i)
            })
        })
        .collect()
}

/// `array.combine_maps(left, right, keys[, passthrough])`: for each pair of
/// objects agreeing on every key in `keys`, their union (right wins); with
/// `passthrough`, left objects without a match are kept.
pub fn combine_maps(args: &[Value]) -> Result<Value, ValueError> {
    if args.len() != 3 && args.len() != 4 {
        return Err(ValueError::msg(format!(
            "combine_maps: expected 3 or 4 arguments, got {}",
            args.len()
        )));
    }
    let left = array_of_objects(args, 0)?;
    let right = array_of_objects(args, 1)?;
    let Value::Array(conds) = &args[2] else {
        return Err(ValueError::type_mismatch(ValueType::Array, &args[2]).on(2));
    };
    if conds.is_empty() {
        return Err(ValueError::msg("combine_maps: merge conditions must not be empty").on(2));
    }
    let conds: Vec<String> = conds
        .iter()
        .map(|c| match c {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let passthrough = match args.get(3) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(ValueError::type_mismatch(ValueType::Bool, other).on(3)),
    };

    let mut out = Vec::new();
    for (i, l) in left.iter().enumerate() {
        for r in &right {
            let joins = conds.iter().all(|c| match (l.get(c), r.get(c)) {
                (Some(a), Some(b)) => values_equal(a, b),
                _ => false,
            });
            if joins {
                let mut merged = (*l).clone();
                merged.extend(r.iter().map(|(k, v)| (k.clone(), v.clone())));
                out.push(Value::Object(merged));
            } else if passthrough {
                if let Value::Array(items) = &args[0] {
                    out.push(items[i].clone());
                }
            }
        }
    }
    Ok(Value::Array(out))
}

/// `array.group_by(items, key, drop_missing)`: `[{<key> = v, items = [...]}]`
/// per distinct string value of `key`; objects without the key go to the
/// `""` group unless `drop_missing`. Groups are ordered by key (Alloy's
/// order is unspecified).
pub fn group_by(args: &[Value]) -> Result<Value, ValueError> {
    if args.len() != 3 {
        return Err(ValueError::msg(format!(
            "group_by: expected 3 arguments, got {}",
            args.len()
        )));
    }
    let items = array_of_objects(args, 0)?;
    let Value::String(key) = &args[1] else {
        return Err(ValueError::type_mismatch(ValueType::String, &args[1]).on(1));
    };
    let Value::Bool(drop_missing) = &args[2] else {
        return Err(ValueError::type_mismatch(ValueType::Bool, &args[2]).on(2));
    };
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        match item.get(key) {
            None if *drop_missing => {}
            None => groups
                .entry(String::new())
                .or_default()
                .push(Value::Object((*item).clone())),
            Some(Value::String(s)) => groups
                .entry(s.clone())
                .or_default()
                .push(Value::Object((*item).clone())),
            Some(other) => {
                return Err(ValueError::type_mismatch(ValueType::String, other)
                    .within(PathSeg::Field(key.clone()))
                    .within(PathSeg::Index(i))
                    .on(0))
            }
        }
    }
    Ok(Value::Array(
        groups
            .into_iter()
            .map(|(k, items)| {
                Value::object([
                    (key.clone(), Value::String(k)),
                    ("items".into(), Value::Array(items)),
                ])
            })
            .collect(),
    ))
}
