//! The evaluator: AST expressions + a scope → [`Value`]s.
//!
//! In the data flow of `DESIGN.md` this sits between the parser and the
//! components: the controller builds a [`Scope`] holding the exports of the
//! components a block references, evaluates the block's attributes here, and
//! decodes the result into the component's typed arguments
//! ([`crate::syntax::decode`]). Errors are [`Diagnostic`]s positioned at the
//! offending node, with the node's text printed first as Alloy does.
//!
//! Evaluation is by reference where it can be: an identifier or a chain of
//! field accesses into the scope (`prometheus.remote_write.default.receiver`)
//! borrows from the scope and clones only the final value, so a large scope
//! is cheap to evaluate against.

pub mod error;
pub mod literal;
pub mod ops;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;

use crate::syntax::ast::Expr;
use crate::syntax::diag::Diagnostic;
use crate::syntax::stdlib;
use crate::syntax::token::SourceFile;
use crate::syntax::value::{Value, ValueType};

pub use error::{ErrorKind, PathSeg, ValueError};

/// Maximum expression nesting evaluated before giving up (the parser
/// allows the same depth).
const MAX_DEPTH: u32 = 512;

/// Feature stability levels, lowest first: a feature is allowed when its
/// level is at least the configured minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum StabilityLevel {
    Experimental,
    PublicPreview,
    #[default]
    GenerallyAvailable,
}

impl StabilityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            StabilityLevel::Experimental => "experimental",
            StabilityLevel::PublicPreview => "public-preview",
            StabilityLevel::GenerallyAvailable => "generally-available",
        }
    }
}

impl fmt::Display for StabilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Names visible to an expression, with an optional parent scope consulted
/// when a name is not found. Names not in any scope fall back to the
/// standard library.
///
/// The controller builds one scope per evaluation that borrows the
/// exports of the block's dependencies ([`Scope::borrow_path`]); a cheap
/// child ([`Scope::with_parent`]) holds anything local (a module's
/// arguments, a `foreach` variable).
#[derive(Debug, Default, Clone)]
pub struct Scope<'p> {
    vars: HashMap<String, Value>,
    /// Values at dotted paths, borrowed rather than copied in: component
    /// exports (`discovery.relabel.x` → its exports), which the controller
    /// holds anyway. See [`Scope::borrow_path`].
    borrowed: Vec<(&'p str, &'p Value)>,
    parent: Option<&'p Scope<'p>>,
}

impl<'p> Scope<'p> {
    pub fn new() -> Self {
        Scope::default()
    }

    pub fn with_parent(parent: &'p Scope<'p>) -> Self {
        Scope {
            vars: HashMap::new(),
            borrowed: Vec::new(),
            parent: Some(parent),
        }
    }

    pub fn from_vars(vars: impl IntoIterator<Item = (String, Value)>) -> Self {
        Scope {
            vars: vars.into_iter().collect(),
            borrowed: Vec::new(),
            parent: None,
        }
    }

    /// Make `value` visible at the dotted `path` (`a.b.c`) without copying
    /// it: as [`insert_path`](Self::insert_path) would, for a root name
    /// that holds nothing else. An access chain that names the whole path
    /// (`a.b.c.field`) reads the value in place; anything else naming the
    /// root (`a`, `a.b`) gets the objects on the way built on demand.
    pub fn borrow_path(&mut self, path: &'p str, value: &'p Value) {
        self.borrowed.push((path, value));
    }

    /// The value borrowed at exactly the path `segments` (root first), if
    /// its root is not a variable here or in a parent.
    fn borrowed_at(&self, segments: &[&str]) -> Option<&'p Value> {
        let root = segments.first()?;
        if self.lookup(root).is_some() {
            return None;
        }
        let mut scope = Some(self);
        while let Some(s) = scope {
            for (path, value) in &s.borrowed {
                if path.split('.').eq(segments.iter().copied()) {
                    return Some(value);
                }
            }
            scope = s.parent;
        }
        None
    }

    /// The object a root name stands for when only borrowed paths start
    /// with it: built (copied) on demand, for the rare expression that
    /// reads more than one whole path at once.
    fn borrowed_root(&self, root: &str) -> Option<Value> {
        let mut built = None;
        self.fill_borrowed_root(root, &mut built);
        built
    }

    /// Places this scope's borrowed paths under `root` into `built`, after
    /// the parents' so that a nearer scope's path wins, as with variables.
    fn fill_borrowed_root(&self, root: &str, built: &mut Option<Value>) {
        if let Some(parent) = self.parent {
            parent.fill_borrowed_root(root, built);
        }
        for (path, value) in &self.borrowed {
            let mut segments = path.split('.');
            if segments.next() != Some(root) {
                continue;
            }
            let rest: Vec<&str> = segments.collect();
            insert_at(built.get_or_insert(Value::Null), &rest, Value::clone(value));
        }
    }

    pub fn insert(&mut self, name: impl Into<String>, value: Value) {
        self.vars.insert(name.into(), value);
    }

    /// Place `value` at a dotted path, creating or merging objects on the
    /// way: `insert_path(&["prometheus", "remote_write", "default"], exports)`.
    /// A non-object already on the path is replaced.
    pub fn insert_path(&mut self, path: &[&str], value: Value) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let slot = self.vars.entry((*first).to_string()).or_insert(Value::Null);
        insert_at(slot, rest, value);
    }

    /// Look a name up here, then in the parents.
    pub fn lookup(&self, name: &str) -> Option<&Value> {
        let mut scope = Some(self);
        while let Some(s) = scope {
            if let Some(v) = s.vars.get(name) {
                return Some(v);
            }
            scope = s.parent;
        }
        None
    }
}

fn insert_at(slot: &mut Value, path: &[&str], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *slot = value;
        return;
    };
    if !matches!(slot, Value::Object(_)) {
        *slot = Value::Object(Default::default());
    }
    if let Value::Object(map) = slot {
        let next = map.entry((*first).to_string()).or_insert(Value::Null);
        insert_at(next, rest, value);
    }
}

/// Everything one evaluation needs: the file (to resolve positions and print
/// node text), the scope, the minimum stability level, and a place to
/// collect warnings (deprecated stdlib names) without printing them.
pub struct EvalContext<'a> {
    pub file: &'a SourceFile,
    pub scope: &'a Scope<'a>,
    pub stability: StabilityLevel,
    warnings: RefCell<Vec<Diagnostic>>,
    depth: Cell<u32>,
}

impl<'a> EvalContext<'a> {
    pub fn new(file: &'a SourceFile, scope: &'a Scope<'a>) -> Self {
        EvalContext {
            file,
            scope,
            stability: StabilityLevel::default(),
            warnings: RefCell::new(Vec::new()),
            depth: Cell::new(0),
        }
    }

    pub fn with_stability(mut self, stability: StabilityLevel) -> Self {
        self.stability = stability;
        self
    }

    /// Warnings collected so far (deprecations), in the order found.
    pub fn warnings(&self) -> Vec<Diagnostic> {
        self.warnings.borrow().clone()
    }

    /// Take the collected warnings, leaving none.
    pub fn take_warnings(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut *self.warnings.borrow_mut())
    }

    fn warn(&self, d: Diagnostic) {
        let mut w = self.warnings.borrow_mut();
        if !w.contains(&d) {
            w.push(d);
        }
    }

    /// Evaluate an expression to an owned value.
    pub fn eval(&self, expr: &Expr) -> Result<Value, Diagnostic> {
        self.eval_cow(expr).map(Cow::into_owned)
    }

    /// A diagnostic spanning `expr`.
    pub fn diag_at(&self, expr: &Expr, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.file.position(expr.start_pos()), message)
            .with_end(self.file.position(expr.end_pos()))
    }

    /// The source text of a node, as Alloy prints it in messages.
    pub fn node_text(&self, expr: &Expr) -> String {
        self.file
            .text(expr.start_pos(), expr.end_pos())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }

    /// Place a value error that is about the value `expr` produced: follow
    /// the error's path into literal arrays and objects so the most specific
    /// node is blamed, then print `<node text><rest of path> <message>`.
    pub fn locate(&self, expr: &Expr, err: &ValueError) -> Diagnostic {
        let mut node = expr;
        let mut path: &[PathSeg] = &err.path;
        while let Some((seg, rest)) = path.split_first() {
            let next = match (node, seg) {
                (Expr::Paren { inner, .. }, _) => {
                    node = inner;
                    continue;
                }
                (Expr::Object { fields, .. }, PathSeg::Field(name)) => fields
                    .iter()
                    .rev()
                    .find(|f| f.name.name == name.as_str())
                    .map(|f| &f.value),
                (Expr::Array { elements, .. }, PathSeg::Index(i)) => elements.get(*i),
                _ => None,
            };
            match next {
                Some(n) => {
                    node = n;
                    path = rest;
                }
                None => break,
            }
        }
        let rest: String = path.iter().map(|s| s.to_string()).collect();
        let message = format!("{}{} {}", self.node_text(node), rest, err.message());
        self.diag_at(node, message)
    }

    /// A value the scope borrows at the path an access chain of
    /// identifiers spells (`discovery.relabel.x`), read in place.
    fn borrowed_base(&self, expr: &Expr) -> Option<&'a Value> {
        // Component IDs have a handful of segments; longer chains are
        // evaluated the ordinary way.
        const MAX_SEGMENTS: usize = 8;
        let mut segments = [""; MAX_SEGMENTS];
        let mut n = 0;
        let mut node = expr;
        // Collected from the last segment back to the root.
        while let Expr::Access { value, name } = node {
            *segments.get_mut(n)? = name.name.as_str();
            n += 1;
            node = value;
        }
        let Expr::Identifier(root) = node else {
            return None;
        };
        *segments.get_mut(n)? = root.name.as_str();
        let segments = &mut segments[..=n];
        segments.reverse();
        self.scope.borrowed_at(segments)
    }

    fn eval_cow(&self, expr: &Expr) -> Result<Cow<'a, Value>, Diagnostic> {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return Err(self.diag_at(expr, "expression is nested too deeply"));
        }
        self.depth.set(depth + 1);
        // Grow the stack on demand so deep (but allowed) nesting cannot
        // overflow whatever thread the controller evaluates on.
        let res = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.eval_inner(expr));
        self.depth.set(depth);
        res
    }

    fn eval_inner(&self, expr: &Expr) -> Result<Cow<'a, Value>, Diagnostic> {
        match expr {
            Expr::Literal { kind, raw, .. } => literal::value_from_literal(*kind, raw)
                .map(Cow::Owned)
                .map_err(|m| self.diag_at(expr, m)),
            Expr::Identifier(ident) => {
                if let Some(v) = self.scope.lookup(&ident.name) {
                    return Ok(Cow::Borrowed(v));
                }
                if let Some(v) = self.scope.borrowed_root(&ident.name) {
                    return Ok(Cow::Owned(v));
                }
                if let Some(v) = stdlib::lookup(&ident.name) {
                    if stdlib::is_deprecated(&ident.name) {
                        self.warn(
                            Diagnostic::warning(
                                self.file.position(ident.pos),
                                "this stdlib function is deprecated; please refer to the documentation for updated usage and alternatives",
                            )
                            .with_end(self.file.position(ident.end_pos())),
                        );
                    }
                    return Ok(Cow::Borrowed(v));
                }
                Err(self.diag_at(
                    expr,
                    format!("identifier {:?} does not exist", ident.name.as_str()),
                ))
            }
            Expr::Paren { inner, .. } => self.eval_cow(inner),
            Expr::Array { elements, .. } => {
                let mut out = Vec::with_capacity(elements.len());
                for e in elements {
                    out.push(self.eval(e)?);
                }
                Ok(Cow::Owned(Value::Array(out)))
            }
            Expr::Object { fields, .. } => {
                let mut out = crate::syntax::Object::new();
                for f in fields {
                    let v = self.eval(&f.value)?;
                    out.insert(f.name.name.to_string(), v);
                }
                Ok(Cow::Owned(Value::Object(out)))
            }
            Expr::Access { value, name } => {
                let base = match self.borrowed_base(value) {
                    Some(v) => Cow::Borrowed(v),
                    None => self.eval_cow(value)?,
                };
                let missing = || {
                    Diagnostic::error(
                        self.file.position(name.pos),
                        format!("field {:?} does not exist", name.name.as_str()),
                    )
                    .with_end(self.file.position(name.end_pos()))
                };
                let result = match base {
                    Cow::Borrowed(Value::Object(map)) => {
                        Cow::Borrowed(map.get(name.name.as_str()).ok_or_else(missing)?)
                    }
                    Cow::Owned(Value::Object(mut map)) => {
                        Cow::Owned(map.remove(name.name.as_str()).ok_or_else(missing)?)
                    }
                    Cow::Borrowed(Value::Capsule(_)) | Cow::Owned(Value::Capsule(_)) => {
                        return Err(self.locate(
                            value,
                            &ValueError::msg(
                                "expected object or array or a capsule convertible to an object, got capsule",
                            ),
                        ))
                    }
                    other => {
                        return Err(self.locate(
                            value,
                            &ValueError::msg(format!(
                                "cannot access field {:?} on value of type {}",
                                name.name.as_str(),
                                other.value_type()
                            )),
                        ))
                    }
                };
                if let Value::Function(f) = result.as_ref() {
                    self.check_stability(expr, *f)?;
                }
                Ok(result)
            }
            Expr::Index {
                value,
                index: index_expr,
                ..
            } => {
                let base = self.eval_cow(value)?;
                let index = self.eval(index_expr)?;
                match base.as_ref() {
                    Value::Array(items) => {
                        let Value::Number(n) = &index else {
                            return Err(self.locate(
                                index_expr,
                                &ValueError::type_mismatch(ValueType::Number, &index),
                            ));
                        };
                        let i = n.as_i64();
                        if i < 0 || i as u64 >= items.len() as u64 {
                            return Err(self.locate(
                                index_expr,
                                &ValueError::msg(format!(
                                    "index {i} is out of range of array with length {}",
                                    items.len()
                                )),
                            ));
                        }
                        let i = i as usize;
                        Ok(match base {
                            Cow::Borrowed(Value::Array(items)) => Cow::Borrowed(&items[i]),
                            Cow::Owned(Value::Array(mut items)) => {
                                Cow::Owned(items.swap_remove(i))
                            }
                            _ => Cow::Owned(Value::Null),
                        })
                    }
                    Value::Object(_) => {
                        let Value::String(key) = &index else {
                            return Err(self.locate(
                                index_expr,
                                &ValueError::type_mismatch(ValueType::String, &index),
                            ));
                        };
                        Ok(match base {
                            Cow::Borrowed(Value::Object(map)) => {
                                map.get(key).map_or(Cow::Owned(Value::Null), Cow::Borrowed)
                            }
                            Cow::Owned(Value::Object(mut map)) => {
                                Cow::Owned(map.remove(key).unwrap_or(Value::Null))
                            }
                            _ => Cow::Owned(Value::Null),
                        })
                    }
                    Value::Capsule(_) => Err(self.locate(
                        value,
                        &ValueError::msg(
                            "expected object or array or a capsule convertible to an object, got capsule",
                        ),
                    )),
                    other => Err(self.locate(
                        value,
                        &ValueError::msg(format!(
                            "expected object or array, got {}",
                            other.value_type()
                        )),
                    )),
                }
            }
            Expr::Unary { op, value, .. } => {
                let v = self.eval(value)?;
                ops::unary_op(*op, v)
                    .map(Cow::Owned)
                    .map_err(|e| self.locate(value, &e))
            }
            Expr::Binary {
                op, left, right, ..
            } => {
                let l = self.eval(left)?;
                let r = self.eval(right)?;
                ops::binary_op(l, *op, r).map(Cow::Owned).map_err(|e| {
                    let node = if e.operand == Some(1) { right } else { left };
                    self.locate(node, &e)
                })
            }
            Expr::Call { value, args, .. } => {
                let callee = self.eval_cow(value)?;
                let Value::Function(f) = callee.as_ref() else {
                    return Err(self.locate(
                        value,
                        &ValueError::type_mismatch(ValueType::Function, &callee),
                    ));
                };
                let f = *f;
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a)?);
                }
                stdlib::call(f, vals, self).map(Cow::Owned).map_err(|e| {
                    let node = e.operand.and_then(|i| args.get(i)).unwrap_or(value);
                    self.locate(node, &e)
                })
            }
        }
    }

    fn check_stability(&self, expr: &Expr, f: stdlib::StdFn) -> Result<(), Diagnostic> {
        if f.is_experimental() && self.stability > StabilityLevel::Experimental {
            return Err(self.diag_at(
                expr,
                format!(
                    "{} is at stability level {:?}, which is below the minimum allowed stability level {:?}. Use --stability.level command-line flag to enable {:?} features",
                    f.name(),
                    StabilityLevel::Experimental.as_str(),
                    self.stability.as_str(),
                    StabilityLevel::Experimental.as_str(),
                ),
            ));
        }
        Ok(())
    }
}

/// Evaluate one expression against a context (see [`EvalContext::eval`]).
pub fn evaluate(expr: &Expr, ctx: &EvalContext<'_>) -> Result<Value, Diagnostic> {
    ctx.eval(expr)
}
