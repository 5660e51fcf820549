//! Expression evaluation and the standard library against Alloy's own test
//! cases (`syntax/vm/*_test.go`, `syntax/internal/stdlib`), including error
//! messages and positions.

use smelter::syntax::ast::Expr;
use smelter::syntax::{
    parse_expression, Diagnostic, EvalContext, Scope, Severity, SourceFile, StabilityLevel, Value,
};

fn parse(src: &str) -> (SourceFile, Expr) {
    let file = SourceFile::new("test", src.as_bytes().to_vec());
    let expr = parse_expression(&file).unwrap_or_else(|d| panic!("parse {src}: {d}"));
    (file, expr)
}

fn eval_in(
    src: &str,
    scope: &Scope<'_>,
    stability: StabilityLevel,
) -> (Result<Value, Diagnostic>, Vec<Diagnostic>) {
    let (file, expr) = parse(src);
    let ctx = EvalContext::new(&file, scope).with_stability(stability);
    let r = ctx.eval(&expr);
    (r, ctx.take_warnings())
}

fn test_scope() -> Scope<'static> {
    let mut s = Scope::new();
    s.insert("foobar", Value::int(42));
    s.insert("secret", Value::secret("foo"));
    s.insert(
        "optionalSecret",
        Value::Capsule(smelter::syntax::Capsule::OptionalSecret {
            value: "bar".into(),
            is_secret: false,
        }),
    );
    s
}

fn ev(src: &str) -> Value {
    let scope = test_scope();
    match eval_in(src, &scope, StabilityLevel::Experimental).0 {
        Ok(v) => v,
        Err(d) => panic!("{src}: {d}"),
    }
}

fn err(src: &str) -> String {
    let scope = test_scope();
    match eval_in(src, &scope, StabilityLevel::Experimental).0 {
        Ok(v) => panic!("{src}: expected an error, got {v:?}"),
        Err(d) => d.to_string(),
    }
}

fn strs(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(*s)).collect())
}

#[test]
fn literals_and_precedence() {
    assert_eq!(ev("2 ^ 3 ^ 2"), Value::int(512));
    assert_eq!(ev("-2 ^ 2"), Value::int(4));
    assert_eq!(ev("010"), Value::int(8));
    assert_eq!(ev("08"), Value::float(8.0));
    assert_eq!(ev("7 / 2"), Value::int(3));
    assert_eq!(ev("7.0 / 2"), Value::float(3.5));
    assert_eq!(ev("-7 / 2"), Value::int(-3));
    assert_eq!(ev("3 == 3.0"), Value::Bool(true));
    assert_eq!(ev("3 != 3.0"), Value::Bool(false));
    assert_eq!(ev("1 + 2 * 3"), Value::int(7));
    assert_eq!(ev("(1 + 2) * 3"), Value::int(9));
    assert_eq!(ev(r#""a\tb""#), Value::from("a\tb"));
    assert_eq!(ev("`raw\\n`"), Value::from("raw\\n"));
    assert_eq!(ev("null"), Value::Null);
    assert_eq!(ev("2 ^ -1"), Value::int(2));
}

#[test]
fn alloy_binop_cases() {
    let cases: &[(&str, Value)] = &[
        ("true || false", Value::Bool(true)),
        ("false || false", Value::Bool(false)),
        ("true && false", Value::Bool(false)),
        ("true && true", Value::Bool(true)),
        ("3 == 5", Value::Bool(false)),
        ("3 == 3", Value::Bool(true)),
        ("3 != 5", Value::Bool(true)),
        ("3 < 5", Value::Bool(true)),
        ("3 <= 5", Value::Bool(true)),
        ("3 > 5", Value::Bool(false)),
        ("3 >= 5", Value::Bool(false)),
        ("3 + 5", Value::int(8)),
        ("3 - 5", Value::int(-2)),
        ("3 * 5", Value::int(15)),
        ("3.0 / 5.0", Value::float(0.6)),
        ("5 % 3", Value::int(2)),
        ("3 ^ 5", Value::int(243)),
        ("3 ^ 0", Value::int(1)),
        ("3 ^ 1", Value::int(3)),
        ("0 ^ 1", Value::int(0)),
        ("3 + 5 * 2", Value::int(13)),
        ("42.0^-2", Value::float(0.0005668934240362812)),
        ("foobar", Value::int(42)),
        ("[]", Value::Array(vec![])),
        ("[0, 1, 2]", Value::from(vec![0i64, 1, 2])),
        ("{ a = 15 }.a", Value::int(15)),
        ("{ a = { b = 12 } }.a.b", Value::int(12)),
        (r#"{}["foo"]"#, Value::Null),
        ("[0, 1, 2][1]", Value::int(1)),
        ("[[1,2,3]][0][2]", Value::int(3)),
        ("[true, false][0]", Value::Bool(true)),
        ("(15)", Value::int(15)),
        ("!true", Value::Bool(false)),
        ("-15", Value::int(-15)),
        (r#""a" + "b""#, Value::from("ab")),
        (r#""a" < "b""#, Value::Bool(true)),
        ("[1, [2]] == [1, [2.0]]", Value::Bool(true)),
        ("{a = 1} == {a = 1}", Value::Bool(true)),
        ("{a = 1} == {a = 1, b = 2}", Value::Bool(false)),
        (r#"1 == "1""#, Value::Bool(false)),
        ("null == null", Value::Bool(true)),
        ("5.5 % 2", Value::float(1.5)),
    ];
    for (src, want) in cases {
        assert_eq!(&ev(src), want, "{src}");
    }
}

#[test]
fn secrets_in_binops() {
    assert_eq!(ev(r#""a" + secret"#), Value::secret("afoo"));
    assert_eq!(ev(r#"secret + "b""#), Value::secret("foob"));
    assert_eq!(ev(r#"optionalSecret + "!""#), Value::from("bar!"));
    assert_eq!(ev(r#"secret == "foo""#), Value::Bool(true));
}

#[test]
fn error_messages_and_positions() {
    assert_eq!(
        err("1 + true"),
        "test:1:5: true should be one of [number string capsule] for binop +, got bool"
    );
    assert_eq!(
        err(r#"1 + "a""#),
        r#"test:1:5: "a" should be number, got string"#
    );
    assert_eq!(err("1 / 0"), "test:1:5: 0 divide by zero error");
    assert_eq!(err("5 % 0.0"), "test:1:5: 0.0 divide by zero error");
    assert_eq!(err("!1"), "test:1:2: 1 should be bool, got number");
    assert_eq!(
        err("-\"x\""),
        r#"test:1:2: "x" should be number, got string"#
    );
    assert_eq!(
        err("missing"),
        r#"test:1:1: identifier "missing" does not exist"#
    );
    assert_eq!(
        err("{a = 1}.missing"),
        r#"test:1:9: field "missing" does not exist"#
    );
    assert_eq!(
        err("[1, 2][5]"),
        "test:1:8: 5 index 5 is out of range of array with length 2"
    );
    assert_eq!(
        err(r#"[1, 2]["a"]"#),
        r#"test:1:8: "a" should be number, got string"#
    );
    assert_eq!(
        err("{a = 1}[0]"),
        "test:1:9: 0 should be string, got number"
    );
    assert_eq!(
        err("true[0]"),
        "test:1:1: true expected object or array, got bool"
    );
    assert_eq!(
        err("foobar.x"),
        r#"test:1:1: foobar cannot access field "x" on value of type number"#
    );
    assert_eq!(
        err("foobar(1)"),
        "test:1:1: foobar should be function, got number"
    );
    // `&&` evaluates both sides: an error on the right is reported.
    assert_eq!(
        err("false && 1"),
        "test:1:10: 1 should be one of [bool] for binop &&, got number"
    );
    // Multi-line: the end position covers the whole node.
    let scope = test_scope();
    let (r, _) = eval_in(
        "[\n  1,\n  2 + \"x\",\n]",
        &scope,
        StabilityLevel::Experimental,
    );
    let d = r.expect_err("type error");
    assert_eq!((d.start.line, d.start.column), (3, 7));
    assert_eq!((d.end.line, d.end.column), (3, 9));
}

/// Exports borrowed at a component's path read exactly as if they had been
/// copied in with `insert_path`, whole paths, prefixes and shadowing alike.
#[test]
fn borrowed_exports_read_as_inserted_ones() {
    let default = Value::object([("x", Value::int(1)), ("y", Value::from("a"))]);
    let other = Value::object([("x", Value::int(2))]);
    let mut borrowed = Scope::new();
    borrowed.borrow_path("prometheus.remote_write.default", &default);
    borrowed.borrow_path("prometheus.remote_write.other", &other);
    let mut copied = Scope::new();
    copied.insert_path(&["prometheus", "remote_write", "default"], default.clone());
    copied.insert_path(&["prometheus", "remote_write", "other"], other.clone());
    let ga = StabilityLevel::GenerallyAvailable;
    for src in [
        "prometheus.remote_write.default.x",
        "prometheus.remote_write.default",
        "prometheus.remote_write",
        "prometheus",
        "[prometheus.remote_write.other.x, prometheus.remote_write.default.y]",
        "prometheus.remote_write.default.nope",
        "prometheus.remote_write.nope.x",
        "prometheus.remote_write[\"other\"].x",
    ] {
        let (got, _) = eval_in(src, &borrowed, ga);
        let (want, _) = eval_in(src, &copied, ga);
        assert_eq!(
            got.map_err(|d| d.to_string()),
            want.map_err(|d| d.to_string()),
            "{src}"
        );
    }
    // A variable of the same name shadows borrowed paths, in a child too.
    let mut child = Scope::with_parent(&borrowed);
    child.insert(
        "prometheus",
        Value::object([("remote_write", Value::int(3))]),
    );
    let (r, _) = eval_in("prometheus.remote_write", &child, ga);
    assert_eq!(r.expect("eval"), Value::int(3));
    let (r, _) = eval_in("prometheus.remote_write.default.x", &child, ga);
    assert!(r.is_err(), "the variable, not the borrowed path");
}

#[test]
fn scope_lookup_and_component_exports() {
    let mut root = Scope::new();
    root.insert_path(
        &["prometheus", "remote_write", "default"],
        Value::object([(
            "receiver",
            Value::receiver("prometheus.remote_write.default", "receiver"),
        )]),
    );
    root.insert_path(
        &["prometheus", "remote_write", "other"],
        Value::object([("x", Value::int(1))]),
    );
    let mut child = Scope::with_parent(&root);
    child.insert("local", Value::from("here"));
    let (r, _) = eval_in(
        "[prometheus.remote_write.default.receiver, local]",
        &child,
        StabilityLevel::GenerallyAvailable,
    );
    assert_eq!(
        r.expect("eval"),
        Value::Array(vec![
            Value::receiver("prometheus.remote_write.default", "receiver"),
            Value::from("here"),
        ])
    );
    let (r, _) = eval_in(
        "prometheus.remote_write.other.x",
        &child,
        StabilityLevel::GenerallyAvailable,
    );
    assert_eq!(r.expect("eval"), Value::int(1));
    // A scope name shadows the standard library.
    let mut s = Scope::new();
    s.insert("coalesce", Value::int(1));
    let (r, _) = eval_in("coalesce", &s, StabilityLevel::GenerallyAvailable);
    assert_eq!(r.expect("eval"), Value::int(1));
}

#[test]
fn stdlib_cases() {
    std::env::set_var("SMELTER_EVAL_TEST_VAR", "Hello!");
    let cases: &[(&str, Value)] = &[
        (r#"env("SMELTER_EVAL_TEST_VAR")"#, Value::from("Hello!")),
        (r#"sys.env("SMELTER_EVAL_TEST_VAR")"#, Value::from("Hello!")),
        (r#"sys.env("SMELTER_EVAL_UNSET_VAR")"#, Value::from("")),
        (
            r#"concat([true, "foo"], [], [false, 1])"#,
            Value::Array(vec![
                Value::Bool(true),
                "foo".into(),
                Value::Bool(false),
                Value::int(1),
            ]),
        ),
        (
            r#"array.concat([true, "foo"], [], [false, 1])"#,
            Value::Array(vec![
                Value::Bool(true),
                "foo".into(),
                Value::Bool(false),
                Value::int(1),
            ]),
        ),
        ("array.concat()", Value::Array(vec![])),
        (
            r#"json_decode("{\"foo\": \"bar\"}")"#,
            Value::object([("foo", Value::from("bar"))]),
        ),
        (
            "yaml_decode(`foo: bar`)",
            Value::object([("foo", Value::from("bar"))]),
        ),
        (
            r#"base64_decode("Zm9vYmFyMTIzIT8kKiYoKSctPUB+")"#,
            Value::from("foobar123!?$*&()'-=@~"),
        ),
        (
            r#"encoding.from_json("{\"foo\": \"bar\"}")"#,
            Value::object([("foo", Value::from("bar"))]),
        ),
        (
            r#"encoding.from_json("[0, 1, 2]")"#,
            Value::from(vec![0.0f64, 1.0, 2.0]),
        ),
        (
            r#"encoding.from_json("{\"foo\": null}")"#,
            Value::object([("foo", Value::Null)]),
        ),
        (
            r#"encoding.from_json("[0, null]")"#,
            Value::Array(vec![Value::float(0.0), Value::Null]),
        ),
        (
            "encoding.from_yaml(`[0, 1, 2]`)",
            Value::from(vec![0i64, 1, 2]),
        ),
        (
            "encoding.from_yaml(`[0.0, 1.0, 2.0]`)",
            Value::from(vec![0.0f64, 1.0, 2.0]),
        ),
        (
            "encoding.from_yaml(`foo: null`)",
            Value::object([("foo", Value::Null)]),
        ),
        (
            r#"encoding.from_base64("Zm9vYmFyMTIzIT8kKiYoKSctPUB+")"#,
            Value::from("foobar123!?$*&()'-=@~"),
        ),
        (
            r#"encoding.from_URLbase64("c3RyaW5nMTIzIT8kKiYoKSctPUB-")"#,
            Value::from("string123!?$*&()'-=@~"),
        ),
        (
            r#"encoding.to_base64("string123!?$*&()'-=@~")"#,
            Value::from("c3RyaW5nMTIzIT8kKiYoKSctPUB+"),
        ),
        (
            r#"encoding.to_URLbase64("string123!?$*&()'-=@~")"#,
            Value::from("c3RyaW5nMTIzIT8kKiYoKSctPUB-"),
        ),
        (
            r#"encoding.url_encode("string123!?$*&()'-=@~")"#,
            Value::from("string123%21%3F%24%2A%26%28%29%27-%3D%40~"),
        ),
        (
            r#"encoding.url_decode("string123%21%3F%24%2A%26%28%29%27-%3D%40~")"#,
            Value::from("string123!?$*&()'-=@~"),
        ),
        (r#"encoding.url_encode("a b")"#, Value::from("a+b")),
        (
            r#"encoding.to_json({"modules"={"http_2xx"={"prober"="http","timeout"="5s","http"={"headers"={"Authorization"=sys.env("SMELTER_EVAL_TEST_VAR")}}}}})"#,
            Value::from(
                r#"{"modules":{"http_2xx":{"http":{"headers":{"Authorization":"Hello!"}},"prober":"http","timeout":"5s"}}}"#,
            ),
        ),
        ("coalesce()", Value::Null),
        (r#"coalesce("Hello!")"#, Value::from("Hello!")),
        (
            r#"coalesce(sys.env("SMELTER_EVAL_UNSET_VAR"), "World!")"#,
            Value::from("World!"),
        ),
        (r#"coalesce([], ["fallback"])"#, strs(&["fallback"])),
        (
            r#"coalesce(array.concat(["item"]), ["fallback"])"#,
            strs(&["item"]),
        ),
        ("coalesce(0, 1, 2)", Value::int(1)),
        ("coalesce(false, 1, 2)", Value::int(1)),
        ("coalesce(false, true)", Value::Bool(true)),
        (
            r#"coalesce(encoding.from_json("[]"), true)"#,
            Value::Bool(true),
        ),
        (
            r#"coalesce(encoding.from_json("{}"), false)"#,
            Value::Bool(false),
        ),
        ("coalesce([],null)", Value::Null),
        (r#"coalesce(optionalSecret, 1)"#, ev("optionalSecret")),
        (r#"json_path("{\"a\": \"b\"}", ".a")"#, strs(&["b"])),
        (
            r#"json_path("{\"a\": \"b\"}", ".nonexists")"#,
            Value::Array(vec![]),
        ),
        (
            r#"json_path("[{\"name\": \"Department\",\"value\": \"IT\"},{\"name\":\"ReferenceNumber\",\"value\":\"123456\"},{\"name\":\"TestStatus\",\"value\":\"Pending\"}]", "[?(@.name == \"Department\")].value")"#,
            strs(&["IT"]),
        ),
        (r#"json_path("{\"a\": \"b\"}", ".a")[0]"#, Value::from("b")),
        ("nonsensitive(secret)", Value::from("foo")),
        ("convert.nonsensitive(secret)", Value::from("foo")),
        ("convert.nonsensitive(optionalSecret)", Value::from("bar")),
        (r#"to_lower("String")"#, Value::from("string")),
        (r#"to_upper("string")"#, Value::from("STRING")),
        ("trim_space(\"   string \\n\\n\")", Value::from("string")),
        (
            r#"to_lower(to_upper(trim_space("   String   ")))"#,
            Value::from("string"),
        ),
        (
            r#"split("/aaa/bbb/ccc/ddd", "/")"#,
            strs(&["", "aaa", "bbb", "ccc", "ddd"]),
        ),
        (r#"split("/aaa/bbb/ccc/ddd", "/")[0]"#, Value::from("")),
        (
            r#"join(split("/aaa/bbb/ccc/ddd", "/"), "/")"#,
            Value::from("/aaa/bbb/ccc/ddd"),
        ),
        (
            r#"join(["foo", "bar", "baz"], ", ")"#,
            Value::from("foo, bar, baz"),
        ),
        (r#"join([0, 0, 1], ", ")"#, Value::from("0, 0, 1")),
        (r#"format("Hello %s", "World")"#, Value::from("Hello World")),
        (r#"format("%#v", 1)"#, Value::from("1")),
        (r#"format("%#v", true)"#, Value::from("true")),
        (r#"format("%q", "hello")"#, Value::from(r#""hello""#)),
        (
            r#"replace("Hello World", " World", "!")"#,
            Value::from("Hello!"),
        ),
        (r#"trim("?!hello?!", "!?")"#, Value::from("hello")),
        (
            r#"trim("   hello! world.!  ", "! ")"#,
            Value::from("hello! world."),
        ),
        (
            r#"trim_prefix("helloworld", "hello")"#,
            Value::from("world"),
        ),
        (
            r#"trim_suffix("helloworld", "world")"#,
            Value::from("hello"),
        ),
        (r#"string.to_lower("String")"#, Value::from("string")),
        (r#"string.to_upper("string")"#, Value::from("STRING")),
        (
            r#"string.split("/aaa/bbb/ccc/ddd", "/")"#,
            strs(&["", "aaa", "bbb", "ccc", "ddd"]),
        ),
        (r#"string.join([0, 0, 1], ", ")"#, Value::from("0, 0, 1")),
        (
            r#"string.format("Hello %s", "World")"#,
            Value::from("Hello World"),
        ),
        (
            r#"string.format("%d items, %.1f%%", 3, 99.5)"#,
            Value::from("3 items, 99.5%"),
        ),
        (
            r#"string.replace("Hello World", " World", "!")"#,
            Value::from("Hello!"),
        ),
        (r#"string.trim("?!hello?!", "!?")"#, Value::from("hello")),
        (
            r#"string.trim_prefix("helloworld", "hello")"#,
            Value::from("world"),
        ),
        (
            r#"string.trim_suffix("helloworld", "world")"#,
            Value::from("hello"),
        ),
        (
            r#"file.path_join("this/is", "a/path")"#,
            Value::from("this/is/a/path"),
        ),
        ("file.path_join()", Value::from("")),
        (
            "constants.os",
            Value::from(if cfg!(target_os = "macos") {
                "darwin"
            } else {
                std::env::consts::OS
            }),
        ),
    ];
    for (src, want) in cases {
        assert_eq!(&ev(src), want, "{src}");
    }
    let arch = ev("constants.arch");
    assert!(
        matches!(
            arch.as_str(),
            Some(
                "amd64"
                    | "arm64"
                    | "386"
                    | "arm"
                    | "riscv64"
                    | "s390x"
                    | "ppc64le"
                    | "ppc64"
                    | "loong64"
            )
        ),
        "{arch:?}"
    );
    assert!(matches!(ev("constants.hostname"), Value::String(_)));
    assert!(matches!(ev("constants.version"), Value::String(_)));
}

#[test]
fn combine_maps_and_group_by() {
    let obj = |pairs: &[(&str, Value)]| Value::object(pairs.iter().cloned());
    assert_eq!(
        ev(r#"array.combine_maps([{"a" = "a1", "b" = "b1"}], [{"a" = "a1", "c" = "c1"}], ["a"])"#),
        Value::Array(vec![obj(&[
            ("a", "a1".into()),
            ("b", "b1".into()),
            ("c", "c1".into())
        ])])
    );
    assert_eq!(
        ev(r#"array.combine_maps([{"a" = 1, "b" = 2.2}], [{"a" = 2, "b" = "3.3"}], ["a"])"#),
        Value::Array(vec![])
    );
    assert_eq!(
        ev(
            r#"array.combine_maps([{"a" = 1, "b" = 4.2, "c" = 5}, {"d" = "asdf"}], [{"a" = 2, "b" = "5.3"}], ["a"], true)"#
        ),
        Value::Array(vec![
            obj(&[
                ("a", Value::int(1)),
                ("b", Value::float(4.2)),
                ("c", Value::int(5))
            ]),
            obj(&[("d", "asdf".into())]),
        ])
    );
    assert_eq!(
        ev(
            r#"array.combine_maps([{"a" = 1, "n" = 1.1}], [{"a" = 1, "n" = 2.1}, {"n" = 2.2}], ["a"])"#
        ),
        Value::Array(vec![obj(&[("a", Value::int(1)), ("n", Value::float(2.1))])])
    );
    assert_eq!(
        err(r#"array.combine_maps([{"a" = "a1", "b" = "b1"}], "a", ["a"])"#),
        r#"test:1:48: "a" should be array, got string"#
    );
    assert_eq!(
        err(r#"array.combine_maps([{"a" = "a1", "b" = "b1"}], ["a"], ["a"])"#),
        r#"test:1:49: "a" should be object, got string"#
    );
    assert!(err(
        r#"array.combine_maps([{"a" = "a1", "b" = "b1"}], [{"a" = "a1", "c" = "b1"}], [])"#
    )
    .contains("combine_maps: merge conditions must not be empty"));
    assert_eq!(
        err("encoding.to_json(12)"),
        "test:1:1: encoding.to_json jsonEncode only supports map"
    );
    assert_eq!(
        ev(
            r#"array.group_by([{"k" = "x", "v" = 1}, {"k" = "y"}, {"k" = "x", "v" = 2}, {"z" = 1}], "k", true)"#
        ),
        Value::Array(vec![
            obj(&[
                (
                    "items",
                    Value::Array(vec![
                        obj(&[("k", "x".into()), ("v", Value::int(1))]),
                        obj(&[("k", "x".into()), ("v", Value::int(2))])
                    ])
                ),
                ("k", "x".into())
            ]),
            obj(&[
                ("items", Value::Array(vec![obj(&[("k", "y".into())])])),
                ("k", "y".into())
            ]),
        ])
    );
}

#[test]
fn experimental_functions_need_stability_flag() {
    let scope = Scope::new();
    let (r, _) = eval_in(
        r#"array.combine_maps([{"a" = 1}], [{"a" = 1}], ["a"])"#,
        &scope,
        StabilityLevel::GenerallyAvailable,
    );
    let d = r.expect_err("experimental");
    assert_eq!(
        d.message,
        r#"array.combine_maps is at stability level "experimental", which is below the minimum allowed stability level "generally-available". Use --stability.level command-line flag to enable "experimental" features"#
    );
    let (r, _) = eval_in(
        r#"array.concat([1], [2])"#,
        &scope,
        StabilityLevel::GenerallyAvailable,
    );
    assert!(r.is_ok());
}

#[test]
fn deprecated_names_warn() {
    let scope = Scope::new();
    let (r, warnings) = eval_in(
        r#"to_upper(env("SMELTER_EVAL_UNSET_VAR2")) + "x""#,
        &scope,
        StabilityLevel::GenerallyAvailable,
    );
    assert_eq!(r.expect("eval"), Value::from("x"));
    assert_eq!(warnings.len(), 2);
    assert!(warnings.iter().all(|w| w.severity == Severity::Warning));
    assert_eq!(
        warnings[0].to_string(),
        "test:1:1: this stdlib function is deprecated; please refer to the documentation for updated usage and alternatives"
    );
    assert_eq!((warnings[1].start.column, warnings[1].end.column), (10, 12));
    let (_, warnings) = eval_in(
        r#"string.to_upper("a")"#,
        &scope,
        StabilityLevel::GenerallyAvailable,
    );
    assert!(warnings.is_empty());
}

#[test]
fn function_errors() {
    assert_eq!(
        err(r#"sys.env("a", "b")"#),
        "test:1:1: sys.env expected 1 args, got 2"
    );
    assert_eq!(
        err(r#"encoding.from_base64("!!")"#)
            .split(':')
            .take(3)
            .collect::<Vec<_>>()
            .join(":"),
        "test:1:1"
    );
    assert_eq!(
        err(r#"string.to_upper(true)"#),
        "test:1:17: true should be string, got bool"
    );
    assert_eq!(
        err("array.concat([1], 2)"),
        "test:1:19: 2 should be array, got number"
    );
    assert_eq!(
        err("convert.nonsensitive([1])"),
        "test:1:22: [1] should be capsule, got array"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!("{}1{}", "(".repeat(400), ")".repeat(400));
    let file = SourceFile::new("test", src.into_bytes());
    if let Ok(expr) = parse_expression(&file) {
        let scope = Scope::new();
        let ctx = EvalContext::new(&file, &scope);
        // Either a value or a positioned error; never a stack overflow.
        let _ = ctx.eval(&expr);
    }
    let long = vec!["1"; 5000].join(" + ");
    let file = SourceFile::new("test", long.into_bytes());
    if let Ok(expr) = parse_expression(&file) {
        let scope = Scope::new();
        let ctx = EvalContext::new(&file, &scope);
        let _ = ctx.eval(&expr);
    }
}
