//! The formatter's tree walk: turns AST nodes into the token/whitespace
//! stream the [`Printer`] lays out. All layout decisions that depend on the
//! source's line structure (keep a list multi-line, keep a blank line, start a
//! new alignment section) are made here, from node positions.

use super::{go_quote, Printer, Ws};
use crate::syntax::ast::{Expr, File, LitKind, ObjectField, Stmt, UnaryOp};
use crate::syntax::token::{Pos, Token, NO_POS};

pub(super) fn file(p: &mut Printer<'_>, f: &File) {
    stmts(p, &f.body);
}

fn line(p: &Printer<'_>, pos: Pos) -> i64 {
    p.position(pos).line
}

fn different_lines(p: &Printer<'_>, a: Pos, b: Pos) -> bool {
    line(p, a) != line(p, b)
}

/// Writes a block's dotted name. Its fragments may be on different lines with
/// comments between them (`a.\n// c\nb { }`); each is written at its source
/// position so that such comments stay inside the name, where line breaks are
/// allowed, instead of landing between the name and the `{`.
fn block_name(p: &mut Printer<'_>, name: &[compact_str::CompactString], start: Pos) {
    match fragment_positions(p.src, name, start) {
        Some(positions) => {
            for (i, (frag, pos)) in name.iter().zip(positions).enumerate() {
                if i > 0 {
                    p.token(Token::Dot);
                }
                p.at(pos);
                p.ident(frag);
            }
        }
        None => {
            p.at(start);
            p.ident(&name.join("."));
        }
    }
}

/// Source positions of the fragments of a dotted name starting at `start`;
/// `None` if the source does not hold the name there.
fn fragment_positions(
    src: &[u8],
    name: &[compact_str::CompactString],
    start: Pos,
) -> Option<Vec<Pos>> {
    let mut positions = Vec::with_capacity(name.len());
    let mut off = usize::try_from(start).ok()?;
    for (i, frag) in name.iter().enumerate() {
        if i > 0 {
            off = dot_after(src, off)? + 1;
            off = skip_trivia(src, off)?;
        }
        if !src.get(off..)?.starts_with(frag.as_bytes()) {
            return None;
        }
        positions.push(Pos::try_from(off).ok()?);
        off += frag.len();
    }
    Some(positions)
}

/// The offset of the `.` that follows `off` once blanks, line breaks and
/// comments are skipped; `None` if something else comes first.
fn dot_after(src: &[u8], off: usize) -> Option<usize> {
    byte_after(src, off, b'.')
}

/// The offset of the `byte` that follows `off` once blanks, line breaks and
/// comments are skipped; `None` if something else comes first.
fn byte_after(src: &[u8], off: usize, byte: u8) -> Option<usize> {
    let off = skip_trivia(src, off)?;
    (src.get(off) == Some(&byte)).then_some(off)
}

/// Writes the `=` after the name that ends at the inclusive position
/// `name_end`. The AST does not record where the `=` is, so it is looked up
/// in the source: a comment between the name and the `=` then stays before
/// the `=`, and one after it stays after it, pass after pass.
fn assign_after(p: &mut Printer<'_>, name_end: Pos) {
    let at = (name_end != NO_POS)
        .then(|| byte_after(p.src, name_end as usize + 1, b'='))
        .flatten()
        .and_then(|off| Pos::try_from(off).ok());
    if let Some(at) = at {
        p.at(at);
    }
    p.token(Token::Assign);
}

/// Skips blanks, line breaks and comments from `off`.
fn skip_trivia(src: &[u8], mut off: usize) -> Option<usize> {
    loop {
        let rest = src.get(off..)?;
        match rest.first() {
            Some(b' ' | b'\t' | b'\r' | b'\n') => off += 1,
            Some(b'/') if rest.get(1) == Some(&b'/') => {
                off += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            }
            Some(b'/') if rest.get(1) == Some(&b'*') => {
                let end = rest.windows(2).skip(2).position(|w| w == b"*/")?;
                off += end + 4;
            }
            _ => return Some(off),
        }
    }
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
        let mark = p.mark();
        stmt(p, s);
        // A statement spanning several lines ends its alignment section.
        // Alloy asks the source; the output is asked here, as the two differ
        // when the statement is joined onto one line (`a.\nb`), and the
        // decision must be the same when the output is formatted again.
        if p.output_lines(mark) > 1 {
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
            assign_after(p, a.name.end_pos());
            p.ws(Ws::Blank);
            expr(p, &a.value);
        }
        Stmt::Block(b) => {
            block_name(p, &b.name, b.name_pos);
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
            // A comment between the value and the dot stays before the dot,
            // one after it stays after it.
            let end = value.end_pos();
            let dot = (end != NO_POS)
                .then(|| dot_after(p.src, end as usize + 1))
                .flatten()
                .and_then(|off| Pos::try_from(off).ok());
            if let Some(dot) = dot {
                p.at(dot);
            }
            p.token(Token::Dot);
            // Comments between the dot and the name (`a.\n// c\nb`) must be
            // written before the name, where a line break is allowed.
            p.at(name.pos);
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
        Expr::Paren {
            inner,
            lparen,
            rparen,
        } => {
            p.at(*lparen);
            p.token(Token::LParen);
            expr(p, inner);
            p.at(*rparen);
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
    let mut prev_value_lines = 0;
    for (i, field) in fields.iter().enumerate() {
        if different_lines(p, prev, field.name.pos) {
            // Keep `=` aligned with the previous field unless that one
            // spanned several lines (in the output, as for statements).
            let prev_single_line = i > 0 && prev_value_lines == 1;
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
            // The parser keeps the key's text between the quotes as it is,
            // escapes and all (as Alloy does), so it is quoted back as it is:
            // `%q` would escape its backslashes and control bytes again, and
            // every pass would change the key.
            let quoted = format!("\"{}\"", field.name.name);
            p.literal(LitKind::String, &quoted);
        } else {
            p.ident(&field.name.name);
        }
        p.ws(Ws::VTab);
        assign_after(p, field_name_end(field));
        p.ws(Ws::Blank);
        let mark = p.mark();
        expr(p, &field.value);
        prev_value_lines = p.output_lines(mark);
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

/// Inclusive end of an object field's name as written in the source.
fn field_name_end(field: &ObjectField) -> Pos {
    if field.quoted && field.name.pos != NO_POS {
        // The name is stored without its quotes.
        field.name.pos + field.name.name.len() as Pos + 1
    } else {
        field.name.end_pos()
    }
}

fn call(p: &mut Printer<'_>, callee: &Expr, args: &[Expr], lparen: Pos, rparen: Pos) {
    expr(p, callee);
    p.at(lparen);
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
    // A trailing comma when `)` is on a line of its own; Alloy adds it even
    // without arguments, which gives `f(,` and does not parse.
    if !args.is_empty() && different_lines(p, prev, rparen) {
        p.token(Token::Comma);
        p.ws(Ws::Formfeed);
    }
    p.at(rparen);
    p.token(Token::RParen);
}
