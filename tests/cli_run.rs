//! `smelter run` end to end: the built binary, on a real configuration file,
//! with real watched files, driven over real HTTP on 127.0.0.1 and with real
//! signals. Every wait is bounded.
//!
//! The configuration chains `local.file` → `discovery.relabel` (a file's
//! content becomes a target address) and `discovery.file` → `discovery.relabel`,
//! and holds a second `local.file` with `is_secret = true` whose content must
//! never reach the API.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use serde_json::Value as Json;

mod common;
use common::smelter::{get, request, wait_exit, wait_until, Smelter, WAIT};

const SECRET: &str = "s3cr3t-token-value";
const BASE: &[&str] = &[
    "discovery.file.sd",
    "discovery.relabel.from_file",
    "discovery.relabel.from_sd",
    "local.file.addr",
    "local.file.token",
];

fn config(dir: &Path, extra: &str) -> String {
    let d = dir.display();
    format!(
        r#"local.file "addr" {{
	filename  = "{d}/addr.txt"
	is_secret = false
}}

local.file "token" {{
	filename  = "{d}/token.txt"
	is_secret = true
}}

discovery.relabel "from_file" {{
	targets = [{{"__address__" = local.file.addr.content, "via" = "local.file"}}]

	rule {{
		target_label = "chained"
		replacement  = "yes"
	}}
}}

discovery.file "sd" {{
	files            = ["{d}/targets.json"]
	refresh_interval = "1m"
}}

discovery.relabel "from_sd" {{
	targets = discovery.file.sd.targets

	rule {{
		source_labels = ["__address__"]
		regex         = "(.*):9100"
		target_label  = "host"
	}}
}}
{extra}"#
    )
}

const EXTRA: &str = r#"
discovery.relabel "extra" {
	targets = discovery.relabel.from_sd.output

	rule {
		target_label = "extra"
		replacement  = "1"
	}
}
"#;

/// A block that does not parse: the `[` of `targets` is never closed.
const BROKEN: &str = r#"
discovery.relabel "broken" {
	targets = [
}
"#;

fn setup(dir: &Path) {
    std::fs::write(dir.join("addr.txt"), "from-file:9100").unwrap();
    std::fs::write(dir.join("token.txt"), SECRET).unwrap();
    std::fs::write(
        dir.join("targets.json"),
        r#"[{"targets": ["a:9100", "b:9100"], "labels": {"job": "sd"}}]"#,
    )
    .unwrap();
    std::fs::write(dir.join("config.alloy"), config(dir, "")).unwrap();
}

fn labels(targets: &Json) -> Vec<std::collections::BTreeMap<String, String>> {
    serde_json::from_value(targets.clone()).unwrap_or_else(|e| panic!("{e}: {targets}"))
}

#[test]
fn run_serves_the_graph_and_survives_bad_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    setup(dir);
    let mut smelter = Smelter::start(dir);
    smelter.wait_ready();
    smelter.wait_all_healthy(BASE);
    let (status, body) = get(smelter.port, "/-/healthy");
    assert_eq!(status, 200, "{body}");

    // local.file → discovery.relabel: the file's content is the address.
    let from_file = smelter.component("discovery.relabel.from_file");
    assert_eq!(
        from_file["arguments"]["targets"],
        serde_json::json!([{"__address__": "from-file:9100", "via": "local.file"}])
    );
    let out = labels(&from_file["exports"]["output"]);
    assert_eq!(out.len(), 1, "{from_file}");
    assert_eq!(out[0]["__address__"], "from-file:9100");
    assert_eq!(out[0]["chained"], "yes");
    assert_eq!(
        from_file["referencesTo"],
        serde_json::json!(["local.file.addr"])
    );
    let addr = smelter.component("local.file.addr");
    assert_eq!(addr["exports"]["content"], "from-file:9100");
    assert_eq!(
        addr["referencedBy"],
        serde_json::json!(["discovery.relabel.from_file"])
    );

    // discovery.file → discovery.relabel.
    let from_sd = smelter.component("discovery.relabel.from_sd");
    let out = labels(&from_sd["exports"]["output"]);
    let hosts: Vec<&str> = out.iter().map(|t| t["host"].as_str()).collect();
    assert_eq!(hosts, ["a", "b"], "{from_sd}");
    assert!(out.iter().all(|t| t["job"] == "sd"));

    // The secret file: redacted in exports, never anywhere in the API.
    let token = smelter.component("local.file.token");
    assert_eq!(token["exports"]["content"], "(secret)", "{token}");
    assert_eq!(token["arguments"]["is_secret"], true);
    assert!(!token.to_string().contains(SECRET));
    let (_, all) = get(smelter.port, "/api/v0/web/components");
    assert!(!all.contains(SECRET));
    let (_, metrics) = get(smelter.port, "/metrics");
    assert!(!metrics.contains(SECRET));
    assert_eq!(
        smelter.metric("smelter_config_last_load_successful"),
        Some(1.0)
    );

    // A reload with a syntax error: 400 naming file:line:col; nothing moves.
    let before = smelter.running_state();
    std::fs::write(dir.join("config.alloy"), config(dir, BROKEN)).unwrap();
    let (status, body) = request(smelter.port, "POST", "/-/reload").expect("reload answers");
    assert_eq!(status, 400, "{body}");
    let located = regex::Regex::new(r"config\.alloy:\d+:\d+: ").unwrap();
    assert!(located.is_match(&body), "no file:line:col in {body:?}");
    assert_eq!(
        smelter.metric("smelter_config_last_load_successful"),
        Some(0.0)
    );
    assert_eq!(
        smelter.running_state(),
        before,
        "a bad reload changed the graph"
    );
    smelter.wait_all_healthy(BASE);
    let (status, _) = get(smelter.port, "/-/ready");
    assert_eq!(status, 200, "a bad reload made the process unready");

    // A reload whose blocks parse but whose arguments are invalid (an
    // evaluation error, and a value the component's validation refuses):
    // 400 naming the block's position; the components keep their last good
    // arguments, the process stays ready, the failure is in /metrics.
    for (bad, says) in [
        (
            config(dir, "").replace(r#""via" = "local.file""#, r#""via" = 1 + "x""#),
            "should be number",
        ),
        (
            config(dir, "").replace(
                "is_secret = true",
                "is_secret = true\n\tdetector  = \"bogus\"",
            ),
            "unrecognized detector",
        ),
    ] {
        assert!(bad.contains("1 + \"x\"") || bad.contains("bogus"));
        std::fs::write(dir.join("config.alloy"), bad).unwrap();
        let (status, body) = request(smelter.port, "POST", "/-/reload").unwrap();
        assert_eq!(status, 400, "expected {says:?}: {body}");
        assert!(located.is_match(&body), "no file:line:col in {body:?}");
        assert!(body.contains(says), "{body}");
        assert_eq!(
            smelter.metric("smelter_config_last_load_successful"),
            Some(0.0)
        );
        assert_eq!(smelter.running_state(), before);
        assert_eq!(get(smelter.port, "/-/ready").0, 200);
    }

    // A good reload adding a component.
    std::fs::write(dir.join("config.alloy"), config(dir, EXTRA)).unwrap();
    let (status, body) = request(smelter.port, "POST", "/-/reload").unwrap();
    assert_eq!((status, body.trim()), (200, "config reloaded"));
    assert_eq!(
        smelter.metric("smelter_config_last_load_successful"),
        Some(1.0)
    );
    let with_extra: Vec<&str> = BASE
        .iter()
        .copied()
        .chain(["discovery.relabel.extra"])
        .collect();
    smelter.wait_all_healthy(&with_extra);
    let extra = smelter.component("discovery.relabel.extra");
    let out = labels(&extra["exports"]["output"]);
    assert_eq!(out.len(), 2, "{extra}");
    assert!(out.iter().all(|t| t["extra"] == "1" && t["job"] == "sd"));
    // Minimal recomputation: the components that were there are untouched.
    let after: Vec<_> = smelter
        .running_state()
        .into_iter()
        .filter(|(id, ..)| id != "discovery.relabel.extra")
        .collect();
    assert_eq!(after, before, "adding a component touched the others");

    // A good reload removing it again.
    std::fs::write(dir.join("config.alloy"), config(dir, "")).unwrap();
    let (status, body) = request(smelter.port, "POST", "/-/reload").unwrap();
    assert_eq!(status, 200, "{body}");
    smelter.wait_all_healthy(BASE);
    let (status, _) = get(
        smelter.port,
        "/api/v0/web/components/discovery.relabel.extra",
    );
    assert_eq!(status, 404);
    assert_eq!(smelter.running_state(), before);

    // The chain is live: a new file content reaches the relabel's output.
    std::fs::write(dir.join("addr.txt"), "rewritten:9100").unwrap();
    wait_until(
        "the new address to reach discovery.relabel.from_file",
        || {
            let c = smelter.component("discovery.relabel.from_file");
            labels(&c["exports"]["output"])
                .first()
                .is_some_and(|t| t["__address__"] == "rewritten:9100")
        },
    );

    smelter.terminate();
}

#[test]
fn sighup_reloads_like_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    setup(dir);
    let mut smelter = Smelter::start(dir);
    smelter.wait_ready();
    smelter.wait_all_healthy(BASE);
    let before = smelter.running_state();

    // Good: adds a component.
    std::fs::write(dir.join("config.alloy"), config(dir, EXTRA)).unwrap();
    smelter.signal(libc::SIGHUP);
    let with_extra: Vec<&str> = BASE
        .iter()
        .copied()
        .chain(["discovery.relabel.extra"])
        .collect();
    smelter.wait_all_healthy(&with_extra);
    assert_eq!(
        smelter.metric("smelter_config_last_load_successful"),
        Some(1.0)
    );

    // Bad: refused whole, the graph (with `extra`) keeps running unchanged.
    let running = smelter.running_state();
    std::fs::write(dir.join("config.alloy"), config(dir, BROKEN)).unwrap();
    smelter.signal(libc::SIGHUP);
    wait_until("the failed reload to be recorded", || {
        smelter.metric("smelter_config_last_load_successful") == Some(0.0)
    });
    assert_eq!(smelter.running_state(), running);
    smelter.wait_all_healthy(&with_extra);
    wait_until("the failure to be logged", || {
        smelter.log().contains("failed to reload config")
    });

    // Good again: removes it.
    std::fs::write(dir.join("config.alloy"), config(dir, "")).unwrap();
    smelter.signal(libc::SIGHUP);
    wait_until("the good reload to be recorded", || {
        smelter.metric("smelter_config_last_load_successful") == Some(1.0)
    });
    smelter.wait_all_healthy(BASE);
    assert_eq!(smelter.running_state(), before);

    smelter.terminate();
}

#[test]
fn a_bad_first_load_prints_diagnostics_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    setup(dir);
    std::fs::write(dir.join("config.alloy"), config(dir, BROKEN)).unwrap();
    let mut smelter = Smelter::start(dir);
    let status = wait_exit(&mut smelter.child, WAIT).expect("exits by itself");
    let log = smelter.log();
    assert!(!status.success(), "exit status {status}:\n{log}");
    let located = regex::Regex::new(r"Error: \S*config\.alloy:\d+:\d+: ").unwrap();
    assert!(
        located.is_match(&log),
        "no `Error: file:line:col:` in\n{log}"
    );
    assert!(log.contains('^'), "no underline in\n{log}");
    assert!(
        log.contains("could not perform the initial load successfully"),
        "{log}"
    );
    assert!(
        request(smelter.port, "GET", "/-/ready").is_none(),
        "something listens on the port"
    );
}

/// A first load that parses but does not evaluate (Alloy: `Loader.Apply`
/// returns the evaluation diagnostics and the first load fails): exit
/// non-zero naming the block, nothing listens, nothing keeps running.
#[test]
fn a_first_load_with_evaluation_errors_exits() {
    let located = regex::Regex::new(r"Error: .*config\.alloy:\d+:\d+: ").unwrap();
    for (from, to, says) in [
        (
            r#""via" = "local.file""#,
            r#""via" = 1 + "x""#,
            "should be number",
        ),
        (
            "is_secret = true",
            "is_secret = true\n\tdetector  = \"bogus\"",
            "unrecognized detector",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        setup(dir);
        let bad = config(dir, "").replace(from, to);
        assert_ne!(bad, config(dir, ""));
        std::fs::write(dir.join("config.alloy"), bad).unwrap();
        let mut smelter = Smelter::start(dir);
        let status = wait_exit(&mut smelter.child, WAIT);
        let log = smelter.log();
        let status = status.unwrap_or_else(|| panic!("{says}: still running:\n{log}"));
        assert!(!status.success(), "exit status {status}:\n{log}");
        assert!(
            located.is_match(&log),
            "no `Error: file:line:col:` in\n{log}"
        );
        assert!(log.contains(says), "{log}");
        assert!(
            log.contains("could not perform the initial load successfully"),
            "{log}"
        );
        assert!(request(smelter.port, "GET", "/-/ready").is_none());
    }
}

/// SIGTERM with an idle keep-alive client connected: exit 0 within the
/// bound, every component stopped cleanly (the runtime was not left shared).
#[test]
fn sigterm_exits_promptly_despite_an_idle_connection() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    setup(dir);
    let mut smelter = Smelter::start(dir);
    smelter.wait_ready();
    smelter.wait_all_healthy(BASE);

    let mut idle = TcpStream::connect(("127.0.0.1", smelter.port)).unwrap();
    idle.set_read_timeout(Some(WAIT)).unwrap();
    write!(idle, "GET /-/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut buf = [0u8; 512];
    let n = idle.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));

    let log_path = smelter.stderr.clone();
    smelter.terminate();
    let log = std::fs::read_to_string(log_path).unwrap();
    assert!(!log.contains("still shared"), "{log}");
    for id in BASE {
        assert!(
            log.lines()
                .any(|l| l.contains("node exited without error") && l.contains(id)),
            "{id} was not stopped cleanly:\n{log}"
        );
    }
}
