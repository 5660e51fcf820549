//! Decoding evaluated blocks into typed Rust structs: the bridge from the
//! evaluator to a component's `Arguments`.
//!
//! Components implement [`FromBlock`] by hand with a [`BlockDecoder`]: each
//! accessor (`required_attr`, `attr_or`, `blocks`, …) evaluates the named
//! attribute or nested block and converts it with [`FromValue`], which
//! applies Alloy's conversions (number ↔ string, `null` → default, Go
//! duration strings, secrets). Accessors never stop at the first problem:
//! errors are collected, and [`BlockDecoder::finish`] adds the unknown,
//! duplicate and missing names and returns every diagnostic at once, each
//! positioned in the file, so one `smelter validate` run shows all of them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use crate::syntax::ast::{AttributeStmt, BlockStmt, Stmt};
use crate::syntax::diag::{Diagnostic, Diagnostics};
use crate::syntax::eval::{EvalContext, PathSeg, ValueError};
use crate::syntax::token::Pos;
use crate::syntax::value::{Capsule, Number, ReceiverId, Value, ValueType};

/// Conversion from an evaluated value, with Alloy's implicit conversions.
/// Errors carry the path inside the value so they can be placed precisely.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self, ValueError>;
}

/// A sensitive string (Alloy's `alloytypes.Secret`); never printed.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(secret)")
    }
}

/// A string that may be sensitive (Alloy's `alloytypes.OptionalSecret`).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptionalSecret {
    pub value: String,
    pub is_secret: bool,
}

impl fmt::Debug for OptionalSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_secret {
            f.write_str("(secret)")
        } else {
            write!(f, "{:?}", self.value)
        }
    }
}

/// Alloy's value conversion towards a string: numbers format, optional
/// secrets that are not secret unwrap.
pub fn to_string_value(v: &Value) -> Result<String, ValueError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Capsule(Capsule::OptionalSecret {
            value,
            is_secret: false,
        }) => Ok(value.clone()),
        Value::Capsule(Capsule::Secret(_) | Capsule::OptionalSecret { .. }) => {
            Err(ValueError::msg("secrets may not be converted into strings"))
        }
        other => Err(ValueError::type_mismatch(ValueType::String, other)),
    }
}

/// Alloy's value conversion towards a number: strings parse (a leading `-`
/// → int, containing `.eE` → float, else uint).
pub fn to_number(v: &Value) -> Result<Number, ValueError> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::Null => Ok(Number::Int(0)),
        Value::String(s) => {
            let bad = || ValueError::type_mismatch(ValueType::Number, v);
            if s.is_empty() {
                Err(bad())
            } else if s.starts_with('-') {
                parse_go_int(s).map(Number::Int).ok_or_else(bad)
            } else if s.contains(['.', 'e', 'E']) {
                crate::syntax::eval::literal::parse_go_float(s)
                    .map(Number::Float)
                    .map_err(|_| bad())
            } else if s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<u64>().map(Number::Uint).map_err(|_| bad())
            } else {
                Err(bad())
            }
        }
        Value::Capsule(Capsule::OptionalSecret {
            value,
            is_secret: false,
        }) => to_number(&Value::String(value.clone())),
        other => Err(ValueError::type_mismatch(ValueType::Number, other)),
    }
}

fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

impl FromValue for Value {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        Ok(v.clone())
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        to_string_value(v)
    }
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::Null => Ok(false),
            other => Err(ValueError::type_mismatch(ValueType::Bool, other)),
        }
    }
}

macro_rules! from_value_int {
    ($($t:ty => $via:ident),*) => {$(
        impl FromValue for $t {
            /// Like Go's numeric conversion: out-of-range values wrap.
            fn from_value(v: &Value) -> Result<Self, ValueError> {
                Ok(to_number(v)?.$via() as $t)
            }
        }
    )*};
}

from_value_int!(i64 => as_i64, i32 => as_i64, isize => as_i64, u64 => as_u64, u32 => as_u64, u16 => as_u64, usize => as_u64, f64 => as_f64, f32 => as_f64);

impl FromValue for Number {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        to_number(v)
    }
}

impl FromValue for Duration {
    /// A Go duration string (`1h30m`, `500ms`, `1.5s`); a number is read
    /// as its string form (so `5` fails with "missing unit", as in Alloy).
    /// Negative durations are rejected: `std::time::Duration` cannot hold them.
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        if v.is_null() {
            return Ok(Duration::ZERO);
        }
        let s = to_string_value(v)?;
        let nanos = parse_go_duration(&s).map_err(ValueError::msg)?;
        if nanos < 0 {
            return Err(ValueError::msg(format!(
                "duration {} must not be negative",
                crate::syntax::parser::go_quote(&s)
            )));
        }
        Ok(Duration::from_nanos(nanos as u64))
    }
}

impl FromValue for Secret {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        match v {
            Value::Capsule(Capsule::Secret(s)) => Ok(Secret(s.clone())),
            Value::Capsule(Capsule::OptionalSecret { value, .. }) => Ok(Secret(value.clone())),
            Value::String(s) => Ok(Secret(s.clone())),
            Value::Null => Ok(Secret::default()),
            Value::Number(n) => Ok(Secret(n.to_string())),
            other => Err(ValueError::type_mismatch(ValueType::Capsule, other)),
        }
    }
}

impl FromValue for OptionalSecret {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        match v {
            Value::Capsule(Capsule::Secret(s)) => Ok(OptionalSecret {
                value: s.clone(),
                is_secret: true,
            }),
            Value::Capsule(Capsule::OptionalSecret { value, is_secret }) => Ok(OptionalSecret {
                value: value.clone(),
                is_secret: *is_secret,
            }),
            other => Ok(OptionalSecret {
                value: to_string_value(other)?,
                is_secret: false,
            }),
        }
    }
}

impl FromValue for ReceiverId {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        match v {
            Value::Capsule(Capsule::Receiver(r)) => Ok(ReceiverId::clone(r)),
            other => Err(ValueError::msg(format!(
                "expected capsule(\"receiver\"), got {}",
                other.describe()
            ))),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        if v.is_null() {
            Ok(None)
        } else {
            T::from_value(v).map(Some)
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| T::from_value(item).map_err(|e| e.within(PathSeg::Index(i))))
                .collect(),
            other => Err(ValueError::type_mismatch(ValueType::Array, other)),
        }
    }
}

impl<T: FromValue> FromValue for BTreeMap<String, T> {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        match v {
            Value::Null => Ok(BTreeMap::new()),
            Value::Object(map) => map
                .iter()
                .map(|(k, item)| {
                    T::from_value(item)
                        .map(|t| (k.clone(), t))
                        .map_err(|e| e.within(PathSeg::Field(k.clone())))
                })
                .collect(),
            other => Err(ValueError::type_mismatch(ValueType::Object, other)),
        }
    }
}

impl<T: FromValue> FromValue for HashMap<String, T> {
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        Ok(BTreeMap::<String, T>::from_value(v)?.into_iter().collect())
    }
}

/// Parse a Go duration string (`time.ParseDuration`) to nanoseconds.
/// Error texts match Go's.
pub fn parse_go_duration(s: &str) -> Result<i64, String> {
    let quoted = crate::syntax::parser::go_quote(s);
    let invalid = || format!("time: invalid duration {quoted}");
    let mut rest = s;
    let neg = match rest.as_bytes().first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        // Integer part.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..n];
            rest = &r[n..];
            if int_len == 0 && n == 0 {
                return Err(invalid());
            }
        } else if int_len == 0 {
            return Err(invalid());
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {quoted}"));
        }
        let scale: u64 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3600 * 1_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {quoted}",
                    crate::syntax::parser::go_quote(unit)
                ))
            }
        };
        let int_val: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut v = int_val.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            // Fraction digits beyond what fits are dropped, as in Go.
            let mut f: u64 = 0;
            let mut fscale: f64 = 1.0;
            for d in frac_part.bytes() {
                if f > (1u64 << 63) / 10 {
                    break;
                }
                f = f * 10 + u64::from(d - b'0');
                fscale *= 10.0;
            }
            v = v
                .checked_add((f as f64 * (scale as f64 / fscale)) as u64)
                .ok_or_else(invalid)?;
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > i64::MAX as u64 + u64::from(neg) {
            return Err(invalid());
        }
    }
    Ok(if neg {
        (total as i64).wrapping_neg()
    } else {
        total as i64
    })
}

/// A struct decoded from a block body.
pub trait FromBlock: Sized {
    /// Read every field through `d`; problems are recorded in `d`, so this
    /// always returns a value (defaults where a field failed).
    fn decode_block(d: &mut BlockDecoder<'_, '_>) -> Self;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Attr,
    Block,
}

/// Reads one block body field by field. See the module docs.
pub struct BlockDecoder<'c, 'a> {
    ctx: &'c EvalContext<'a>,
    body: &'c [Stmt],
    /// Where "missing" errors point: the block header, or nothing for a
    /// file body.
    header: Option<(Pos, Pos)>,
    label: &'c str,
    expected: HashMap<String, Expect>,
    diags: Diagnostics,
}

impl<'c, 'a> BlockDecoder<'c, 'a> {
    /// A decoder for a block's body.
    pub fn new(ctx: &'c EvalContext<'a>, block: &'c BlockStmt) -> Self {
        BlockDecoder {
            ctx,
            body: &block.body,
            header: Some((block.name_pos, block.header_end())),
            label: &block.label,
            expected: HashMap::new(),
            diags: Diagnostics::default(),
        }
    }

    /// A decoder for a bare body (e.g. a whole file).
    pub fn for_body(ctx: &'c EvalContext<'a>, body: &'c [Stmt]) -> Self {
        BlockDecoder {
            ctx,
            body,
            header: None,
            label: "",
            expected: HashMap::new(),
            diags: Diagnostics::default(),
        }
    }

    pub fn ctx(&self) -> &'c EvalContext<'a> {
        self.ctx
    }

    /// The block's label (empty when none).
    pub fn label(&self) -> &str {
        self.label
    }

    /// Record a validation error about the whole block.
    pub fn error(&mut self, message: impl Into<String>) {
        let d = self.header_diag(message);
        self.diags.push(d);
    }

    /// Record a validation error about one attribute's value (positioned
    /// at its expression), e.g. after a range check.
    pub fn attr_error(&mut self, name: &str, message: impl Into<String>) {
        let message = message.into();
        let found = self.attrs(name).next();
        match found {
            Some(a) => {
                let d = self.ctx.diag_at(&a.value, message);
                self.diags.push(d);
            }
            None => self.error(message),
        }
    }

    fn header_diag(&self, message: impl Into<String>) -> Diagnostic {
        match self.header {
            Some((s, e)) => Diagnostic::error(self.ctx.file.position(s), message)
                .with_end(self.ctx.file.position(e)),
            None => Diagnostic::error(Default::default(), message),
        }
    }

    fn attrs<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'c AttributeStmt> + 's {
        self.body.iter().filter_map(move |s| match s {
            Stmt::Attribute(a) if a.name.name == name => Some(a),
            _ => None,
        })
    }

    fn blocks_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'c BlockStmt> + 's {
        self.body.iter().filter_map(move |s| match s {
            Stmt::Block(b) if b.full_name() == name => Some(b),
            _ => None,
        })
    }

    fn decode_attr<T: FromValue>(&mut self, name: &str) -> Option<T> {
        self.expected.insert(name.to_string(), Expect::Attr);
        let attr = self.attrs(name).next()?;
        let value = match self.ctx.eval(&attr.value) {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                return None;
            }
        };
        match T::from_value(&value) {
            Ok(t) => Some(t),
            Err(e) => {
                let d = self.ctx.locate(&attr.value, &e);
                self.diags.push(d);
                None
            }
        }
    }

    fn is_present(&self, name: &str) -> bool {
        self.attrs(name).next().is_some()
    }

    /// An optional attribute: `None` when absent (or when it failed; the
    /// failure is recorded).
    pub fn attr<T: FromValue>(&mut self, name: &str) -> Option<T> {
        self.decode_attr(name)
    }

    /// An optional attribute with a default.
    pub fn attr_or<T: FromValue>(&mut self, name: &str, default: T) -> T {
        self.decode_attr(name).unwrap_or(default)
    }

    /// A required attribute; when absent `missing required attribute` is
    /// recorded and `T::default()` returned.
    pub fn required_attr<T: FromValue + Default>(&mut self, name: &str) -> T {
        if !self.is_present(name) {
            self.expected.insert(name.to_string(), Expect::Attr);
            if !self.blocks_named(name).any(|_| true) {
                self.error(format!("missing required attribute {name:?}"));
            }
            return T::default();
        }
        self.decode_attr(name).unwrap_or_default()
    }

    fn decode_one_block<T: FromBlock>(&mut self, block: &'c BlockStmt) -> T {
        let mut child = BlockDecoder::new(self.ctx, block);
        let t = T::decode_block(&mut child);
        let diags = child.into_diagnostics();
        self.diags.extend(diags);
        t
    }

    /// An optional block that may appear at most once.
    pub fn block<T: FromBlock>(&mut self, name: &str) -> Option<T> {
        self.expected.insert(name.to_string(), Expect::Block);
        let found: Vec<&'c BlockStmt> = self.blocks_named(name).collect();
        for extra in found.iter().skip(1) {
            let d = Diagnostic::error(
                self.ctx.file.position(extra.name_pos),
                format!("block {name:?} may only be specified once"),
            )
            .with_end(self.ctx.file.position(extra.rcurly));
            self.diags.push(d);
        }
        let first = found.first()?;
        Some(self.decode_one_block(first))
    }

    /// A required block that must appear exactly once.
    pub fn required_block<T: FromBlock + Default>(&mut self, name: &str) -> T {
        match self.block(name) {
            Some(t) => t,
            None => {
                if !self.is_present(name) {
                    self.error(format!("missing required block {name:?}"));
                }
                T::default()
            }
        }
    }

    /// A block that may be repeated, in file order.
    pub fn blocks<T: FromBlock>(&mut self, name: &str) -> Vec<T> {
        self.expected.insert(name.to_string(), Expect::Block);
        let found: Vec<&'c BlockStmt> = self.blocks_named(name).collect();
        found
            .into_iter()
            .map(|b| self.decode_one_block(b))
            .collect()
    }

    fn check_statements(&mut self) {
        let mut seen_attrs: HashMap<&str, ()> = HashMap::new();
        for stmt in self.body {
            let (start, end) = (stmt.start_pos(), stmt.end_pos());
            let at = |m: String| {
                Diagnostic::error(self.ctx.file.position(start), m)
                    .with_end(self.ctx.file.position(end))
            };
            let d = match stmt {
                Stmt::Attribute(a) => {
                    let name = a.name.name.as_str();
                    if seen_attrs.insert(name, ()).is_some() {
                        Some(at(format!("attribute {name:?} may only be provided once")))
                    } else {
                        match self.expected.get(name) {
                            None => Some(at(format!("unrecognized attribute name {name:?}"))),
                            Some(Expect::Block) => Some(at(format!(
                                "{name:?} must be a block, but is used as an attribute"
                            ))),
                            Some(Expect::Attr) => None,
                        }
                    }
                }
                Stmt::Block(b) => {
                    let name = b.full_name();
                    match self.expected.get(&name) {
                        None => Some(at(format!("unrecognized block name {name:?}"))),
                        Some(Expect::Attr) => Some(at(format!(
                            "{name:?} must be an attribute, but is used as a block"
                        ))),
                        Some(Expect::Block) => None,
                    }
                }
            };
            if let Some(d) = d {
                self.diags.push(d);
            }
        }
    }

    fn into_diagnostics(mut self) -> Diagnostics {
        self.check_statements();
        let mut all = std::mem::take(&mut self.diags).0;
        all.sort_by_key(|d| d.start.offset);
        Diagnostics(all)
    }

    /// Report everything found: conversion errors, unknown or misused names,
    /// duplicates and missing required fields, sorted by position.
    pub fn finish(self) -> Result<(), Diagnostics> {
        let diags = self.into_diagnostics();
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(())
        }
    }
}

/// Decode a block into `T`, or every problem found.
pub fn decode_block<T: FromBlock>(
    ctx: &EvalContext<'_>,
    block: &BlockStmt,
) -> Result<T, Diagnostics> {
    let mut d = BlockDecoder::new(ctx, block);
    let t = T::decode_block(&mut d);
    d.finish().map(|()| t)
}

/// Decode a bare body (e.g. a file's top level) into `T`.
pub fn decode_body<T: FromBlock>(ctx: &EvalContext<'_>, body: &[Stmt]) -> Result<T, Diagnostics> {
    let mut d = BlockDecoder::for_body(ctx, body);
    let t = T::decode_block(&mut d);
    d.finish().map(|()| t)
}

#[cfg(test)]
mod tests;
