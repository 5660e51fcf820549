//! Helpers shared by the integration tests: where the Alloy corpus lives.
#![allow(dead_code)]

pub mod component;
pub mod prometheus;
pub mod runtime;
pub mod smelter;

use std::path::PathBuf;

/// A free port on 127.0.0.1 (bound and released; the server under test
/// binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local address")
        .port()
}

/// `../shared/alloy-corpus` beside the project, read in place (never copied).
pub fn corpus() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("../shared/alloy-corpus");
    assert!(
        dir.is_dir(),
        "the Alloy corpus is expected at {} (../shared beside the project)",
        dir.display()
    );
    dir
}

/// Parse `file` of a txtar archive into (name, content) pairs.
pub fn txtar(text: &str) -> (String, Vec<(String, String)>) {
    let mut comment = String::new();
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches('\n');
        if let Some(name) = trimmed
            .strip_prefix("-- ")
            .and_then(|r| r.strip_suffix(" --"))
        {
            files.push((name.to_string(), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
        } else {
            comment.push_str(line);
        }
    }
    (comment, files)
}
