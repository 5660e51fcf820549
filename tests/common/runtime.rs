//! Starting the controller runtime on a test directory: `config.alloy` in
//! it, storage under `data/`, no HTTP server.

use std::path::Path;

use smelter::controller::runtime::RuntimeConfig;
use smelter::controller::Stability;

/// The configuration every runtime test starts from.
pub fn config(dir: &Path) -> RuntimeConfig {
    RuntimeConfig {
        config_path: dir.join("config.alloy"),
        storage_path: dir.join("data"),
        stability: Stability::GenerallyAvailable,
        http_listen_addr: None,
    }
}
