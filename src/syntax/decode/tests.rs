//! Tests for the decoder: a nested component-like struct, Alloy's
//! conversion rules and error texts, and all-at-once diagnostics.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::syntax::ast::Stmt;
use crate::syntax::eval::{EvalContext, Scope};
use crate::syntax::{parse_file, SourceFile};

#[derive(Debug, Default, PartialEq)]
struct BasicAuth {
    username: String,
    password: Secret,
}

impl FromBlock for BasicAuth {
    fn decode_block(d: &mut BlockDecoder<'_, '_>) -> Self {
        BasicAuth {
            username: d.required_attr("username"),
            password: d.attr_or("password", Secret::default()),
        }
    }
}

#[derive(Debug, PartialEq)]
struct QueueConfig {
    capacity: u32,
    min_backoff: Duration,
    max_backoff: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl FromBlock for QueueConfig {
    fn decode_block(d: &mut BlockDecoder<'_, '_>) -> Self {
        let def = QueueConfig::default();
        let q = QueueConfig {
            capacity: d.attr_or("capacity", def.capacity),
            min_backoff: d.attr_or("min_backoff", def.min_backoff),
            max_backoff: d.attr_or("max_backoff", def.max_backoff),
        };
        if q.min_backoff > q.max_backoff {
            d.error("min_backoff must not be greater than max_backoff");
        }
        q
    }
}

#[derive(Debug, Default, PartialEq)]
struct Endpoint {
    url: String,
    remote_timeout: Duration,
    headers: BTreeMap<String, String>,
    basic_auth: Option<BasicAuth>,
    queue_config: QueueConfig,
}

impl FromBlock for Endpoint {
    fn decode_block(d: &mut BlockDecoder<'_, '_>) -> Self {
        Endpoint {
            url: d.required_attr("url"),
            remote_timeout: d.attr_or("remote_timeout", Duration::from_secs(30)),
            headers: d.attr_or("headers", BTreeMap::new()),
            basic_auth: d.block("basic_auth"),
            queue_config: d.block("queue_config").unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, PartialEq)]
struct RemoteWrite {
    label: String,
    endpoints: Vec<Endpoint>,
    external_labels: BTreeMap<String, String>,
}

impl FromBlock for RemoteWrite {
    fn decode_block(d: &mut BlockDecoder<'_, '_>) -> Self {
        RemoteWrite {
            label: d.label().to_string(),
            endpoints: d.blocks("endpoint"),
            external_labels: d.attr_or("external_labels", BTreeMap::new()),
        }
    }
}

fn with_block<R>(
    src: &str,
    scope: &Scope<'_>,
    f: impl FnOnce(&EvalContext<'_>, &BlockStmt) -> R,
) -> R {
    let file = SourceFile::new("test", src.as_bytes().to_vec());
    let (parsed, diags) = parse_file(&file);
    assert!(diags.is_empty(), "{diags}");
    let parsed = parsed.expect("file");
    let Some(Stmt::Block(block)) = parsed.body.first() else {
        panic!("expected a block");
    };
    let ctx = EvalContext::new(&file, scope);
    f(&ctx, block)
}

#[test]
fn decodes_nested_struct() {
    let src = r#"prometheus.remote_write "default" {
  endpoint {
    url            = "http://" + "mimir:9009/api/v1/push"
    remote_timeout = "1m30s"
    headers        = { "X-Scope-OrgID" = "tenant", "X-Count" = 3 }

    basic_auth {
      username = "alice"
      password = sys.env("SMELTER_DECODE_UNSET")
    }

    queue_config {
      capacity    = "2500"
      min_backoff = "500ms"
      max_backoff = "1.5s"
    }
  }
  endpoint {
    url = "http://other"
  }
  external_labels = { cluster = cluster_name }
}"#;
    let mut scope = Scope::new();
    scope.insert("cluster_name", Value::from("eu-1"));
    let rw: RemoteWrite = with_block(src, &scope, decode_block).expect("decode");
    assert_eq!(rw.label, "default");
    assert_eq!(rw.endpoints.len(), 2);
    let e = &rw.endpoints[0];
    assert_eq!(e.url, "http://mimir:9009/api/v1/push");
    assert_eq!(e.remote_timeout, Duration::from_secs(90));
    assert_eq!(e.headers.get("X-Count").map(String::as_str), Some("3"));
    assert_eq!(
        e.headers.get("X-Scope-OrgID").map(String::as_str),
        Some("tenant")
    );
    assert_eq!(
        e.basic_auth,
        Some(BasicAuth {
            username: "alice".into(),
            password: Secret(String::new()),
        })
    );
    assert_eq!(
        e.queue_config,
        QueueConfig {
            capacity: 2500,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_millis(1500),
        }
    );
    assert_eq!(rw.endpoints[1].queue_config, QueueConfig::default());
    assert_eq!(rw.endpoints[1].remote_timeout, Duration::from_secs(30));
    assert_eq!(
        rw.external_labels.get("cluster").map(String::as_str),
        Some("eu-1")
    );
}

#[test]
fn reports_every_problem_at_once() {
    let src = r#"prometheus.remote_write "default" {
  endpoint {
    remote_timeout = "soon"
    basic_auth = {}
    queue_config {
      min_backoff = "10s"
      max_backoff = "1s"
    }
    queue_config { }
    bogus = 1
    bogus = 2
    nested { }
  }
  external_labels = { a = [1] }
}"#;
    let scope = Scope::new();
    let res: Result<RemoteWrite, _> = with_block(src, &scope, decode_block);
    let diags = res.expect_err("errors");
    let got: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        got,
        vec![
            r#"test:2:3: missing required attribute "url""#,
            r#"test:3:22: "soon" time: invalid duration "soon""#,
            r#"test:4:5: "basic_auth" must be a block, but is used as an attribute"#,
            "test:5:5: min_backoff must not be greater than max_backoff",
            r#"test:9:5: block "queue_config" may only be specified once"#,
            r#"test:10:5: unrecognized attribute name "bogus""#,
            r#"test:11:5: attribute "bogus" may only be provided once"#,
            r#"test:12:5: unrecognized block name "nested""#,
            "test:14:27: [1] should be string, got array",
        ]
    );
}

#[test]
fn attribute_used_as_block_and_missing_block() {
    #[derive(Default)]
    struct NeedsBlock {
        _x: String,
        _b: BasicAuth,
    }
    impl FromBlock for NeedsBlock {
        fn decode_block(d: &mut BlockDecoder<'_, '_>) -> Self {
            NeedsBlock {
                _x: d.attr_or("x", String::new()),
                _b: d.required_block("basic_auth"),
            }
        }
    }
    let scope = Scope::new();
    let res: Result<NeedsBlock, _> = with_block("a {\n  x { }\n}", &scope, decode_block);
    let got: Vec<String> = res
        .err()
        .map(|d| d.iter().map(|d| d.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(
        got,
        vec![
            r#"test:1:1: missing required block "basic_auth""#,
            r#"test:2:3: "x" must be an attribute, but is used as a block"#,
        ]
    );
}

/// `syntax/vm/vm_errors_test.go`: type errors name the most specific node.
#[test]
fn alloy_expr_error_cases() {
    #[derive(Default)]
    struct Target {
        _key: BTreeMap<String, BTreeMap<String, Vec<i64>>>,
    }
    impl FromBlock for Target {
        fn decode_block(d: &mut BlockDecoder<'_, '_>) -> Self {
            Target {
                _key: d.attr_or("key", BTreeMap::new()),
            }
        }
    }
    #[derive(Default)]
    struct StrTarget;
    impl FromBlock for StrTarget {
        fn decode_block(d: &mut BlockDecoder<'_, '_>) -> Self {
            let _: String = d.attr_or("key", String::new());
            StrTarget
        }
    }
    fn run<T: FromBlock>(src: &str, scope: &Scope<'_>) -> String {
        let file = SourceFile::new("test", src.as_bytes().to_vec());
        let (parsed, _) = parse_file(&file);
        let parsed = parsed.expect("file");
        let ctx = EvalContext::new(&file, scope);
        match decode_body::<T>(&ctx, &parsed.body) {
            Ok(_) => "ok".into(),
            Err(d) => d.to_string(),
        }
    }
    let empty = Scope::new();
    assert_eq!(
        run::<Target>("key = true", &empty),
        "test:1:7: true should be object, got bool"
    );
    assert_eq!(
        run::<Target>(
            "\n\t\t\t\tkey = {\n\t\t\t\t\tobject = {\n\t\t\t\t\t\tfield1 = [15, 30, \"Hello, world!\"],\n\t\t\t\t\t},\n\t\t\t\t}\n",
            &empty
        ),
        r#"test:4:25: "Hello, world!" should be number, got string"#
    );
    let mut scope = Scope::new();
    scope.insert(
        "key_value",
        Value::object([(
            "object",
            Value::object([(
                "field1",
                Value::Array(vec![Value::int(15), Value::int(30), "Hello, world!".into()]),
            )]),
        )]),
    );
    assert_eq!(
        run::<Target>("key = key_value", &scope),
        "test:1:7: key_value.object.field1[2] should be number, got string"
    );
    assert_eq!(
        run::<StrTarget>("key = [0, 1, 2]", &empty),
        "test:1:7: [0, 1, 2] should be string, got array"
    );
}

#[test]
fn value_conversions() {
    let v = |x: Value| x;
    assert_eq!(i64::from_value(&v(Value::from("12"))), Ok(12));
    assert_eq!(f64::from_value(&v(Value::from("12"))), Ok(12.0));
    assert_eq!(i64::from_value(&v(Value::from("-12"))), Ok(-12));
    assert_eq!(f64::from_value(&v(Value::from("1.5e3"))), Ok(1500.0));
    assert_eq!(String::from_value(&Value::int(24)), Ok("24".into()));
    assert_eq!(String::from_value(&Value::float(3.9)), Ok("3.9".into()));
    assert_eq!(String::from_value(&Value::float(0.9)), Ok("0.9".into()));
    assert_eq!(u8_like(&Value::int(18)), 18);
    assert_eq!(Option::<String>::from_value(&Value::Null), Ok(None));
    assert_eq!(String::from_value(&Value::Null), Ok(String::new()));
    assert_eq!(Vec::<i64>::from_value(&Value::Null), Ok(vec![]));
    assert_eq!(bool::from_value(&Value::Bool(true)), Ok(true));
    assert_eq!(
        bool::from_value(&Value::from("true")).map_err(|e| e.message()),
        Err("should be bool, got string".into())
    );
    assert_eq!(
        i64::from_value(&Value::from("abc")).map_err(|e| e.message()),
        Err("should be number, got string".into())
    );
    assert_eq!(
        String::from_value(&Value::secret("x")).map_err(|e| e.message()),
        Err("secrets may not be converted into strings".into())
    );
    assert_eq!(
        Secret::from_value(&Value::from("pw")),
        Ok(Secret("pw".into()))
    );
    let opt = Value::Capsule(crate::syntax::value::Capsule::OptionalSecret {
        value: "123".into(),
        is_secret: false,
    });
    assert_eq!(i64::from_value(&opt), Ok(123));
    assert_eq!(
        ReceiverId::from_value(&Value::receiver("a.b", "receiver")),
        Ok(ReceiverId {
            component: "a.b".into(),
            export: "receiver".into()
        })
    );
    let err = Vec::<BTreeMap<String, i64>>::from_value(&Value::Array(vec![Value::object([(
        "a",
        Value::from("x"),
    )])]))
    .expect_err("nested");
    assert_eq!(err.to_string(), "[0].a should be number, got string");
}

fn u8_like(v: &Value) -> u32 {
    u32::from_value(v).unwrap_or(0)
}

#[test]
fn go_durations() {
    let ns = |s: &str| parse_go_duration(s);
    assert_eq!(ns("1h30m"), Ok(5_400_000_000_000));
    assert_eq!(ns("500ms"), Ok(500_000_000));
    assert_eq!(ns("1.5s"), Ok(1_500_000_000));
    assert_eq!(ns("0"), Ok(0));
    assert_eq!(ns("-1.5h"), Ok(-5_400_000_000_000));
    assert_eq!(ns(".5s"), Ok(500_000_000));
    assert_eq!(ns("1us"), Ok(1_000));
    assert_eq!(ns("1µs"), Ok(1_000));
    assert_eq!(ns("2h45m10.5s"), Ok(9_910_500_000_000));
    assert_eq!(ns("5"), Err(r#"time: missing unit in duration "5""#.into()));
    assert_eq!(
        ns("5x"),
        Err(r#"time: unknown unit "x" in duration "5x""#.into())
    );
    assert_eq!(ns(""), Err(r#"time: invalid duration """#.into()));
    assert_eq!(ns("."), Err(r#"time: invalid duration ".""#.into()));
    assert_eq!(
        ns("9999999999h"),
        Err(r#"time: invalid duration "9999999999h""#.into())
    );
    assert!(Duration::from_value(&Value::from("-1s")).is_err());
    assert_eq!(Duration::from_value(&Value::Null), Ok(Duration::ZERO));
}
