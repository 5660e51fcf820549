//! The formatter against Alloy's printer golden files and, for idempotence and
//! meaning preservation, every full configuration of the corpus
//! (`../shared/alloy-corpus`, read in place).

mod common;

use std::fs;

use smelter::syntax::ast::{Expr, File, ObjectField, Stmt};
use smelter::syntax::printer::{format_file, format_source};
use smelter::syntax::{parse_file, SourceFile};

fn parse(name: &str, src: &str) -> File {
    let sf = SourceFile::new(name, src.as_bytes().to_vec());
    match parse_file(&sf) {
        (Some(f), _) => f,
        (None, diags) => panic!("{name} does not parse: {diags:?}"),
    }
}

#[test]
fn printer_golden_files() {
    let dir = common::corpus().join("printer");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".in").map(str::to_string)
        })
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut checked = 0;
    for name in &names {
        let input = fs::read(dir.join(format!("{name}.in"))).unwrap();
        let error_file = dir.join(format!("{name}.error"));
        if error_file.exists() {
            let want = fs::read_to_string(&error_file)
                .unwrap()
                .replace("\r\n", "\n");
            let err = format_source(&format!("{name}.in"), &input)
                .expect_err("a parse error was expected");
            let messages: Vec<String> = err.iter().map(|d| d.to_string()).collect();
            assert!(
                messages.iter().any(|m| m.contains(want.trim_end())),
                "{name}: {messages:?} should contain {want:?}"
            );
            checked += 1;
            continue;
        }
        let want = fs::read_to_string(dir.join(format!("{name}.expect"))).unwrap();
        let got = format_source(name, &input).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        if got != want {
            failures.push(format!("--- {name}\nwant:\n{want}\ngot:\n{got}"));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, 7);
}

/// Clear every position so that two parses of differently laid out text
/// compare equal when they mean the same thing.
fn strip_stmts(body: &mut [Stmt]) {
    for s in body {
        match s {
            Stmt::Attribute(a) => {
                a.name.pos = 0;
                strip_expr(&mut a.value);
            }
            Stmt::Block(b) => {
                b.name_pos = 0;
                b.label_pos = 0;
                b.lcurly = 0;
                b.rcurly = 0;
                strip_stmts(&mut b.body);
            }
        }
    }
}

fn strip_expr(e: &mut Expr) {
    match e {
        Expr::Identifier(id) => id.pos = 0,
        Expr::Literal { pos, .. } => *pos = 0,
        Expr::Array {
            elements,
            lbrack,
            rbrack,
        } => {
            *lbrack = 0;
            *rbrack = 0;
            elements.iter_mut().for_each(strip_expr);
        }
        Expr::Object {
            fields,
            lcurly,
            rcurly,
        } => {
            *lcurly = 0;
            *rcurly = 0;
            for ObjectField { name, value, .. } in fields {
                name.pos = 0;
                strip_expr(value);
            }
        }
        Expr::Access { value, name } => {
            name.pos = 0;
            strip_expr(value);
        }
        Expr::Index {
            value,
            index,
            lbrack,
            rbrack,
        } => {
            *lbrack = 0;
            *rbrack = 0;
            strip_expr(value);
            strip_expr(index);
        }
        Expr::Call {
            value,
            args,
            lparen,
            rparen,
        } => {
            *lparen = 0;
            *rparen = 0;
            strip_expr(value);
            args.iter_mut().for_each(strip_expr);
        }
        Expr::Unary { op_pos, value, .. } => {
            *op_pos = 0;
            strip_expr(value);
        }
        Expr::Binary {
            op_pos,
            left,
            right,
            ..
        } => {
            *op_pos = 0;
            strip_expr(left);
            strip_expr(right);
        }
        Expr::Paren {
            inner,
            lparen,
            rparen,
        } => {
            *lparen = 0;
            *rparen = 0;
            strip_expr(inner);
        }
    }
}

/// The statements without positions, and the comment texts in order.
fn meaning(f: &File) -> (Vec<Stmt>, Vec<String>) {
    let mut body = f.body.clone();
    strip_stmts(&mut body);
    let comments = f
        .comments
        .iter()
        .flatten()
        .map(|c| c.text.clone())
        .collect();
    (body, comments)
}

#[test]
fn formatting_full_configs_is_idempotent_and_keeps_meaning() {
    let dir = common::corpus().join("configs");
    let index = fs::read_to_string(dir.join("INDEX.tsv")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.get(2) != Some(&"full") {
            continue;
        }
        let name = cols[0];
        let src = fs::read_to_string(dir.join(name)).unwrap();
        let original = parse(name, &src);
        let once = format_file(&original, src.as_bytes());
        let reparsed = parse(&format!("{name} (formatted)"), &once);
        if meaning(&reparsed) != meaning(&original) {
            failures.push(format!("{name}: formatting changed the AST or comments"));
        }
        let twice = format_file(&reparsed, once.as_bytes());
        if twice != once {
            failures.push(format!(
                "{name}: not idempotent\n--- once\n{once}\n--- twice\n{twice}"
            ));
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} configs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 600, "only {checked} full configs found");
}

/// Formats `src`, checks that the output parses to the same meaning and is a
/// fixed point of the formatter, and returns it.
fn format_stable(src: &str) -> String {
    let original = parse("input", src);
    let once = format_file(&original, src.as_bytes());
    let reparsed = parse("formatted", &once);
    assert_eq!(meaning(&reparsed), meaning(&original), "meaning of {src:?}");
    let twice = format_file(&reparsed, once.as_bytes());
    assert_eq!(twice, once, "formatting {src:?} again changed it");
    once
}

// Regressions found by `examples/fuzz_syntax.rs`.

#[test]
fn statements_joined_onto_one_line_stay_aligned() {
    // Whether a statement or field ends the alignment section depends on the
    // lines it takes in the output, not in the source.
    assert_eq!(
        format_stable("b {\n  input = argument.\ninput.value\n  lag = \"1ms\"\n}\n"),
        "b {\n\tinput = argument.input.value\n\tlag   = \"1ms\"\n}\n"
    );
    assert_eq!(
        format_stable("x = {\n  input = a.\nb,\n  lag = 1,\n}\n"),
        "x = {\n\tinput = a.b,\n\tlag   = 1,\n}\n"
    );
    assert_eq!(
        format_stable("endpoint = \n`u`\nauth = 1\n"),
        "endpoint = `u`\nauth     = 1\n"
    );
}

#[test]
fn raw_strings_are_printed_verbatim() {
    // Tabs at the start of continuation lines are neither aligned nor
    // re-indented, trailing blanks are kept.
    let src = "b {\n\tsource   = \"output\"\n\ttemplate = `{{ x = {\n\t\t\t\ty = 1,  \n\t\t\t}\n\t}}`\n}\n";
    assert_eq!(format_stable(src), src);
}

#[test]
fn control_bytes_in_strings_are_printed_verbatim() {
    for ctl in ["\x0c", "\r", "\x0b", "\t"] {
        let src = format!("b {{\n\turl = \"<URL{ctl}>\"\n\tx   = env(\"A{ctl}B\")\n}}\n");
        assert_eq!(format_stable(&src), src, "{ctl:?}");
    }
    // Also in comments.
    let src = "// a\x0c // b\nx = 1\n";
    assert_eq!(format_stable(src), src);
}

#[test]
fn quoted_object_keys_are_printed_verbatim() {
    // Alloy keeps the text between the quotes as the key, escapes and all.
    let src = "x = [{\"\\x7f_a\" = 1, \"b\x7f\tc\" = 2, \"d\\\"e\" = 3}]\n";
    assert_eq!(format_stable(src), src);
}

#[test]
fn comments_inside_dotted_names_stay_there() {
    // A line break is allowed after a dot, not between the name and `{`.
    assert_eq!(
        format_stable("b {\n  a.\n  // c\n  // d\n  b {\n    x = 1\n  }\n}\n"),
        "b {\n\ta.\n\t// c\n\t// d\n\tb {\n\t\tx = 1\n\t}\n}\n"
    );
    assert_eq!(
        format_stable("x = a.\n// c\nb + 1\n"),
        "x = a.\n// c\nb + 1\n"
    );
    assert_eq!(
        format_stable("rw = prometheus/* c */.remote_write\ny = a./* c */b\n"),
        "rw = prometheus /* c */ .remote_write\ny  = a. /* c */ b\n"
    );
}

#[test]
fn comments_around_assign_stay_on_their_side() {
    assert_eq!(
        format_stable("invalid/* c */= 20\ny = {a/* c */= 1, \"b\" = /* d */ 2}\n"),
        "invalid /* c */ = 20\ny = {a /* c */ = 1, \"b\" = /* d */ 2}\n"
    );
}

#[test]
fn call_without_arguments_gets_no_trailing_comma() {
    assert_eq!(format_stable("x = f(\n\n)\n"), "x = f()\n");
}
