//! Evaluating a component's block into its arguments value.
//!
//! This is the function the control plane runs per node: the block's body,
//! evaluated in a scope holding the exports of the nodes it references, gives
//! one [`Value`] object (attributes by name, nested blocks by name as arrays of
//! objects, since blocks may repeat). Equal objects mean "nothing changed", so
//! the component is not updated.

use crate::syntax::ast::Stmt;
use crate::syntax::{Diagnostics, EvalContext, Object, Value};

/// Evaluate every attribute and nested block of `body`; all errors at once.
pub fn evaluate_body(ctx: &EvalContext<'_>, body: &[Stmt]) -> Result<Value, Diagnostics> {
    let mut diags = Diagnostics::default();
    let value = evaluate_into(ctx, body, &mut diags);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(value)
    }
}

fn evaluate_into(ctx: &EvalContext<'_>, body: &[Stmt], diags: &mut Diagnostics) -> Value {
    let mut fields = Object::new();
    for stmt in body {
        match stmt {
            Stmt::Attribute(attr) => match ctx.eval(&attr.value) {
                Ok(v) => {
                    fields.insert(attr.name.name.to_string(), v);
                }
                Err(d) => diags.push(d),
            },
            Stmt::Block(block) => {
                let inner = evaluate_into(ctx, &block.body, diags);
                let entry = fields
                    .entry(block.full_name())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = entry {
                    items.push(inner);
                }
            }
        }
    }
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::Stmt;
    use crate::syntax::{parse_file, Scope, SourceFile};

    #[test]
    fn attributes_and_repeated_blocks() {
        let file = SourceFile::new(
            "t.alloy",
            b"x \"y\" {\n a = 1 + 2\n rule { b = \"c\" }\n rule { b = \"d\" }\n}\n".to_vec(),
        );
        let (ast, diags) = parse_file(&file);
        assert!(diags.is_empty());
        let Some(ast) = ast else { panic!("no ast") };
        let Stmt::Block(block) = &ast.body[0] else {
            panic!("not a block")
        };
        let scope = Scope::new();
        let ctx = EvalContext::new(&file, &scope);
        let v = evaluate_body(&ctx, &block.body).unwrap();
        assert_eq!(
            v.to_string(),
            r#"{"a" = 3, "rule" = [{"b" = "c"}, {"b" = "d"}]}"#
        );
    }

    #[test]
    fn every_error_is_reported() {
        let file = SourceFile::new(
            "t.alloy",
            b"x \"y\" {\n a = nope\n b = 1 + \"s\"\n}\n".to_vec(),
        );
        let (ast, _) = parse_file(&file);
        let Some(ast) = ast else { panic!("no ast") };
        let Stmt::Block(block) = &ast.body[0] else {
            panic!("not a block")
        };
        let scope = Scope::new();
        let ctx = EvalContext::new(&file, &scope);
        let err = evaluate_body(&ctx, &block.body).unwrap_err();
        assert_eq!(err.len(), 2, "{err}");
        assert_eq!(
            err.0[0].to_string(),
            r#"t.alloy:2:6: identifier "nope" does not exist"#
        );
    }
}
