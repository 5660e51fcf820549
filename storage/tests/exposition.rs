//! Tests of the scrape parser (`smelter_storage::exposition`).

use std::borrow::Cow;

use proptest::prelude::*;
use smelter_storage::exposition::{
    family_name, Entry, ErrorKind, Exemplar, Format, Limits, MetricKind, ParseError, Parser,
};

const NODE_PROM: &[u8] = include_bytes!("data/node_exporter.prom");
const NODE_OM: &[u8] = include_bytes!("data/node_exporter.om.txt");

type Owned = (String, Vec<(String, String)>, f64, Option<i64>);

fn entries(src: &str, f: Format) -> Result<Vec<Entry<'_>>, ParseError> {
    Parser::new(src.as_bytes(), f).collect()
}

fn samples(src: &str, f: Format) -> Vec<Owned> {
    Parser::new(src.as_bytes(), f)
        .filter_map(|e| match e.unwrap_or_else(|e| panic!("{src:?}: {e}")) {
            Entry::Sample {
                name,
                labels,
                value,
                timestamp_ms,
                ..
            } => Some((
                name.to_string(),
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.into_owned()))
                    .collect(),
                value,
                timestamp_ms,
            )),
            _ => None,
        })
        .collect()
}

fn one(src: &str, f: Format) -> Owned {
    let s = samples(src, f);
    assert_eq!(s.len(), 1, "{src:?}");
    s.into_iter().next().unwrap()
}

fn err(src: &str, f: Format) -> ParseError {
    let mut p = Parser::new(src.as_bytes(), f);
    let e = p
        .by_ref()
        .find_map(|e| e.err())
        .unwrap_or_else(|| panic!("no error for {src:?}"));
    assert!(p.next().is_none(), "parser not fused after error");
    e
}

fn err_msg(src: &str, f: Format) -> String {
    err(src, f).to_string()
}

fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const T: Format = Format::PrometheusText;
const OM: Format = Format::OpenMetrics;

// ---------------------------------------------------------------- text 0.0.4

#[test]
fn text_basic_page() {
    let page = "# HELP http_requests_total The total number of HTTP requests.\n\
                # TYPE http_requests_total counter\n\
                http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
                http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n\
                \n\
                # A normal comment.\n\
                metric_without_timestamp_and_labels 12.47\n";
    let e = entries(page, T).unwrap();
    assert_eq!(e.len(), 5);
    assert_eq!(
        e[0],
        Entry::Help {
            name: "http_requests_total",
            text: Cow::Borrowed("The total number of HTTP requests.")
        }
    );
    assert_eq!(
        e[1],
        Entry::Type {
            name: "http_requests_total",
            kind: MetricKind::Counter
        }
    );
    let s = samples(page, T);
    assert_eq!(
        s,
        vec![
            (
                "http_requests_total".into(),
                l(&[("method", "post"), ("code", "200")]),
                1027.0,
                Some(1395066363000)
            ),
            (
                "http_requests_total".into(),
                l(&[("method", "post"), ("code", "400")]),
                3.0,
                Some(1395066363000)
            ),
            (
                "metric_without_timestamp_and_labels".into(),
                vec![],
                12.47,
                None
            ),
        ]
    );
}

#[test]
fn text_help_escapes() {
    let e = entries("# HELP m a\\\\b\\nc \\\"q\\\" \\t end  \n", T).unwrap();
    // `\\` and `\n` decode; `\"` and unknown escapes stay verbatim; trailing
    // spaces are part of the text.
    assert_eq!(
        e,
        vec![Entry::Help {
            name: "m",
            text: Cow::Owned("a\\b\nc \\\"q\\\" \\t end  ".into())
        }]
    );
    // Empty help text.
    assert_eq!(
        entries("# HELP m\n# HELP n \n", T).unwrap(),
        vec![
            Entry::Help {
                name: "m",
                text: Cow::Borrowed("")
            },
            Entry::Help {
                name: "n",
                text: Cow::Borrowed("")
            }
        ]
    );
    // Borrowed when no escapes.
    match &entries("# HELP m plain\n", T).unwrap()[0] {
        Entry::Help { text, .. } => assert!(matches!(text, Cow::Borrowed("plain"))),
        e => panic!("{e:?}"),
    }
}

#[test]
fn text_types() {
    for (kw, kind) in [
        ("counter", MetricKind::Counter),
        ("gauge", MetricKind::Gauge),
        ("histogram", MetricKind::Histogram),
        ("summary", MetricKind::Summary),
        ("untyped", MetricKind::Untyped),
    ] {
        let src = format!("#\tTYPE\tm_1:x {kw} \t\n");
        assert_eq!(
            entries(&src, T).unwrap(),
            vec![Entry::Type {
                name: "m_1:x",
                kind
            }]
        );
    }
    for bad in ["gaugehistogram", "info", "stateset", "unknown", "Counter"] {
        assert_eq!(
            err(&format!("# TYPE m {bad}\n"), T).kind,
            ErrorKind::InvalidType(bad.into())
        );
    }
    assert_eq!(
        err_msg("# TYPE m\n", T),
        "line 1: expected metric type, got end of line"
    );
    assert_eq!(
        err_msg("# TYPE 1m counter\n", T),
        "line 1: expected metric name, got \"1m\""
    );
}

#[test]
fn text_comments_ignored() {
    let page = "#\n# \n#comment\n# HELPER not help\n#HELP m x\n# TYPEx\n# HELP\n# some # thing\n# EOF\nm 1\n";
    assert_eq!(entries(page, T).unwrap().len(), 1);
}

#[test]
fn text_label_escapes() {
    let s = one(
        r#"m{a="x\\y",b="q\"uote",c="new\nline",d="keep\t",e="é✓"} 1"#,
        T,
    );
    assert_eq!(
        s.1,
        l(&[
            ("a", "x\\y"),
            ("b", "q\"uote"),
            ("c", "new\nline"),
            ("d", "keep\\t"),
            ("e", "é✓")
        ])
    );
    // Values are borrowed unless escaped.
    let page = br#"m{plain="v",esc="a\"b"} 1"#;
    match Parser::new(page, T).next().unwrap().unwrap() {
        Entry::Sample { labels, .. } => {
            assert!(labels.has_escapes());
            let v = labels.to_vec();
            assert!(matches!(v[0].1, Cow::Borrowed("v")));
            assert!(matches!(&v[1].1, Cow::Owned(s) if s == "a\"b"));
            assert_eq!(labels.get("esc").as_deref(), Some("a\"b"));
            assert_eq!(labels.get("nope"), None);
        }
        e => panic!("{e:?}"),
    }
    match Parser::new(b"m{a=\"v\"} 1", T).next().unwrap().unwrap() {
        Entry::Sample { labels, .. } => assert!(!labels.has_escapes()),
        e => panic!("{e:?}"),
    }
}

#[test]
fn text_label_sets() {
    assert_eq!(one("m{a=\"1\",} 1", T).1, l(&[("a", "1")]));
    assert_eq!(one("m{} 1", T).1, vec![]);
    assert_eq!(one("m{}1", T).2, 1.0);
    assert_eq!(one("m{a=\"\"} 1", T).1, l(&[("a", "")]));
    assert_eq!(one("m{_a1=\"x\"} 1", T).1, l(&[("_a1", "x")]));
    assert_eq!(
        err_msg("m{,} 1", T),
        "line 1: expected label name, got \",\""
    );
    assert_eq!(
        err_msg("m 1\nm{=\"x\"} 1", T),
        "line 2: expected label name, got \"=\""
    );
    assert_eq!(
        err_msg("m{a=\"1\",,} 1", T),
        "line 1: expected label name, got \",\""
    );
    assert_eq!(err_msg("m{a} 1", T), "line 1: expected '=', got \"}\"");
    assert_eq!(
        err_msg("m{a=b} 1", T),
        "line 1: expected label value, got \"b\""
    );
    assert_eq!(
        err_msg("m{a=\"1\" b=\"2\"} 1", T),
        "line 1: expected ',' or '}', got \"b\""
    );
    assert_eq!(
        err_msg("m{a=\"1\"", T),
        "line 1: expected ',' or '}', got end of line"
    );
    assert_eq!(
        err_msg("m{a=\"1\",", T),
        "line 1: expected label name or '}', got end of line"
    );
    assert_eq!(err("m{a=\"1} 1", T).kind, ErrorKind::UnterminatedString);
    // A label value cannot span lines.
    assert_eq!(
        err("m{a=\"x\ny\"} 1\n", T).kind,
        ErrorKind::UnterminatedString
    );
    assert_eq!(
        err_msg("m{1a=\"x\"} 1", T),
        "line 1: expected label name, got \"1a\""
    );
    assert_eq!(
        err_msg("m{a.b=\"x\"} 1", T),
        "line 1: expected '=', got \".b\""
    );
}

#[test]
fn text_whitespace() {
    let s = one(" \t m_x { a = \"1\" ,\tb=\"2\" , }\t 42 \t 1000 \t", T);
    assert_eq!(
        s,
        ("m_x".into(), l(&[("a", "1"), ("b", "2")]), 42.0, Some(1000))
    );
    assert_eq!(one("m \t 1", T).2, 1.0);
    assert_eq!(
        err_msg("m-x 1", T),
        "line 1: expected whitespace or '{' after metric name, got \"-x\""
    );
    assert_eq!(err_msg("m", T), "line 1: expected value, got end of line");
    assert_eq!(
        err_msg("m{a=\"b\"}", T),
        "line 1: expected value, got end of line"
    );
    assert_eq!(
        err_msg("m 1 2 3", T),
        "line 1: expected end of line, got \"3\""
    );
}

#[test]
fn text_values() {
    let cases = [
        ("1", 1.0),
        ("-0.5", -0.5),
        ("1e3", 1000.0),
        ("1E+3", 1000.0),
        ("2.5e-3", 0.0025),
        (".5", 0.5),
        ("+7", 7.0),
        ("0x1p3", 8.0),
        ("1.7976931348623157e308", f64::MAX),
        ("+Inf", f64::INFINITY),
        ("Inf", f64::INFINITY),
        ("-Inf", f64::NEG_INFINITY),
        ("infinity", f64::INFINITY),
    ];
    for (v, want) in cases {
        assert_eq!(one(&format!("m {v}"), T).2, want, "{v}");
    }
    assert!(one("m NaN", T).2.is_nan());
    assert!(one("m nan", T).2.is_nan());
    for bad in [
        "abc", "1,0", "1e", "0x1", "--1", "+NaN", "1e999", "1_000", "0x",
    ] {
        assert_eq!(
            err(&format!("m {bad}"), T).kind,
            ErrorKind::InvalidValue(bad.into()),
            "{bad}"
        );
    }
    assert_eq!(
        err_msg("m{a=\"b\"} foo", T),
        "line 1: invalid value \"foo\""
    );
}

#[test]
fn text_timestamps() {
    assert_eq!(one("m 1 0", T).3, Some(0));
    assert_eq!(one("m 1 1700000000123", T).3, Some(1700000000123));
    assert_eq!(one("m 1 9223372036854775807", T).3, Some(i64::MAX));
    for bad in ["-1", "1.5", "1e3", "9223372036854775808", "abc", "+1"] {
        assert_eq!(
            err(&format!("m 1 {bad}"), T).kind,
            ErrorKind::InvalidTimestamp(bad.into()),
            "{bad}"
        );
    }
}

#[test]
fn text_blank_lines_and_line_ends() {
    let page = "\n\n  \t\nm 1\n\n\nn 2\n   \n";
    assert_eq!(samples(page, T).len(), 2);
    // No final newline.
    assert_eq!(samples("m 1\nn 2", T).len(), 2);
    // Empty page.
    assert!(entries("", T).unwrap().is_empty());
    // CRLF is tolerated in the text format.
    let crlf = "# HELP m h\r\n# TYPE m gauge\r\nm{a=\"b\"} 1 5\r\n\r\nn 2\r\n";
    let e = entries(crlf, T).unwrap();
    assert_eq!(
        e[0],
        Entry::Help {
            name: "m",
            text: Cow::Borrowed("h")
        }
    );
    assert_eq!(
        e[1],
        Entry::Type {
            name: "m",
            kind: MetricKind::Gauge
        }
    );
    assert_eq!(
        samples(crlf, T),
        vec![
            ("m".into(), l(&[("a", "b")]), 1.0, Some(5)),
            ("n".into(), vec![], 2.0, None)
        ]
    );
}

#[test]
fn quoted_utf8_names() {
    assert_eq!(
        one("{\"my.metric\", a=\"b\"} 1", T),
        ("my.metric".into(), l(&[("a", "b")]), 1.0, None)
    );
    assert_eq!(
        one("{\"my.metric\"} 1", T),
        ("my.metric".into(), vec![], 1.0, None)
    );
    assert_eq!(
        one(
            "{ \"my.metric\" , \"label.with.dots\"=\"v\", x=\"y\", } 1 7",
            T
        ),
        (
            "my.metric".into(),
            l(&[("label.with.dots", "v"), ("x", "y")]),
            1.0,
            Some(7)
        )
    );
    assert_eq!(one("m{\"ünïcödé\"=\"v\"} 1", T).1, l(&[("ünïcödé", "v")]));
    assert_eq!(
        entries(
            "# TYPE \"my.metric\" gauge\n# HELP \"my.metric\" help me\n",
            T
        )
        .unwrap(),
        vec![
            Entry::Type {
                name: "my.metric",
                kind: MetricKind::Gauge
            },
            Entry::Help {
                name: "my.metric",
                text: Cow::Borrowed("help me")
            }
        ]
    );
    assert_eq!(
        err_msg("{a=\"b\"} 1", T),
        "line 1: expected quoted metric name, got \"a\""
    );
    assert_eq!(
        err_msg("{\"a\"=\"b\"} 1", T),
        "line 1: expected ',' or '}' after metric name, got \"=\""
    );
    assert_eq!(err("{\"a\\\"b\"} 1", T).kind, ErrorKind::EscapedName);
    assert_eq!(
        err_msg("{\"\"} 1", T),
        "line 1: expected non-empty name, got \"\\\"\""
    );
    // OpenMetrics too.
    let om = "{\"my.metric\",a=\"b\"} 1\n# EOF\n";
    assert_eq!(
        samples(om, OM),
        vec![("my.metric".into(), l(&[("a", "b")]), 1.0, None)]
    );
}

#[test]
fn invalid_utf8_is_an_error_with_its_line() {
    let mut page = b"m 1\nn{a=\"".to_vec();
    page.extend_from_slice(&[0xff, 0xfe]);
    page.extend_from_slice(b"\"} 1\no 2\n");
    let mut p = Parser::new(&page, T);
    assert!(matches!(
        p.next(),
        Some(Ok(Entry::Sample { name: "m", .. }))
    ));
    let e = p.next().unwrap().unwrap_err();
    assert_eq!(e.line, 2);
    assert_eq!(e.kind, ErrorKind::InvalidUtf8 { column: 6 });
    assert_eq!(e.to_string(), "line 2: invalid UTF-8 at byte 6 of the line");
    assert!(p.next().is_none());
    // Truncated multi-byte sequence at the very end.
    let e = Parser::new(b"m 1\nn 2 \xe2\x9c", T)
        .find_map(|e| e.err())
        .unwrap();
    assert_eq!(e.line, 2);
    // Invalid UTF-8 in HELP text and in a name.
    assert!(Parser::new(b"# HELP m \xc3\x28\n", T).any(|e| e.is_err()));
    assert!(Parser::new(b"\xffm 1\n", OM).any(|e| e.is_err()));
}

#[test]
fn limits() {
    let lim = Limits {
        max_line_len: 20,
        max_labels: 2,
    };
    let ok: Result<Vec<_>, _> = Parser::with_limits(b"m{a=\"1\",b=\"2\"} 1\n", T, lim).collect();
    assert_eq!(ok.unwrap().len(), 1);
    let e = Parser::with_limits(
        b"m{a=\"1\",b=\"2\",c=\"3\"} 1\n",
        T,
        Limits {
            max_line_len: 100,
            ..lim
        },
    )
    .find_map(|e| e.err())
    .unwrap();
    assert_eq!(e.to_string(), "line 1: more than 2 labels");
    let e = Parser::with_limits(b"m 1\nm_with_a_long_name 1 2\n", T, lim)
        .find_map(|e| e.err())
        .unwrap();
    assert_eq!(e.to_string(), "line 2: line longer than 20 bytes");
    // Default limits accept the fixture; unlimited accepts huge label sets.
    let big: String = (0..5000).map(|i| format!("l{i}=\"v\",")).collect();
    let page = format!("m{{{big}}} 1\n");
    assert!(Parser::new(page.as_bytes(), T).any(|e| e.is_err()));
    assert_eq!(
        Parser::with_limits(page.as_bytes(), T, Limits::UNLIMITED)
            .map(|e| match e.unwrap() {
                Entry::Sample { labels, .. } => labels.len(),
                _ => 0,
            })
            .sum::<usize>(),
        5000
    );
}

#[test]
fn error_stops_and_reports_line_numbers() {
    let page = "# HELP a b\n\nm 1\nm{x=\"1\"} 2\nbad line here\nn 1\n";
    let all: Vec<_> = Parser::new(page.as_bytes(), T).collect();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all[3].as_ref().unwrap_err().to_string(),
        "line 5: invalid value \"line\""
    );
}

#[test]
fn content_types() {
    assert_eq!(
        Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        Some(OM)
    );
    assert_eq!(
        Format::from_content_type("application/openmetrics-text;version=0.0.1"),
        Some(OM)
    );
    assert_eq!(
        Format::from_content_type("text/plain; version=0.0.4; charset=utf-8"),
        Some(T)
    );
    assert_eq!(Format::from_content_type(" Text/Plain "), Some(T));
    assert_eq!(Format::from_content_type("application/json"), None);
    assert_eq!(
        Format::from_content_type("application/vnd.google.protobuf"),
        None
    );
    assert_eq!(Format::from_content_type(""), None);
}

#[test]
fn family_names() {
    assert_eq!(family_name("foo_total", MetricKind::Counter), "foo");
    assert_eq!(family_name("foo_created", MetricKind::Counter), "foo");
    assert_eq!(family_name("foo_bucket", MetricKind::Histogram), "foo");
    assert_eq!(family_name("foo_count", MetricKind::Summary), "foo");
    assert_eq!(family_name("foo", MetricKind::Summary), "foo");
    assert_eq!(family_name("foo_gsum", MetricKind::GaugeHistogram), "foo");
    assert_eq!(family_name("foo_info", MetricKind::Info), "foo");
    assert_eq!(family_name("foo_total", MetricKind::Gauge), "foo_total");
}

// ------------------------------------------------------------- OpenMetrics

const OM_PAGE: &str = r#"# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
# TYPE go_goroutines gauge
# HELP go_goroutines Number of goroutines that currently exist.
go_goroutines 69
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
process_cpu_seconds_total 4.20072246e+06 1520879607.789
process_cpu_seconds_created 1520000000
# TYPE foo histogram
foo_bucket{le="0.1"} 8 # {trace_id="KOO5S4vxi0o"} 0.067
foo_bucket{le="1.0"} 11 1520879607.789 # {trace_id="oHg5SJYRHA0",span="a\"b"} 9.8 1520879602.5
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# TYPE build_info info
build_info_info{version="1.0"} 1
# TYPE state stateset
state{state="a"} 1
state{state="b"} 0
# TYPE q gaugehistogram
q_bucket{le="+Inf"} 3 # {} 1
q_gcount 3
q_gsum 2
# TYPE c counter
# HELP c With \"quotes\" and \\ and \n.
c_total 1 # {trace_id="x"} 1 1
c_created 0
# TYPE u unknown
u 1
# EOF
"#;

#[test]
fn om_full_page() {
    let e = entries(OM_PAGE, OM).unwrap();
    let s = samples(OM_PAGE, OM);
    assert_eq!(
        s.len(),
        OM_PAGE
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count()
    );
    assert_eq!(
        e[1],
        Entry::Unit {
            name: "acme_http_router_request_seconds",
            unit: "seconds"
        }
    );
    assert!(e.contains(&Entry::Help {
        name: "c",
        text: Cow::Owned("With \"quotes\" and \\ and \n.".into())
    }));
    assert!(e.contains(&Entry::Type {
        name: "q",
        kind: MetricKind::GaugeHistogram
    }));
    assert_eq!(
        s.iter()
            .find(|s| s.0 == "process_cpu_seconds_total")
            .unwrap()
            .3,
        Some(1520879607789)
    );
    assert_eq!(
        s.iter().find(|s| s.0 == "foo_created").unwrap().2,
        1520430000.123
    );
    let exemplars: Vec<_> = e
        .iter()
        .filter_map(|e| match e {
            Entry::Sample {
                name,
                exemplar: Some(x),
                ..
            } => Some((*name, x.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(exemplars.len(), 4);
    assert_eq!(exemplars[0].0, "foo_bucket");
    assert_eq!(
        exemplars[0].1.labels.to_vec(),
        vec![("trace_id", Cow::Borrowed("KOO5S4vxi0o"))]
    );
    assert_eq!(exemplars[0].1.value, 0.067);
    assert_eq!(exemplars[0].1.timestamp_ms, None);
    let Exemplar {
        labels,
        value,
        timestamp_ms,
    } = &exemplars[1].1;
    assert_eq!(labels.get("span").as_deref(), Some("a\"b"));
    assert_eq!((*value, *timestamp_ms), (9.8, Some(1520879602500)));
    assert!(exemplars[2].1.labels.is_empty());
    assert_eq!(exemplars[3].0, "c_total");
    assert_eq!(exemplars[3].1.timestamp_ms, Some(1000));
}

#[test]
fn om_eof() {
    assert_eq!(samples("m 1\n# EOF", OM).len(), 1);
    assert_eq!(samples("# EOF\n", OM).len(), 0);
    assert_eq!(
        err_msg("m 1\n", OM),
        "line 2: missing \"# EOF\" at the end of OpenMetrics input"
    );
    assert_eq!(err("", OM).kind, ErrorKind::MissingEof);
    assert_eq!(err_msg("# EOF\nm 1\n", OM), "line 2: data after \"# EOF\"");
    assert_eq!(err("# EOF\n\n", OM).kind, ErrorKind::DataAfterEof);
    assert_eq!(
        err_msg("m 1\n# EOF \n", OM),
        "line 2: expected HELP, TYPE, UNIT or EOF, got \"EOF\""
    );
    // `# EOF` is only a comment in the text format.
    assert_eq!(samples("# EOF\nm 1\n", T).len(), 1);
}

#[test]
fn om_is_strict() {
    assert_eq!(err("m 1\n\n# EOF\n", OM).kind, ErrorKind::EmptyLine);
    assert_eq!(err("m 1\r\n# EOF\n", OM).kind, ErrorKind::CarriageReturn);
    assert_eq!(
        err_msg("# a comment\n# EOF\n", OM),
        "line 1: expected HELP, TYPE, UNIT or EOF, got \"a\""
    );
    assert_eq!(
        err_msg("m  1\n# EOF\n", OM),
        "line 1: expected value, got \" \""
    );
    assert_eq!(
        err_msg(" m 1\n# EOF\n", OM),
        "line 1: expected metric name, got \" \""
    );
    assert_eq!(
        err_msg("m{a=\"b\", c=\"d\"} 1\n# EOF\n", OM),
        "line 1: expected label name, got \" \""
    );
    assert_eq!(
        err_msg("m 1 \n# EOF\n", OM),
        "line 1: expected timestamp, got end of line"
    );
    assert_eq!(
        err_msg("m\t1\n# EOF\n", OM),
        "line 1: expected \" \" before value, got \"\\t\""
    );
    assert_eq!(
        err("# TYPE m untyped\n# EOF\n", OM).kind,
        ErrorKind::InvalidType("untyped".into())
    );
}

#[test]
fn om_timestamps_are_seconds() {
    assert_eq!(
        one("m 1 1520879607.789\n# EOF\n", OM).3,
        Some(1520879607789)
    );
    assert_eq!(one("m 1 1520879607\n# EOF\n", OM).3, Some(1520879607000));
    assert_eq!(one("m 1 -1.5\n# EOF\n", OM).3, Some(-1500));
    assert_eq!(one("m 1 1.5e3\n# EOF\n", OM).3, Some(1_500_000));
    assert_eq!(
        err("m 1 NaN\n# EOF\n", OM).kind,
        ErrorKind::InvalidTimestamp("NaN".into())
    );
    assert_eq!(
        err("m 1 1 2\n# EOF\n", OM).kind,
        ErrorKind::Unexpected {
            expected: "\"#\" before exemplar",
            got: "\"2\"".into()
        }
    );
}

#[test]
fn om_exemplars() {
    let page = "# TYPE h histogram\nh_bucket{le=\"1\"} 2 # {trace_id=\"abc\"} 1.0 5\n# EOF\n";
    match Parser::new(page.as_bytes(), OM).nth(1).unwrap().unwrap() {
        Entry::Sample {
            exemplar: Some(x), ..
        } => {
            assert_eq!(x.labels.get("trace_id").as_deref(), Some("abc"));
            assert_eq!((x.value, x.timestamp_ms), (1.0, Some(5000)));
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(
        err("# TYPE g gauge\ng 1 # {trace_id=\"abc\"} 1\n# EOF\n", OM).kind,
        ErrorKind::ExemplarNotAllowed("g".into())
    );
    assert_eq!(
        err(
            "# TYPE h histogram\nh_count 1 # {trace_id=\"abc\"} 1\n# EOF\n",
            OM
        )
        .kind,
        ErrorKind::ExemplarNotAllowed("h_count".into())
    );
    assert_eq!(
        err("x_total 1 # {a=\"b\"} 1\n# EOF\n", OM).kind,
        ErrorKind::ExemplarNotAllowed("x_total".into())
    );
    for (bad, msg) in [
        ("#{a=\"b\"} 1", "expected \" \" after \"#\", got \"{\""),
        ("# a=\"b\" 1", "expected exemplar label set, got \"a\""),
        (
            "# {a=\"b\"}",
            "expected \" \" before exemplar value, got end of line",
        ),
        ("# {a=\"b\"} x", "invalid value \"x\""),
        ("# {a=\"b\"} 1 2 3", "expected end of line, got \" \""),
        ("# {a=\"b\"} 1 x", "invalid timestamp \"x\""),
    ] {
        let page = format!("# TYPE c counter\nc_total 1 {bad}\n# EOF\n");
        assert_eq!(err_msg(&page, OM), format!("line 2: {msg}"), "{bad}");
    }
    // Exemplars are not part of the text format.
    assert_eq!(
        err_msg("c_total 1 # {a=\"b\"} 1\n", T),
        "line 1: invalid timestamp \"#\""
    );
}

#[test]
fn om_families() {
    // Counter samples need a suffix.
    assert_eq!(
        err_msg("# TYPE c counter\nc 1\n# EOF\n", OM),
        "line 2: sample \"c\" does not fit its counter family (missing suffix)"
    );
    assert_eq!(
        err("# TYPE h histogram\nh 1\n# EOF\n", OM).kind,
        ErrorKind::SampleNotInFamily {
            name: "h".into(),
            kind: "histogram"
        }
    );
    // A sample of another name starts an implicit unknown family.
    let page = "# TYPE c counter\nc_total 1\nother 2\nother_total 3\n# EOF\n";
    assert_eq!(samples(page, OM).len(), 3);
    // Units must suffix the family name.
    assert_eq!(
        err_msg("# UNIT m_seconds bytes\n# EOF\n", OM),
        "line 1: unit \"bytes\" is not a suffix of metric family \"m_seconds\""
    );
    assert_eq!(
        err("# UNIT mseconds seconds\n# EOF\n", OM).kind,
        ErrorKind::UnitNotSuffix {
            name: "mseconds".into(),
            unit: "seconds".into()
        }
    );
    assert_eq!(
        entries("# UNIT m \n# EOF\n", OM).unwrap(),
        vec![Entry::Unit {
            name: "m",
            unit: ""
        }]
    );
    // `# UNIT` is not part of the text format: a comment there.
    assert!(entries("# UNIT m_seconds bytes\n", T).unwrap().is_empty());
}

// ------------------------------------------------------------ fixtures

/// The independent count: non-comment, non-empty lines.
fn count_sample_lines(page: &[u8]) -> usize {
    std::str::from_utf8(page)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count()
}

#[test]
fn node_exporter_text_fixture() {
    let expected = count_sample_lines(NODE_PROM);
    assert!(expected > 300, "fixture too small: {expected}");
    let entries: Vec<_> = Parser::new(NODE_PROM, T).collect::<Result<_, _>>().unwrap();
    let n = entries
        .iter()
        .filter(|e| matches!(e, Entry::Sample { .. }))
        .count();
    assert_eq!(n, expected);
    let types = entries
        .iter()
        .filter(|e| matches!(e, Entry::Type { .. }))
        .count();
    let helps = entries
        .iter()
        .filter(|e| matches!(e, Entry::Help { .. }))
        .count();
    let src = std::str::from_utf8(NODE_PROM).unwrap();
    assert_eq!(
        types,
        src.lines().filter(|l| l.starts_with("# TYPE ")).count()
    );
    assert_eq!(
        helps,
        src.lines().filter(|l| l.starts_with("# HELP ")).count()
    );
    let build = entries
        .iter()
        .find_map(|e| match e {
            Entry::Sample { name, labels, .. } if *name == "node_exporter_build_info" => {
                Some(*labels)
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(build.get("version").as_deref(), Some("1.5.0"));
}

#[test]
fn node_exporter_openmetrics_fixture() {
    let expected = count_sample_lines(NODE_OM);
    let n = Parser::new(NODE_OM, OM)
        .map(|e| e.unwrap())
        .filter(|e| matches!(e, Entry::Sample { .. }))
        .count();
    assert_eq!(n, expected);
    assert!(NODE_OM.ends_with(b"# EOF\n"));
    // The OpenMetrics page is the same scrape: same series, same values.
    let text = samples(std::str::from_utf8(NODE_PROM).unwrap(), T);
    let om = samples(std::str::from_utf8(NODE_OM).unwrap(), OM);
    assert_eq!(text.len(), om.len());
    for (a, b) in text.iter().zip(&om) {
        assert_eq!((&a.0, &a.1), (&b.0, &b.1));
        assert!(a.2 == b.2 || (a.2.is_nan() && b.2.is_nan()), "{a:?} {b:?}");
    }
    // Without its `# EOF`, the page is rejected.
    let cut = &NODE_OM[..NODE_OM.len() - "# EOF\n".len()];
    let e = Parser::new(cut, OM).find_map(|e| e.err()).unwrap();
    assert_eq!(e.kind, ErrorKind::MissingEof);
}

// ----------------------------------------------------------- properties

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(b"{}=,\"\\# \t\n\r.eE+-0123456789xpINa_:\xff\xc3".to_vec()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::Flip(p, 1 << b)),
        (any::<usize>(), interesting_byte()).prop_map(|(p, b)| Mutation::Insert(p, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(base: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut v = base.to_vec();
    for m in muts {
        let n = v.len().max(1);
        match *m {
            Mutation::Flip(p, bit) => {
                if !v.is_empty() {
                    v[p % n] ^= bit;
                }
            }
            Mutation::Insert(p, b) => v.insert(p % (v.len() + 1), b),
            Mutation::Delete(p) => {
                if !v.is_empty() {
                    v.remove(p % n);
                }
            }
            Mutation::Truncate(p) => v.truncate(p % (v.len() + 1)),
        }
    }
    v
}

/// Parses to the end in both formats; checks the error contract.
fn parse_everything(input: &[u8]) {
    let lines = input.iter().filter(|&&b| b == b'\n').count() + 1;
    for f in [T, OM] {
        let mut errors = 0;
        for e in Parser::with_limits(input, f, Limits::default()) {
            match e {
                Ok(Entry::Sample { labels, .. }) => {
                    let n = labels.iter().count();
                    assert_eq!(n, labels.len());
                }
                Ok(_) => {}
                Err(e) => {
                    errors += 1;
                    assert!(e.line >= 1 && e.line <= lines + 1, "{e}");
                    assert!(!e.to_string().is_empty());
                }
            }
        }
        assert!(errors <= 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..2,
        muts in prop::collection::vec(mutation(), 1..16),
    ) {
        let base = if which == 0 { NODE_PROM } else { NODE_OM };
        parse_everything(&mutate(base, &muts));
    }

    #[test]
    fn mutated_small_pages_never_panic(
        which in 0usize..2,
        muts in prop::collection::vec(mutation(), 1..12),
    ) {
        let base = if which == 0 { OM_PAGE.as_bytes() } else { &NODE_PROM[..600] };
        parse_everything(&mutate(base, &muts));
    }

    #[test]
    fn token_soup_never_panics(
        s in prop::collection::vec(interesting_byte(), 0..200)
    ) {
        parse_everything(&s);
    }

    /// Rendering samples with arbitrary label values and parsing them back
    /// gives the same samples, in both formats.
    #[test]
    fn render_parse_roundtrip(
        series in prop::collection::vec((
            "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
            prop::collection::vec(("[a-zA-Z_][a-zA-Z0-9_]{0,10}", "\\PC{0,12}|[\"\\\\\n a]{0,6}"), 0..6),
            prop_oneof![any::<f64>(), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(f64::NAN)],
            prop::option::of(0i64..4_000_000_000_000),
        ), 0..20)
    ) {
        let mut text = String::new();
        let mut om = String::new();
        for (name, labels, value, ts) in &series {
            let set: Vec<String> = labels.iter().map(|(k, v)| {
                let esc = v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
                format!("{k}=\"{esc}\"")
            }).collect();
            let set = set.join(",");
            let v = if value.is_nan() { "NaN".to_string() }
                else if *value == f64::INFINITY { "+Inf".to_string() }
                else if *value == f64::NEG_INFINITY { "-Inf".to_string() }
                else { format!("{value:e}") };
            text.push_str(&format!("{name}{{{set}}} {v}"));
            om.push_str(&format!("{name}{{{set}}} {v}"));
            if let Some(ts) = ts {
                text.push_str(&format!(" {ts}"));
                om.push_str(&format!(" {}.{:03}", ts / 1000, ts % 1000));
            }
            text.push('\n');
            om.push('\n');
        }
        om.push_str("# EOF\n");
        for (page, f) in [(&text, T), (&om, OM)] {
            let got = samples(page, f);
            prop_assert_eq!(got.len(), series.len());
            for (g, (name, labels, value, ts)) in got.iter().zip(&series) {
                prop_assert_eq!(&g.0, name);
                let want: Vec<(String, String)> = labels.to_vec();
                prop_assert_eq!(&g.1, &want);
                prop_assert!(g.2.to_bits() == value.to_bits() || (g.2.is_nan() && value.is_nan()));
                prop_assert_eq!(g.3, *ts);
            }
        }
    }
}
