//! Evaluated values as the UI API's JSON.
//!
//! Component arguments and exports are [`Value`]s; this is the one place they
//! become JSON for the outside world, so it is also where secrets are
//! redacted (DESIGN.md: "Secrets never print in logs, UI or API").
//! [`super::ComponentInfo`] serializes its values only through here.

use serde::Serializer;
use serde_json::Value as Json;

use crate::syntax::value::{Capsule, Number};
use crate::syntax::Value;

/// What a secret shows as.
pub const REDACTED: &str = "(secret)";

/// Render `v` as JSON: numbers as JSON numbers (NaN and infinities, which
/// JSON cannot hold, as the strings `"NaN"`, `"+Inf"`, `"-Inf"`), objects
/// with sorted keys, secrets as `"(secret)"`, receivers as
/// `"receiver(<component id>)"`, functions as `"function(<name>)"`.
pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => number_to_json(*n),
        Value::String(s) => Json::String(s.clone()),
        Value::Array(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Object(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), value_to_json(v)))
                .collect(),
        ),
        Value::Function(f) => Json::String(format!("function({})", f.name())),
        Value::Capsule(c) => Json::String(capsule_to_string(c)),
    }
}

fn number_to_json(n: Number) -> Json {
    match n {
        Number::Int(i) => Json::from(i),
        Number::Uint(u) => Json::from(u),
        Number::Float(f) => match serde_json::Number::from_f64(f) {
            Some(n) => Json::Number(n),
            None if f.is_nan() => Json::String("NaN".into()),
            None if f > 0.0 => Json::String("+Inf".into()),
            None => Json::String("-Inf".into()),
        },
    }
}

fn capsule_to_string(c: &Capsule) -> String {
    match c {
        Capsule::Secret(_)
        | Capsule::OptionalSecret {
            is_secret: true, ..
        } => REDACTED.to_string(),
        Capsule::OptionalSecret { value, .. } => value.clone(),
        Capsule::Receiver(r) => format!("receiver({})", r.component),
        Capsule::Opaque(h) => format!("capsule({}:{})", h.kind, h.id),
    }
}

/// `serialize_with` for `Option<Value>` fields: through [`value_to_json`].
pub(super) fn serialize_opt_value<S: Serializer>(
    v: &Option<Value>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_some(&value_to_json(v)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_and_renders() {
        let v = Value::object([
            ("password", Value::secret("hunter2")),
            (
                "user",
                Value::Capsule(Capsule::OptionalSecret {
                    value: "bob".into(),
                    is_secret: false,
                }),
            ),
            (
                "token",
                Value::Capsule(Capsule::OptionalSecret {
                    value: "t0k".into(),
                    is_secret: true,
                }),
            ),
            (
                "forward_to",
                Value::Array(vec![Value::receiver("prometheus.relabel.x", "receiver")]),
            ),
            ("n", Value::int(-3)),
            ("u", Value::uint(u64::MAX)),
            ("f", Value::float(1.5)),
            ("nan", Value::float(f64::NAN)),
            ("inf", Value::float(f64::INFINITY)),
            ("ninf", Value::float(f64::NEG_INFINITY)),
            ("null", Value::Null),
        ]);
        assert_eq!(
            value_to_json(&v),
            json!({
                "password": "(secret)",
                "user": "bob",
                "token": "(secret)",
                "forward_to": ["receiver(prometheus.relabel.x)"],
                "n": -3,
                "u": u64::MAX,
                "f": 1.5,
                "nan": "NaN",
                "inf": "+Inf",
                "ninf": "-Inf",
                "null": null,
            })
        );
        assert!(!value_to_json(&v).to_string().contains("hunter2"));
    }
}
