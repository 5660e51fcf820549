//! Reading a component's evaluated arguments.
//!
//! The control plane evaluates a block into a [`Value`] object: each attribute
//! under its name, each nested block under its name as an *array* of objects
//! (blocks may repeat). That object is what differential-dataflow compares to
//! decide whether a component needs an update. Components then read their
//! typed arguments out of it with these helpers, which turn conversion errors
//! into messages naming the attribute.

use super::ComponentError;
use crate::syntax::decode::FromValue;
use crate::syntax::{Object, Value};

/// A view over an evaluated block body.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    fields: Option<&'a Object>,
}

static EMPTY: Object = Object::new();

impl<'a> Args<'a> {
    pub fn new(value: &'a Value) -> Result<Self, ComponentError> {
        match value {
            Value::Object(fields) => Ok(Args {
                fields: Some(fields),
            }),
            Value::Null => Ok(Args { fields: None }),
            other => Err(ComponentError::args(format!(
                "expected a block body, got {}",
                other.value_type()
            ))),
        }
    }

    fn fields(&self) -> &'a Object {
        self.fields.unwrap_or(&EMPTY)
    }

    /// An optional attribute; absent or `null` gives `None`.
    pub fn opt<T: FromValue>(&self, name: &str) -> Result<Option<T>, ComponentError> {
        match self.fields().get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::from_value(v)
                .map(Some)
                .map_err(|e| ComponentError::args(format!("{name} {}", e.message()))),
        }
    }

    /// An optional attribute with a default.
    pub fn or<T: FromValue>(&self, name: &str, default: T) -> Result<T, ComponentError> {
        Ok(self.opt(name)?.unwrap_or(default))
    }

    /// A required attribute.
    pub fn required<T: FromValue>(&self, name: &str) -> Result<T, ComponentError> {
        self.opt(name)?
            .ok_or_else(|| ComponentError::args(format!("missing required attribute {name:?}")))
    }

    /// Every instance of a nested block.
    pub fn blocks(&self, name: &str) -> Vec<Args<'a>> {
        match self.fields().get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Object(fields) => Some(Args {
                        fields: Some(fields),
                    }),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// At most one instance of a nested block.
    pub fn block(&self, name: &str) -> Result<Option<Args<'a>>, ComponentError> {
        let mut blocks = self.blocks(name);
        match blocks.len() {
            0 => Ok(None),
            1 => Ok(blocks.pop()),
            _ => Err(ComponentError::args(format!(
                "block {name:?} may only be specified once"
            ))),
        }
    }
}

/// Replace `current` with freshly parsed arguments when they differ; true when
/// they did. The controller validates arguments before a running component
/// sees them, so a parse failure here only means "keep the last good ones":
/// it is logged and ignored.
pub fn replace_if_changed<A: PartialEq>(
    component: &str,
    current: &mut A,
    parsed: Result<A, ComponentError>,
) -> bool {
    match parsed {
        Ok(new) if new == *current => false,
        Ok(new) => {
            *current = new;
            true
        }
        Err(err) => {
            tracing::warn!(component, %err, "ignoring invalid arguments");
            false
        }
    }
}
