//! References between blocks: the dotted name chains (`a.b.c`) in a body,
//! and the standard-library names that are not references.
//!
//! A block depends on another when one of its expressions starts with the
//! other's node ID. The graph loader finds those candidates here: each
//! uninterrupted chain of identifier and field accesses is a [`Traversal`];
//! indexing or calling ends the chain. Resolution against node IDs lives in
//! `graph.rs`; what is left over must be a scope name or a stdlib name.

use crate::syntax::ast::{Body, Expr, Ident, Stmt};

/// A chain of names, e.g. `prometheus.relabel.default.receiver`.
pub type Traversal = Vec<Ident>;

/// The dotted form of (part of) a traversal.
pub fn dotted(t: &[Ident]) -> String {
    let mut s = String::new();
    for (i, id) in t.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(&id.name);
    }
    s
}

/// Every traversal in `body`, nested blocks included, in source order.
pub fn traversals_from_body(body: &Body) -> Vec<Traversal> {
    let mut w = Walker::default();
    w.body(body);
    w.flush();
    w.out
}

#[derive(Default)]
struct Walker {
    out: Vec<Traversal>,
    building: bool,
    current: Traversal,
}

impl Walker {
    fn body(&mut self, body: &Body) {
        for stmt in body {
            match stmt {
                Stmt::Attribute(a) => self.expr(&a.value),
                Stmt::Block(b) => self.body(&b.body),
            }
        }
    }

    // Mirrors Alloy's walker exactly, including that a chain is only ended
    // by a new identifier, an index or a call, so the output (and thus the
    // diagnostic order) is the same.
    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Identifier(id) => {
                self.flush();
                self.building = true;
                self.current.push(id.clone());
            }
            Expr::Access { value, name } => {
                self.expr(value);
                if self.building {
                    self.current.push(name.clone());
                }
            }
            Expr::Index { value, index, .. } => {
                self.expr(value);
                self.flush();
                self.expr(index);
            }
            Expr::Call { value, args, .. } => {
                self.expr(value);
                self.flush();
                for a in args {
                    self.expr(a);
                }
            }
            Expr::Literal { .. } => {}
            Expr::Array { elements, .. } => {
                for el in elements {
                    self.expr(el);
                }
            }
            Expr::Object { fields, .. } => {
                for f in fields {
                    self.expr(&f.value);
                }
            }
            Expr::Unary { value, .. } => self.expr(value),
            Expr::Binary { left, right, .. } => {
                self.expr(left);
                self.expr(right);
            }
            Expr::Paren { inner, .. } => self.expr(inner),
        }
    }

    fn flush(&mut self) {
        if self.building && !self.current.is_empty() {
            self.out.push(std::mem::take(&mut self.current));
        }
        self.building = false;
        self.current.clear();
    }
}

/// Top-level standard-library names (Alloy's `stdlib.Identifiers`,
/// deprecated ones included).
pub const STDLIB: &[&str] = &[
    "array",
    "base64_decode",
    "coalesce",
    "concat",
    "constants",
    "convert",
    "encoding",
    "env",
    "file",
    "format",
    "join",
    "json_decode",
    "json_path",
    "nonsensitive",
    "replace",
    "split",
    "string",
    "sys",
    "to_lower",
    "to_upper",
    "trim",
    "trim_prefix",
    "trim_space",
    "trim_suffix",
    "yaml_decode",
];

/// Deprecated top-level functions, replaced by namespaced ones.
pub const STDLIB_DEPRECATED: &[&str] = &[
    "base64_decode",
    "concat",
    "env",
    "format",
    "join",
    "json_decode",
    "nonsensitive",
    "replace",
    "split",
    "to_lower",
    "to_upper",
    "trim",
    "trim_prefix",
    "trim_space",
    "trim_suffix",
    "yaml_decode",
];

/// Stdlib functions at stability level "experimental", by full name.
pub const STDLIB_EXPERIMENTAL: &[&str] = &["array.combine_maps", "array.group_by"];

pub fn is_stdlib(name: &str) -> bool {
    STDLIB.binary_search(&name).is_ok()
}

pub fn is_stdlib_deprecated(name: &str) -> bool {
    STDLIB_DEPRECATED.binary_search(&name).is_ok()
}

pub fn is_stdlib_experimental(full_name: &str) -> bool {
    STDLIB_EXPERIMENTAL.contains(&full_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse_expression, SourceFile};

    fn chains(src: &str) -> Vec<String> {
        let file = SourceFile::new("t", src.as_bytes().to_vec());
        let e = parse_expression(&file).expect("parses");
        let mut w = Walker::default();
        w.expr(&e);
        w.flush();
        w.out.iter().map(|t| dotted(t)).collect()
    }

    #[test]
    fn chains_end_at_index_and_call() {
        assert_eq!(chains("a.b.c"), ["a.b.c"]);
        assert_eq!(chains("a.b[0].c"), ["a.b"]);
        assert_eq!(chains("f(x.y).z"), ["f", "x.y.z"]);
        assert_eq!(chains("[a.b, c + d.e]"), ["a.b", "c", "d.e"]);
        assert!(STDLIB.windows(2).all(|w| w[0] < w[1]));
        assert!(STDLIB_DEPRECATED.windows(2).all(|w| w[0] < w[1]));
    }
}
