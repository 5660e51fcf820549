//! Values as the control plane holds them: behind an `Arc`.
//!
//! Differential dataflow clones records freely — when it sorts and
//! consolidates updates, when a `reduce` gathers a node's inputs, and every
//! time its spines merge batches — and a [`Value`] is a tree of `BTreeMap`s
//! and `Vec`s, so each of those clones was a deep copy (and a deep drop).
//! Profiling a 10 k-component load showed most of its time there. Wrapping
//! exports and arguments in an `Arc` makes every such clone a reference count;
//! order, equality and hash are still the value's own, with a pointer check
//! first.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::syntax::Value;

/// A [`Value`] that is cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct SharedValue(pub Arc<Value>);

impl SharedValue {
    pub fn new(value: Value) -> Self {
        SharedValue(Arc::new(value))
    }
}

impl PartialEq for SharedValue {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for SharedValue {}

impl PartialOrd for SharedValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedValue {
    fn cmp(&self, other: &Self) -> Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            Ordering::Equal
        } else {
            self.0.cmp(&other.0)
        }
    }
}

impl Hash for SharedValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl Serialize for SharedValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.as_ref().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SharedValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(SharedValue::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_and_round_trips_like_the_value() {
        let a = SharedValue::new(Value::String("a".into()));
        let b = SharedValue::new(Value::String("b".into()));
        assert_eq!(a, a.clone());
        assert_eq!(a, SharedValue::new(Value::String("a".into())));
        assert!(a < b);
        let json = serde_json::to_string(&a).unwrap();
        let back: SharedValue = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        assert_eq!(*b.0, Value::String("b".into()));
    }
}
