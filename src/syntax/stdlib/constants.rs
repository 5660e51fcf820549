//! `constants.*`: facts about the host, fixed for the process lifetime
//! (`hostname`, `os`, `arch` with Go's names, smelter's `version`).

use crate::syntax::value::Value;

/// Go's `runtime.GOARCH` names for Rust's architecture names.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
}

pub fn constants() -> Value {
    Value::object([
        ("hostname", Value::String(hostname())),
        ("os", Value::string(go_os())),
        ("arch", Value::string(go_arch())),
        ("version", Value::string(env!("CARGO_PKG_VERSION"))),
    ])
}
