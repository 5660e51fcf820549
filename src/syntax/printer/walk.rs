//! The formatter's tree walk: turns AST nodes into the token/whitespace
//! stream the [`Printer`] lays out. All layout decisions that depend on the
//! source's line structure (keep a list multi-line, keep a blank line, start a
//! new alignment section) are made here, from node positions.

use super::{go_quote, Printer, Ws};
use crate::syntax::ast::{Expr, File, LitKind, ObjectField, Stmt, UnaryOp};
use crate::syntax::token::{Pos, Token};

pub(super) fn file(p: &mut Printer<'_>, f: &File) {
    stmts(p, &f.body);
}

fn line(p: &Printer<'_>, pos: Pos) -> i64 {
    p.position(pos).line
}

fn different_lines(p: &Printer<'_>, a: Pos, b: Pos) -> bool {
    line(p, a) != line(p, b)
}

fn span_lines(p: &Printer<'_>, start: Pos, end: Pos) -> i64 {
    line(p, end) - line(p, start) + 1
}

fn stmts(p: &mut Printer<'_>, body: &[Stmt]) {
    for (i, s) in body.iter().enumerate() {
        if i > 0 {
            // Blocks are always preceded by a blank line; other statements
            // keep one if the source had one.
            let is_block = matches!(s, Stmt::Block(_));
            let gap = line(p, s.start_pos()) - line(p, body[i - 1].end_pos());
            if is_block || gap > 1 {
                p.ws(Ws::Formfeed);
            }
        }
        stmt(p, s);
        // A statement spanning several lines ends its alignment section.
        if span_lines(p, s.start_pos(), s.end_pos()) > 1 {
            p.ws(Ws::Formfeed);
        } else {
            p.ws(Ws::Newline);
        }
    }
}

fn stmt(p: &mut Printer<'_>, s: &Stmt) {
    match s {
        Stmt::Attribute(a) => {
            p.at(a.name.pos);
            p.ident(&a.name.name);
            p.ws(Ws::VTab);
            p.token(Token::Assign);
            p.ws(Ws::Blank);
            expr(p, &a.value);
        }
        Stmt::Block(b) => {
            p.at(b.name_pos);
            p.ident(&b.full_name());
            if !b.label.is_empty() {
                p.ws(Ws::Blank);
                p.at(b.label_pos);
                p.literal(LitKind::String, &go_quote(&b.label));
            }
            p.ws(Ws::Blank);
            p.at(b.lcurly);
            p.token(Token::LCurly);
            p.ws(Ws::Indent);
            if b.body.is_empty() {
                p.ws(Ws::Blank);
            } else {
                p.ws(Ws::Formfeed);
                stmts(p, &b.body);
            }
            p.ws(Ws::Unindent);
            p.at(b.rcurly);
            p.token(Token::RCurly);
        }
    }
}

fn expr(p: &mut Printer<'_>, e: &Expr) {
    match e {
        Expr::Literal { kind, raw, pos } => {
            p.at(*pos);
            p.literal(*kind, raw);
        }
        Expr::Identifier(id) => {
            p.at(id.pos);
            p.ident(&id.name);
        }
        Expr::Array {
            elements,
            lbrack,
            rbrack,
        } => array(p, elements, *lbrack, *rbrack),
        Expr::Object {
            fields,
            lcurly,
            rcurly,
        } => object(p, fields, *lcurly, *rcurly),
        Expr::Access { value, name } => {
            expr(p, value);
            p.token(Token::Dot);
            p.ident(&name.name);
        }
        Expr::Index {
            value,
            index,
            lbrack,
            rbrack,
        } => {
            expr(p, value);
            p.at(*lbrack);
            p.token(Token::LBrack);
            expr(p, index);
            p.at(*rbrack);
            p.token(Token::RBrack);
        }
        Expr::Call {
            value,
            args,
            lparen,
            rparen,
        } => call(p, value, args, *lparen, *rparen),
        Expr::Unary { op, op_pos, value } => {
            p.at(*op_pos);
            p.token(match op {
                UnaryOp::Not => Token::Not,
                UnaryOp::Neg => Token::Sub,
            });
            expr(p, value);
        }
        Expr::Binary {
            op,
            op_pos,
            left,
            right,
        } => {
            expr(p, left);
            p.ws(Ws::Blank);
            p.at(*op_pos);
            p.token(binary_token(op.as_str()));
            p.ws(Ws::Blank);
            expr(p, right);
        }
        Expr::Paren { inner, .. } => {
            p.token(Token::LParen);
            expr(p, inner);
            p.token(Token::RParen);
        }
    }
}

fn binary_token(op: &str) -> Token {
    match op {
        "||" => Token::Or,
        "&&" => Token::And,
        "==" => Token::Eq,
        "!=" => Token::Neq,
        "<" => Token::Lt,
        "<=" => Token::Lte,
        ">" => Token::Gt,
        ">=" => Token::Gte,
        "+" => Token::Add,
        "-" => Token::Sub,
        "*" => Token::Mul,
        "/" => Token::Div,
        "%" => Token::Mod,
        _ => Token::Pow,
    }
}

fn array(p: &mut Printer<'_>, elements: &[Expr], lbrack: Pos, rbrack: Pos) {
    p.at(lbrack);
    p.token(Token::LBrack);
    let mut prev = lbrack;
    for (i, el) in elements.iter().enumerate() {
        let on_new_line = different_lines(p, prev, el.start_pos());
        if on_new_line {
            // Indent before the line break so that comments written ahead
            // of the element are indented too.
            p.ws(Ws::Indent);
            p.ws(Ws::Formfeed);
        } else if i > 0 {
            p.ws(Ws::Blank);
        }
        prev = el.end_pos();
        expr(p, el);
        if i + 1 < elements.len() {
            p.token(Token::Comma);
        }
        if on_new_line {
            p.ws(Ws::Unindent);
        }
    }
    if !elements.is_empty() && different_lines(p, prev, rbrack) {
        // Closing bracket on its own line: trailing comma, and comments
        // after the last element stay indented.
        p.token(Token::Comma);
        p.ws(Ws::Indent);
        p.ws(Ws::Formfeed);
        p.ws(Ws::Unindent);
    }
    p.at(rbrack);
    p.token(Token::RBrack);
}

fn object(p: &mut Printer<'_>, fields: &[ObjectField], lcurly: Pos, rcurly: Pos) {
    p.at(lcurly);
    p.token(Token::LCurly);
    p.ws(Ws::Indent);
    let mut prev = lcurly;
    for (i, field) in fields.iter().enumerate() {
        if different_lines(p, prev, field.name.pos) {
            // Keep `=` aligned with the previous field unless that one
            // spanned several lines.
            let prev_single_line = i > 0 && {
                let v = &fields[i - 1].value;
                span_lines(p, v.start_pos(), v.end_pos()) == 1
            };
            p.ws(if prev_single_line {
                Ws::Newline
            } else {
                Ws::Formfeed
            });
        } else if i > 0 {
            p.ws(Ws::Blank);
        }
        prev = field.name.end_pos();
        p.at(field.name.pos);
        if field.quoted {
            p.literal(LitKind::String, &go_quote(&field.name.name));
        } else {
            p.ident(&field.name.name);
        }
        p.ws(Ws::VTab);
        p.token(Token::Assign);
        p.ws(Ws::Blank);
        expr(p, &field.value);
        if i + 1 < fields.len() {
            p.token(Token::Comma);
        }
    }
    if !fields.is_empty() && different_lines(p, prev, rcurly) {
        p.token(Token::Comma);
        p.ws(Ws::Formfeed);
    }
    p.ws(Ws::Unindent);
    p.at(rcurly);
    p.token(Token::RCurly);
}

fn call(p: &mut Printer<'_>, callee: &Expr, args: &[Expr], lparen: Pos, rparen: Pos) {
    expr(p, callee);
    p.token(Token::LParen);
    let mut prev = lparen;
    for (i, arg) in args.iter().enumerate() {
        let on_new_line = different_lines(p, prev, arg.start_pos());
        if on_new_line {
            p.ws(Ws::Formfeed);
            p.ws(Ws::Indent);
        }
        expr(p, arg);
        prev = arg.end_pos();
        if i + 1 < args.len() {
            p.token(Token::Comma);
            p.ws(Ws::Blank);
        }
        if on_new_line {
            p.ws(Ws::Unindent);
        }
    }
    if different_lines(p, prev, rparen) {
        p.token(Token::Comma);
        p.ws(Ws::Formfeed);
    }
    p.token(Token::RParen);
}
