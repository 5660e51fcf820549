//! The parser: tokens to the [`ast`](super::ast), with Alloy's error recovery.
//!
//! An LL(1) recursive-descent parser whose methods mirror the grammar of
//! `alloy-syntax.md` §2. It keeps going after an error (skipping to the next
//! statement) so that a file's errors are all reported at once, and like Alloy
//! it reports at most one parser error per line. Scanner errors are always
//! kept. The AST is only handed out when there were no errors.
//!
//! Hand-written rather than generated for the same reason as the scanner:
//! Alloy's exact messages, positions and recovery. It is also on the start-up
//! path, so the per-token work is kept small: `Parser::next` is the one
//! place the scanner is inlined, comments and scanner errors are handled out
//! of line (they are rare), operands without `^` cost no extra call level,
//! and statements allocate only what the AST keeps (an attribute's name
//! allocates nothing; a block name allocates once).

use compact_str::CompactString;

use super::ast::*;
use super::diag::{Diagnostic, Diagnostics};
use super::scanner::{is_valid_identifier, strip_cr, Scanned, Scanner};
use super::token::{Pos, SourceFile, Token, NO_POS};

/// Deepest nesting of expressions and blocks accepted; beyond it the parser
/// reports an error instead of overflowing the stack on hostile input.
const MAX_DEPTH: u32 = 512;

/// Parse a whole file. Returns the AST when there were no errors, and every
/// diagnostic found.
pub fn parse_file(file: &SourceFile) -> (Option<File>, Diagnostics) {
    let mut p = Parser::new(file);
    let body = p.parse_body(Token::Eof);
    let diags = p.finish();
    if diags.has_errors() {
        return (None, diags);
    }
    let ast = File {
        name: file.name().to_string(),
        body,
        comments: p.comments,
    };
    (Some(ast), diags)
}

/// Parse the statements of `file` between byte offsets `start` and `end`,
/// as a file body on its own; positions are offsets into the whole file.
/// For an incremental reload, which re-parses only the region that changed:
/// the caller makes sure the region starts and ends between statements.
pub fn parse_range(file: &SourceFile, start: Pos, end: Pos) -> (Option<Body>, Diagnostics) {
    let src = file.src();
    let input = src.get(..end as usize).unwrap_or(src);
    let mut p = Parser::with_scanner(file, Scanner::new_at(input, start as usize));
    let body = p.parse_body(Token::Eof);
    let diags = p.finish();
    if diags.has_errors() {
        return (None, diags);
    }
    (Some(body), diags)
}

/// Files at least this large are parsed in two halves on two threads by
/// [`parse_statements`]: below it, a thread costs more than it saves.
const SPLIT_AT_LEAST: usize = 1 << 20;

/// The statements of `file`, exactly as [`parse_file`] gives them (the
/// comments aside), parsed in two halves on two threads when the file is
/// large and the machine has a second core: the validation of a large
/// configuration starts with this, before anything runs.
///
/// The halves meet at a line that starts with an identifier, near the
/// middle. Each half is parsed on its own ([`parse_range`]); when both parse
/// without a diagnostic, the split fell between two top-level statements —
/// a split inside a block, a multi-line expression, a raw string or a block
/// comment leaves the first half unterminated, which is an error — and the
/// statements are the whole file's. Otherwise the file is parsed again in
/// one piece, so every diagnostic is [`parse_file`]'s.
pub fn parse_statements(file: &SourceFile) -> (Option<Body>, Diagnostics) {
    let src = file.src();
    let two_cores = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    if two_cores && src.len() >= SPLIT_AT_LEAST {
        if let Some(body) =
            statement_line_near(src, src.len() / 2).and_then(|mid| parse_split_at(file, mid))
        {
            return (Some(body), Diagnostics::default());
        }
    }
    let (ast, diags) = parse_file(file);
    (ast.map(|f| f.body), diags)
}

/// The statements of `file` parsed as `[0, mid)` and `[mid, end)`, the
/// second half on another thread, when both parse without a diagnostic.
fn parse_split_at(file: &SourceFile, mid: Pos) -> Option<Body> {
    let end = file.src().len() as Pos;
    let (first, second) = std::thread::scope(|s| {
        let second = s.spawn(|| parse_range(file, mid, end));
        (parse_range(file, 0, mid), second.join())
    });
    match (first, second) {
        ((Some(mut body), first_diags), Ok((Some(rest), second_diags)))
            if first_diags.0.is_empty() && second_diags.0.is_empty() =>
        {
            body.extend(rest);
            Some(body)
        }
        _ => None,
    }
}

/// The offset of the first line at or after `from` that starts with an
/// identifier character: a candidate start of a top-level statement.
fn statement_line_near(src: &[u8], from: usize) -> Option<Pos> {
    let mut at = from;
    loop {
        let nl = at + src.get(at..)?.iter().position(|&b| b == b'\n')?;
        let start = nl + 1;
        match src.get(start) {
            Some(b) if b.is_ascii_alphabetic() || *b == b'_' => return Pos::try_from(start).ok(),
            Some(_) => at = start,
            None => return None,
        }
    }
}

/// Parse a single expression (used by tests and `smelter` tooling).
pub fn parse_expression(file: &SourceFile) -> Result<Expr, Diagnostics> {
    let mut p = Parser::new(file);
    let expr = p.parse_expression();
    if p.tok != Token::Eof && p.tok != Token::Terminator {
        p.error_at_current(format!("expected EOF, got {}", p.tok));
    }
    let diags = p.finish();
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(expr)
}

struct Parser<'a> {
    file: &'a SourceFile,
    scanner: Scanner<'a>,
    diags: Vec<(Pos, Pos, String)>,
    comments: Vec<CommentGroup>,
    pos: Pos,
    tok: Token,
    lit: &'a str,
    last_error_line: u32,
    depth: u32,
}

impl<'a> Parser<'a> {
    fn new(file: &'a SourceFile) -> Self {
        Self::with_scanner(file, Scanner::new(file.src()))
    }

    fn with_scanner(file: &'a SourceFile, scanner: Scanner<'a>) -> Self {
        let mut p = Parser {
            file,
            scanner,
            diags: Vec::new(),
            comments: Vec::new(),
            pos: 0,
            tok: Token::Eof,
            lit: "",
            last_error_line: 0,
            depth: 0,
        };
        p.next();
        p
    }

    /// Merge scanner and parser errors by position of discovery: scanner
    /// errors are recorded as tokens are read, so we interleave them in the
    /// order they happened.
    fn finish(&mut self) -> Diagnostics {
        self.drain_scanner_errors();
        let mut out = Diagnostics::default();
        for (start, end, msg) in self.diags.drain(..) {
            let mut d = Diagnostic::error(self.file.position(start), msg);
            if end != NO_POS {
                d = d.with_end(self.file.position(end));
            }
            out.push(d);
        }
        out
    }

    #[inline]
    fn drain_scanner_errors(&mut self) {
        if self.scanner.has_errors() {
            self.take_scanner_errors();
        }
    }

    #[cold]
    #[inline(never)]
    fn take_scanner_errors(&mut self) {
        for (pos, msg) in self.scanner.take_errors() {
            self.diags.push((pos, NO_POS, msg));
        }
    }

    /// Read one token, comments included.
    #[inline(always)]
    fn next0(&mut self) {
        let Scanned { pos, tok, lit } = self.scanner.scan();
        self.drain_scanner_errors();
        self.pos = pos;
        self.tok = tok;
        self.lit = lit;
    }

    /// [`Self::next0`] without another inlined copy of the scanner.
    #[inline(never)]
    fn next0_outlined(&mut self) {
        self.next0();
    }

    /// Read the next token that is not a comment, collecting comments into
    /// groups on the way. This runs once per token, so it is one function
    /// with the scanner inlined; comments take the out-of-line path.
    #[inline(never)]
    fn next(&mut self) {
        self.next0();
        if self.tok == Token::Comment {
            self.consume_comments();
        }
    }

    #[cold]
    #[inline(never)]
    fn consume_comments(&mut self) {
        while self.tok == Token::Comment {
            self.consume_comment_group();
        }
    }

    fn line_of(&self, pos: Pos) -> u32 {
        self.file.position(pos).line
    }

    fn consume_comment_group(&mut self) {
        let mut group = Vec::new();
        let mut end_line = self.line_of(self.pos);
        while self.tok == Token::Comment && self.line_of(self.pos) <= end_line + 1 {
            end_line = self.line_of(self.pos);
            if self.lit.as_bytes().get(1) == Some(&b'*') {
                end_line += self.lit.bytes().filter(|&b| b == b'\n').count() as u32;
            }
            let text = if self.lit.contains('\r') {
                strip_cr(self.lit, self.lit.starts_with("/*"))
            } else {
                self.lit.to_string()
            };
            group.push(Comment {
                pos: self.pos,
                text,
            });
            self.next0_outlined();
        }
        self.comments.push(group);
    }

    fn advance(&mut self, to: Token) {
        while self.tok != Token::Eof && self.tok != to {
            self.next();
        }
    }

    fn advance_to_statement_end(&mut self) {
        while !matches!(
            self.tok,
            Token::Eof
                | Token::Terminator
                | Token::RParen
                | Token::RCurly
                | Token::RBrack
                | Token::Comma
        ) {
            self.next();
        }
    }

    fn expect(&mut self, t: Token) -> (Pos, Token) {
        let (pos, tok) = (self.pos, self.tok);
        if tok != t {
            self.error_at_current(format!("expected {t}, got {tok}"));
        }
        self.next();
        (pos, tok)
    }

    /// Record an error at the current token unless one was already recorded
    /// on the same line (Alloy's one-error-per-line rule).
    fn error_at_current(&mut self, msg: String) {
        let line = self.line_of(self.pos);
        if self.last_error_line == line {
            return;
        }
        self.last_error_line = line;
        self.diags.push((self.pos, NO_POS, msg));
    }

    fn parse_body(&mut self, until: Token) -> Body {
        if self.depth >= MAX_DEPTH {
            self.error_at_current("nesting too deep".into());
            self.advance(Token::Eof);
            return Vec::new();
        }
        // The capacity a first push would pick, without the growth path.
        let mut body = if self.tok != until && self.tok != Token::Eof {
            Vec::with_capacity(4)
        } else {
            Vec::new()
        };
        self.depth += 1;
        while self.tok != until && self.tok != Token::Eof {
            if let Some(stmt) = self.parse_statement() {
                body.push(stmt);
            }
            if self.tok == until {
                break;
            }
            if self.tok != Token::Terminator {
                self.error_at_current(format!("expected TERMINATOR, got {}", self.tok));
                self.consume_statement();
            }
            self.next();
        }
        self.depth -= 1;
        body
    }

    fn consume_statement(&mut self) {
        let (mut curly, mut brack, mut paren) = (0i64, 0i64, 0i64);
        while self.tok != Token::Eof {
            match self.tok {
                Token::LCurly => curly += 1,
                Token::RCurly => curly -= 1,
                Token::LBrack => brack += 1,
                Token::RBrack => brack -= 1,
                Token::LParen => paren += 1,
                Token::RParen => paren -= 1,
                Token::Terminator if curly <= 0 && brack <= 0 && paren <= 0 => return,
                _ => {}
            }
            self.next();
        }
    }

    fn parse_statement(&mut self) -> Option<Stmt> {
        let Some(bn) = self.parse_block_name() else {
            self.advance(Token::Ident);
            return None;
        };
        match self.tok {
            Token::Assign => {
                self.next();
                if !bn.rest.is_empty() {
                    let len = bn.first.len()
                        + bn.rest.iter().map(|f| f.len()).sum::<usize>()
                        + bn.rest.len();
                    self.diags.push((
                        bn.start,
                        bn.start + len as u32 - 1,
                        r#"attribute names may only consist of a single identifier with no ".""#
                            .into(),
                    ));
                } else if bn.label_pos != NO_POS {
                    self.diags.push((
                        bn.label_pos,
                        bn.label_pos + bn.label.len() as u32 + 1,
                        "attribute names may not have labels".into(),
                    ));
                }
                let value = self.parse_expression();
                Some(Stmt::Attribute(AttributeStmt {
                    name: Ident {
                        name: bn.first,
                        pos: bn.start,
                    },
                    value,
                }))
            }
            Token::LCurly => {
                let (lcurly, _) = self.expect(Token::LCurly);
                let body = self.parse_body(Token::RCurly);
                let (rcurly, _) = self.expect(Token::RCurly);
                let (name_pos, label_pos) = (bn.start, bn.label_pos);
                let (name, label) = bn.into_name_and_label();
                Some(Stmt::Block(BlockStmt {
                    name,
                    name_pos,
                    label,
                    label_pos,
                    body,
                    lcurly,
                    rcurly,
                }))
            }
            _ => {
                if bn.rest.is_empty() && bn.label.is_empty() {
                    self.error_at_current(format!(
                        "expected attribute assignment or block body, got {}",
                        self.tok
                    ));
                } else {
                    self.error_at_current(format!("expected block body, got {}", self.tok));
                }
                self.advance(Token::Ident);
                None
            }
        }
    }

    fn parse_block_name(&mut self) -> Option<BlockName> {
        if self.tok != Token::Ident {
            self.error_at_current(format!("expected identifier, got {}", self.tok));
            return None;
        }
        let mut bn = BlockName {
            first: CompactString::from(self.lit),
            rest: Vec::new(),
            label: CompactString::default(),
            start: self.pos,
            label_pos: NO_POS,
        };
        self.next();
        while self.tok == Token::Dot {
            self.next();
            if self.tok != Token::Ident {
                self.error_at_current(format!("expected identifier, got {}", self.tok));
            }
            bn.rest.push(CompactString::from(self.lit));
            self.next();
        }
        if self.tok != Token::Assign && self.tok != Token::LCurly {
            if self.tok == Token::String {
                if !self.lit.starts_with('"') {
                    self.error_at_current(format!(
                        "expected block label to be a double quoted string, but got {}",
                        go_quote(self.lit)
                    ));
                }
                if self.lit.len() > 2 {
                    let inner = strip_quotes(self.lit);
                    if !is_valid_identifier(&inner) {
                        self.error_at_current(format!(
                            "expected block label to be a valid identifier, but got {}",
                            go_quote(&inner)
                        ));
                    }
                    bn.label = inner;
                }
                bn.label_pos = self.pos;
            } else {
                self.error_at_current(format!("expected block label, got {}", self.tok));
            }
            self.next();
        }
        Some(bn)
    }

    fn parse_expression(&mut self) -> Expr {
        if self.depth >= MAX_DEPTH {
            let pos = self.pos;
            self.error_at_current("expression nested too deeply".into());
            self.advance(Token::Eof);
            return null_at(pos);
        }
        self.depth += 1;
        let e = self.parse_binop(1);
        self.depth -= 1;
        e
    }

    fn parse_binop(&mut self, in_prec: u8) -> Expr {
        let mut lhs = self.parse_pow();
        loop {
            let (tok, pos, prec) = (self.tok, self.pos, self.tok.binary_precedence());
            if prec < in_prec || prec == 0 {
                return lhs;
            }
            self.next();
            let rhs = self.parse_binop(prec + 1);
            let Some(op) = BinaryOp::from_token(tok) else {
                return lhs;
            };
            lhs = Expr::Binary {
                op,
                op_pos: pos,
                left: Box::new(lhs),
                right: Box::new(rhs),
            };
        }
    }

    /// `unary ^ pow`. Inlined into [`Self::parse_binop`] so that an operand
    /// without `^` (nearly all of them) costs no extra call.
    #[inline(always)]
    fn parse_pow(&mut self) -> Expr {
        let lhs = self.parse_unary();
        if self.tok == Token::Pow {
            return self.parse_pow_rest(lhs);
        }
        lhs
    }

    #[inline(never)]
    fn parse_pow_outlined(&mut self) -> Expr {
        self.parse_pow()
    }

    fn parse_pow_rest(&mut self, lhs: Expr) -> Expr {
        let pos = self.pos;
        self.next();
        let rhs = self.nested(Self::parse_pow_outlined);
        Expr::Binary {
            op: BinaryOp::Pow,
            op_pos: pos,
            left: Box::new(lhs),
            right: Box::new(rhs),
        }
    }

    /// Run a recursive step with the depth guard.
    fn nested(&mut self, f: fn(&mut Self) -> Expr) -> Expr {
        if self.depth >= MAX_DEPTH {
            let pos = self.pos;
            self.error_at_current("expression nested too deeply".into());
            self.advance(Token::Eof);
            return null_at(pos);
        }
        self.depth += 1;
        let e = f(self);
        self.depth -= 1;
        e
    }

    fn parse_unary(&mut self) -> Expr {
        if matches!(self.tok, Token::Not | Token::Sub) {
            let op = if self.tok == Token::Not {
                UnaryOp::Not
            } else {
                UnaryOp::Neg
            };
            let pos = self.pos;
            self.next();
            let value = self.nested(Self::parse_unary);
            return Expr::Unary {
                op,
                op_pos: pos,
                value: Box::new(value),
            };
        }

        let mut primary = self.parse_primary();
        loop {
            match self.tok {
                Token::Dot => {
                    self.next();
                    let pos = self.pos;
                    let name = CompactString::from(self.lit);
                    self.expect(Token::Ident);
                    primary = Expr::Access {
                        value: Box::new(primary),
                        name: Ident { name, pos },
                    };
                }
                Token::LBrack => {
                    let (lbrack, _) = self.expect(Token::LBrack);
                    let index = self.parse_expression();
                    let (rbrack, _) = self.expect(Token::RBrack);
                    primary = Expr::Index {
                        value: Box::new(primary),
                        index: Box::new(index),
                        lbrack,
                        rbrack,
                    };
                }
                Token::LParen => {
                    let (lparen, _) = self.expect(Token::LParen);
                    let args = if self.tok != Token::RParen {
                        self.parse_expression_list(Token::RParen)
                    } else {
                        Vec::new()
                    };
                    let (rparen, _) = self.expect(Token::RParen);
                    primary = Expr::Call {
                        value: Box::new(primary),
                        args,
                        lparen,
                        rparen,
                    };
                }
                Token::String | Token::LCurly => {
                    // Someone assigning a block to an attribute: parse the
                    // rest as a block to say so clearly.
                    if self.tok == Token::String {
                        self.next();
                    }
                    if self.expect(Token::LCurly).1 != Token::LCurly {
                        self.consume_statement();
                        return primary;
                    }
                    self.parse_body(Token::RCurly);
                    let (end, tok) = self.expect(Token::RCurly);
                    if tok != Token::RCurly {
                        self.consume_statement();
                        return primary;
                    }
                    self.diags.push((
                        primary.start_pos(),
                        end,
                        "cannot use a block as an expression".into(),
                    ));
                }
                _ => return primary,
            }
        }
    }

    fn parse_primary(&mut self) -> Expr {
        match self.tok {
            Token::Ident => {
                let e = Expr::Identifier(Ident {
                    name: CompactString::from(self.lit),
                    pos: self.pos,
                });
                self.next();
                e
            }
            Token::String | Token::Number | Token::Float | Token::Bool | Token::Null => {
                let kind = LitKind::from_token(self.tok).unwrap_or(LitKind::Null);
                let e = Expr::Literal {
                    kind,
                    raw: CompactString::from(self.lit),
                    pos: self.pos,
                };
                self.next();
                e
            }
            Token::LParen => {
                let (lparen, _) = self.expect(Token::LParen);
                let inner = self.parse_expression();
                let (rparen, _) = self.expect(Token::RParen);
                Expr::Paren {
                    inner: Box::new(inner),
                    lparen,
                    rparen,
                }
            }
            Token::LBrack => {
                let (lbrack, _) = self.expect(Token::LBrack);
                let elements = if self.tok != Token::RBrack {
                    self.parse_expression_list(Token::RBrack)
                } else {
                    Vec::new()
                };
                let (rbrack, _) = self.expect(Token::RBrack);
                Expr::Array {
                    elements,
                    lbrack,
                    rbrack,
                }
            }
            Token::LCurly => {
                let (lcurly, _) = self.expect(Token::LCurly);
                // Alloy checks for `]` here (a quirk): `{}` is handled by the
                // field list's own `until` check, so the result is the same.
                let fields = if self.tok != Token::RBrack {
                    self.parse_field_list(Token::RCurly)
                } else {
                    Vec::new()
                };
                let (rcurly, _) = self.expect(Token::RCurly);
                Expr::Object {
                    fields,
                    lcurly,
                    rcurly,
                }
            }
            _ => {
                self.error_at_current(format!("expected expression, got {}", self.tok));
                let e = null_at(self.pos);
                self.advance_to_statement_end();
                e
            }
        }
    }

    fn parse_expression_list(&mut self, until: Token) -> Vec<Expr> {
        self.parse_comma_list(
            until,
            "missing ',' in expression list",
            Self::parse_expression,
        )
    }

    fn parse_field_list(&mut self, until: Token) -> Vec<ObjectField> {
        self.parse_comma_list(until, "missing ',' in field list", Self::parse_field)
    }

    /// `item { "," item } [ "," ]` up to (not including) `until`; a missing
    /// comma is reported with `missing` and parsing goes on.
    fn parse_comma_list<T>(
        &mut self,
        until: Token,
        missing: &'static str,
        item: fn(&mut Self) -> T,
    ) -> Vec<T> {
        let mut items = Vec::with_capacity(4);
        while self.tok != until && self.tok != Token::Eof {
            items.push(item(self));
            if self.tok == until {
                break;
            }
            if self.tok != Token::Comma {
                self.error_at_current(missing.into());
            }
            self.next();
        }
        items
    }

    fn parse_field(&mut self) -> ObjectField {
        let mut name = Ident {
            name: CompactString::default(),
            pos: self.pos,
        };
        let mut quoted = false;
        if self.tok == Token::String || self.tok == Token::Ident {
            name.name = CompactString::from(self.lit);
            if self.tok == Token::String && self.lit.len() > 2 {
                name.name = strip_quotes(self.lit);
                quoted = true;
            }
            self.next();
        } else {
            self.error_at_current(format!(
                "expected field name (string or identifier), got {}",
                self.tok
            ));
            self.advance(Token::Assign);
        }
        self.expect(Token::Assign);
        let value = self.parse_expression();
        ObjectField {
            name,
            quoted,
            value,
        }
    }
}

/// The head of a statement: `a.b.c "label"`. The first fragment is kept
/// apart so that attributes (one fragment, the common case) allocate nothing.
struct BlockName {
    first: CompactString,
    rest: Vec<CompactString>,
    label: CompactString,
    start: Pos,
    label_pos: Pos,
}

impl BlockName {
    fn into_name_and_label(self) -> (Vec<CompactString>, CompactString) {
        if self.rest.is_empty() {
            return (vec![self.first], self.label);
        }
        // `rest` has room to spare after its first push.
        let mut name = self.rest;
        name.insert(0, self.first);
        (name, self.label)
    }
}

/// Drop the first and last byte of a quoted literal, as Alloy does. An
/// unterminated literal may end inside a multi-byte character, so this works
/// on bytes and replaces a broken character rather than panic.
fn strip_quotes(lit: &str) -> CompactString {
    if let Some(inner) = lit.get(1..lit.len().saturating_sub(1)) {
        return CompactString::from(inner);
    }
    let b = lit.as_bytes();
    match b.get(1..b.len().saturating_sub(1)) {
        Some(inner) => CompactString::from(String::from_utf8_lossy(inner)),
        None => CompactString::default(),
    }
}

fn null_at(pos: Pos) -> Expr {
    Expr::Literal {
        kind: LitKind::Null,
        raw: CompactString::const_new("null"),
        pos,
    }
}

/// Go's `%q`: a double-quoted string with Go escapes.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_control() => {
                let v = c as u32;
                if v < 0x10000 {
                    out.push_str(&format!("\\u{v:04x}"));
                } else {
                    out.push_str(&format!("\\U{v:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every candidate split point of every configuration in the corpus
    /// (`../shared/alloy-corpus`): where both halves parse cleanly, their
    /// statements are the whole file's — the soundness argument of
    /// [`parse_statements`], checked on real files and their error cases.
    #[test]
    fn a_clean_split_gives_the_whole_files_statements() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/alloy-corpus");
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("corpus").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "alloy") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 500, "corpus: {} files", files.len());
        let (mut splits, mut clean) = (0, 0);
        for path in files {
            let src = std::fs::read(&path).expect("read");
            let file = SourceFile::new(path.display().to_string(), src);
            let whole = parse_file(&file).0.map(|f| f.body);
            let bytes = file.src();
            let mut at = 0;
            // At most 40 split points per file, spread over it.
            let step = (bytes.len() / 40).max(1);
            while let Some(mid) = statement_line_near(bytes, at) {
                splits += 1;
                if let Some(body) = parse_split_at(&file, mid) {
                    clean += 1;
                    assert_eq!(
                        Some(&body),
                        whole.as_ref(),
                        "{} split at {mid}",
                        path.display()
                    );
                }
                at = (mid as usize).max(at + step);
            }
        }
        assert!(clean > 1000, "{clean} clean of {splits} splits");
    }

    #[test]
    fn a_split_inside_a_construct_is_not_clean() {
        for src in [
            "a \"x\" {\nb = 1\n}\n",
            "a = `raw\nb = 1`\n",
            "/* c\nb = 1 */\n",
            "a = [\nb,\n]\n",
        ] {
            let file = SourceFile::new("t.alloy", src.as_bytes().to_vec());
            let mid = statement_line_near(src.as_bytes(), 1).expect("a candidate");
            assert!(parse_split_at(&file, mid).is_none(), "{src:?} at {mid}");
        }
    }
}
