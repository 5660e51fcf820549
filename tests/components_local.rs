//! `local.file` end to end: built through its registration, run on a real
//! tokio runtime against real files in a temporary directory, with the
//! exports read from the channel the controller would read.

use std::path::Path;
use std::time::Duration;

mod common;

use common::component::start;
use smelter::component::{registry, HealthState};
use smelter::syntax::{Capsule, Value};
use tokio::sync::watch;

fn content(value: &str, is_secret: bool) -> Value {
    Value::object([(
        "content",
        Value::Capsule(Capsule::OptionalSecret {
            value: value.into(),
            is_secret,
        }),
    )])
}

fn args(path: &Path, extra: Vec<(&str, Value)>) -> Value {
    let mut fields = vec![("filename", Value::string(path.to_string_lossy()))];
    fields.extend(extra);
    Value::object(fields)
}

#[tokio::test]
async fn exports_content_and_polls_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, "hello").expect("write");
    let mut run = start(
        "local.file",
        dir.path(),
        args(
            &path,
            vec![
                ("detector", Value::string("poll")),
                ("poll_frequency", Value::string("100ms")),
            ],
        ),
    );
    run.wait_exports(&content("hello", false)).await;
    assert_eq!(run.wait_health(HealthState::Healthy).await, "read file");
    // Unchanged content is not sent again.
    run.quiet(Duration::from_millis(350)).await;
    std::fs::write(&path, "changed").expect("write");
    run.wait_exports(&content("changed", false)).await;
    run.stop().await;
}

#[tokio::test]
async fn fsnotify_sees_writes_and_replacements_without_polling() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cfg.txt");
    std::fs::write(&path, "one").expect("write");
    // poll_frequency of an hour: only the watcher can see the changes.
    let mut run = start(
        "local.file",
        dir.path(),
        args(&path, vec![("poll_frequency", Value::string("1h"))]),
    );
    run.wait_exports(&content("one", false)).await;
    std::fs::write(&path, "two").expect("write");
    run.wait_exports(&content("two", false)).await;
    // Replace by rename, as editors and Kubernetes mounts do.
    let tmp = dir.path().join("cfg.tmp");
    std::fs::write(&tmp, "three").expect("write");
    std::fs::rename(&tmp, &path).expect("rename");
    run.wait_exports(&content("three", false)).await;
    run.stop().await;
}

#[tokio::test]
async fn missing_file_is_unhealthy_keeps_exports_and_retries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secret");
    std::fs::write(&path, "s3cr3t").expect("write");
    let mut run = start(
        "local.file",
        dir.path(),
        args(
            &path,
            vec![
                ("detector", Value::string("poll")),
                ("poll_frequency", Value::string("100ms")),
                ("is_secret", Value::Bool(true)),
            ],
        ),
    );
    run.wait_exports(&content("s3cr3t", true)).await;
    std::fs::remove_file(&path).expect("remove");
    let msg = run.wait_health(HealthState::Unhealthy).await;
    assert!(msg.starts_with("failed to read file: "), "{msg}");
    run.quiet(Duration::from_millis(300)).await;
    std::fs::write(&path, "again").expect("write");
    run.wait_exports(&content("again", true)).await;
    run.wait_health(HealthState::Healthy).await;
    run.stop().await;
}

#[tokio::test]
async fn missing_at_start_builds_unhealthy_then_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("later");
    let mut run = start("local.file", dir.path(), args(&path, vec![]));
    run.wait_health(HealthState::Unhealthy).await;
    std::fs::write(&path, "arrived").expect("write");
    run.wait_exports(&content("arrived", false)).await;
    run.stop().await;
}

#[tokio::test]
async fn new_arguments_apply_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::write(&a, "from a").expect("write");
    std::fs::write(&b, "from b").expect("write");
    let mut run = start("local.file", dir.path(), args(&a, vec![]));
    run.wait_exports(&content("from a", false)).await;
    run.args.send_replace(args(&b, vec![]));
    run.wait_exports(&content("from b", false)).await;
    run.args
        .send_replace(args(&b, vec![("is_secret", Value::Bool(true))]));
    run.wait_exports(&content("from b", true)).await;
    // Switch to polling at 100ms; a change is seen through the new detector.
    run.args.send_replace(args(
        &b,
        vec![
            ("is_secret", Value::Bool(true)),
            ("detector", Value::string("poll")),
            ("poll_frequency", Value::string("100ms")),
        ],
    ));
    std::fs::write(&b, "b2").expect("write");
    run.wait_exports(&content("b2", true)).await;
    // The old file is no longer read.
    std::fs::write(&a, "a2").expect("write");
    run.quiet(Duration::from_millis(300)).await;
    run.stop().await;
}

#[tokio::test]
async fn stops_when_arguments_sender_is_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("f");
    std::fs::write(&path, "x").expect("write");
    let mut run = start("local.file", dir.path(), args(&path, vec![]));
    run.wait_exports(&content("x", false)).await;
    // The controller dropping its sender must not spin the task.
    let (dead, _) = watch::channel(std::sync::Arc::new(Value::Null));
    drop(std::mem::replace(&mut run.args.0, dead));
    std::fs::write(&path, "y").expect("write");
    run.wait_exports(&content("y", false)).await;
    run.stop().await;
}

#[test]
fn validation() {
    let reg = registry::find("local.file").expect("registered");
    let ok = Value::object([("filename", Value::string("/x"))]);
    assert!((reg.validate)(&ok).is_ok());
    let missing = Value::object([("detector", Value::string("poll"))]);
    assert!((reg.validate)(&missing)
        .expect_err("missing filename")
        .to_string()
        .contains("filename"));
    let bad = Value::object([
        ("filename", Value::string("/x")),
        ("detector", Value::string("inotify")),
    ]);
    assert!((reg.validate)(&bad)
        .expect_err("bad detector")
        .to_string()
        .contains("unrecognized detector \"inotify\", expected fsnotify or poll"));
    let zero = Value::object([
        ("filename", Value::string("/x")),
        ("poll_frequency", Value::string("0s")),
    ]);
    assert!((reg.validate)(&zero)
        .expect_err("zero poll")
        .to_string()
        .contains("poll_frequency must be greater than 0"));
    let schema = (reg.schema)();
    assert!(schema.field("filename").is_some_and(|f| f.required));
    assert!(schema.field("is_secret").is_some_and(|f| !f.required));
}
