//! Values: what an evaluated Alloy expression is.
//!
//! The evaluator ([`super::eval`]) produces [`Value`]s from the AST; component
//! arguments are decoded from them ([`super::decode`]) and component exports are
//! placed back into the evaluation scope as values. Because evaluated arguments
//! and exports live in differential-dataflow collections (to detect "arguments
//! unchanged" cheaply), `Value` is totally ordered, hashable and serialisable.
//! That structural order is *not* Alloy's `==` (where `3 == 3.0`); the
//! operator semantics live in `eval::ops`.
//!
//! Secrets are capsules whose `Debug`/`Display` print `(secret)`, so a value
//! can be logged without leaking them.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use super::stdlib::StdFn;

/// Alloy's value types, named as Alloy prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueType {
    Null,
    Number,
    String,
    Bool,
    Array,
    Object,
    Function,
    Capsule,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Null => "null",
            ValueType::Number => "number",
            ValueType::String => "string",
            ValueType::Bool => "bool",
            ValueType::Array => "array",
            ValueType::Object => "object",
            ValueType::Function => "function",
            ValueType::Capsule => "capsule",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a number, from narrowest to widest: binary operators convert
/// both operands to the wider kind (uint < int < float).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NumberKind {
    Uint,
    Int,
    Float,
}

/// An Alloy number, keeping the kind it was produced with.
///
/// Equality, order and hash are *structural* and total: `Int(3) != Float(3.0)`,
/// floats compare by [`f64::total_cmp`] after `-0.0` is folded into `0.0` and
/// every NaN into one NaN.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub enum Number {
    Int(i64),
    Uint(u64),
    Float(f64),
}

fn canonical_f64(f: f64) -> f64 {
    if f.is_nan() {
        f64::NAN
    } else if f == 0.0 {
        0.0
    } else {
        f
    }
}

impl Number {
    pub fn kind(&self) -> NumberKind {
        match self {
            Number::Int(_) => NumberKind::Int,
            Number::Uint(_) => NumberKind::Uint,
            Number::Float(_) => NumberKind::Float,
        }
    }

    /// As Go's `int64(x)`: floats truncate (saturating), uints wrap.
    pub fn as_i64(&self) -> i64 {
        match *self {
            Number::Int(i) => i,
            Number::Uint(u) => u as i64,
            Number::Float(f) => f as i64,
        }
    }

    /// As Go's `uint64(x)`: negative ints wrap, floats truncate (saturating).
    pub fn as_u64(&self) -> u64 {
        match *self {
            Number::Int(i) => i as u64,
            Number::Uint(u) => u,
            Number::Float(f) => f as u64,
        }
    }

    pub fn as_f64(&self) -> f64 {
        match *self {
            Number::Int(i) => i as f64,
            Number::Uint(u) => u as f64,
            Number::Float(f) => f,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Number::Int(_) => 0,
            Number::Uint(_) => 1,
            Number::Float(_) => 2,
        }
    }
}

/// Formats like Go's `strconv.Format*` (floats: `'f'`, shortest precision),
/// which is how Alloy converts a number to a string.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Uint(u) => write!(f, "{u}"),
            Number::Float(x) if x.is_nan() => f.write_str("NaN"),
            Number::Float(x) if x.is_infinite() => {
                f.write_str(if x > 0.0 { "+Inf" } else { "-Inf" })
            }
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "Int({i})"),
            Number::Uint(u) => write!(f, "Uint({u})"),
            Number::Float(x) => write!(f, "Float({x:?})"),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a.cmp(b),
            (Number::Uint(a), Number::Uint(b)) => a.cmp(b),
            (Number::Float(a), Number::Float(b)) => canonical_f64(*a).total_cmp(&canonical_f64(*b)),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match *self {
            Number::Int(i) => i.hash(state),
            Number::Uint(u) => u.hash(state),
            Number::Float(x) => canonical_f64(x).to_bits().hash(state),
        }
    }
}

/// Identifies one export of a component that receives data, e.g. the
/// `receiver` export of `prometheus.remote_write.default`. The data-plane
/// builder turns each handle found in `forward_to` into a dataflow edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReceiverId {
    /// The component's node ID, e.g. `prometheus.remote_write.default`.
    pub component: String,
    /// The export's name, e.g. `receiver`.
    pub export: String,
}

/// Any other component-exported handle, identified by kind and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpaqueHandle {
    pub kind: String,
    pub id: String,
}

/// Values that Alloy code can pass around but not look into.
///
/// The two-string handles are boxed: a `Capsule` is then no wider than a
/// `String` and a flag, which keeps [`Value`] at 32 bytes — every array
/// element and every slot of every object is a `Value`, and a
/// 100 k-component graph holds millions of them.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Capsule {
    /// A sensitive string; prints as `(secret)`.
    Secret(String),
    /// A string that may or may not be sensitive (Alloy's `OptionalSecret`).
    OptionalSecret { value: String, is_secret: bool },
    /// A handle to a component's receiver (`forward_to = [x.receiver]`).
    Receiver(Box<ReceiverId>),
    /// Any other component-exported handle.
    Opaque(Box<OpaqueHandle>),
}

impl Capsule {
    /// Go-style description used in messages (`capsule("alloytypes.Secret")`).
    pub fn describe(&self) -> String {
        let inner = match self {
            Capsule::Secret(_) => "alloytypes.Secret",
            Capsule::OptionalSecret { .. } => "alloytypes.OptionalSecret",
            Capsule::Receiver(_) => "receiver",
            Capsule::Opaque(handle) => handle.kind.as_str(),
        };
        format!("capsule({inner:?})")
    }
}

impl fmt::Debug for Capsule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capsule::Secret(_) => f.write_str("(secret)"),
            Capsule::OptionalSecret {
                is_secret: true, ..
            } => f.write_str("(secret)"),
            Capsule::OptionalSecret { value, .. } => write!(f, "{value:?}"),
            Capsule::Receiver(r) => write!(f, "receiver({}.{})", r.component, r.export),
            Capsule::Opaque(h) => write!(f, "capsule({}:{})", h.kind, h.id),
        }
    }
}

impl fmt::Display for Capsule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The fields of an Alloy object, sorted by key.
///
/// A flat sorted vector rather than a `BTreeMap`: the objects of a
/// configuration (arguments, a block, a target's labels) hold a handful of
/// keys, where a `BTreeMap` allocates an 11-slot node per object (≈ 600
/// bytes) and one more per level of nesting; a 100 k-component graph holds
/// several of them per component. Look-ups are a binary search; building
/// from an iterator sorts once, later keys replacing earlier ones as in a
/// `BTreeMap`.
pub type Object = litemap::LiteMap<String, Value>;

/// An evaluated Alloy value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    /// Alloy objects are unordered maps; keys are kept sorted.
    Object(Object),
    /// A standard-library function; compared by name.
    Function(StdFn),
    Capsule(Capsule),
}

impl Value {
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Null => ValueType::Null,
            Value::Bool(_) => ValueType::Bool,
            Value::Number(_) => ValueType::Number,
            Value::String(_) => ValueType::String,
            Value::Array(_) => ValueType::Array,
            Value::Object(_) => ValueType::Object,
            Value::Function(_) => ValueType::Function,
            Value::Capsule(_) => ValueType::Capsule,
        }
    }

    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    pub fn uint(u: u64) -> Value {
        Value::Number(Number::Uint(u))
    }

    pub fn float(f: f64) -> Value {
        Value::Number(Number::Float(f))
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn secret(s: impl Into<String>) -> Value {
        Value::Capsule(Capsule::Secret(s.into()))
    }

    pub fn receiver(component: impl Into<String>, export: impl Into<String>) -> Value {
        Value::Capsule(Capsule::Receiver(Box::new(ReceiverId {
            component: component.into(),
            export: export.into(),
        })))
    }

    /// Build an object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(fields: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Some capsules can be read as objects (Alloy's `TryConvertToObject`).
    /// None of smelter's capsules can yet; the hook is here for ones that will.
    pub fn try_as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Alloy's `Describe`: the type, with a capsule's inner type.
    pub fn describe(&self) -> String {
        match self {
            Value::Capsule(c) => c.describe(),
            v => v.value_type().to_string(),
        }
    }

    /// Go's zero-value test as `coalesce` uses it.
    pub(crate) fn is_zero(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Number(n) => match *n {
                Number::Int(i) => i == 0,
                Number::Uint(u) => u == 0,
                Number::Float(f) => f == 0.0,
            },
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            Value::Function(_) => false,
            Value::Capsule(c) => match c {
                Capsule::Secret(s) => s.is_empty(),
                Capsule::OptionalSecret { value, is_secret } => value.is_empty() && !is_secret,
                _ => false,
            },
        }
    }
}

/// Alloy syntax for the value (as `alloy fmt` would print it); secrets show
/// as `(secret)`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::String(s) => f.write_str(&crate::syntax::parser::go_quote(s)),
            Value::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Object(o) => {
                f.write_str("{")?;
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} = {v}", crate::syntax::parser::go_quote(k))?;
                }
                f.write_str("}")
            }
            Value::Function(func) => write!(f, "function({})", func.name()),
            Value::Capsule(c) => write!(f, "{c}"),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::int(i)
    }
}

impl From<u64> for Value {
    fn from(u: u64) -> Self {
        Value::uint(u)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::float(x)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

/// Convert JSON (from `encoding.from_json`, `json_path`) into a value the way
/// Go's `encoding/json` does: every number is a float.
pub fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(a) => Value::Array(a.into_iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every array element and object slot is a `Value`: see [`Capsule`].
    #[test]
    fn a_value_is_four_words() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn secrets_do_not_print() {
        let v = Value::secret("hunter2");
        assert_eq!(format!("{v:?}"), "Capsule((secret))");
        assert_eq!(v.to_string(), "(secret)");
        let o = Value::object([("password", v)]);
        assert!(!format!("{o:?} {o}").contains("hunter2"));
    }

    #[test]
    fn float_order_is_total() {
        let mut v = [
            Value::float(f64::NAN),
            Value::float(1.0),
            Value::float(-0.0),
            Value::float(0.0),
        ];
        v.sort();
        assert_eq!(Value::float(-0.0), Value::float(0.0));
        assert_eq!(Value::float(f64::NAN), Value::float(-f64::NAN));
        assert_ne!(Value::int(3), Value::float(3.0));
        assert!(Value::int(1) < Value::string("a"));
    }

    #[test]
    fn number_display_like_go() {
        assert_eq!(Number::Float(1.5).to_string(), "1.5");
        assert_eq!(Number::Float(1e21).to_string(), "1000000000000000000000");
        assert_eq!(Number::Float(3.0).to_string(), "3");
        assert_eq!(Number::Uint(u64::MAX).to_string(), "18446744073709551615");
    }

    #[test]
    fn serde_roundtrip() {
        let v = Value::object([
            ("a", Value::from(vec![1i64, 2])),
            (
                "r",
                Value::receiver("prometheus.remote_write.default", "receiver"),
            ),
        ]);
        let s = serde_json::to_string(&v).expect("serialize");
        let back: Value = serde_json::from_str(&s).expect("deserialize");
        assert_eq!(v, back);
    }
}
