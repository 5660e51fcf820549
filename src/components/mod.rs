//! Components: what the controller builds from the blocks of an `.alloy`
//! file, one folder per Alloy namespace (`prometheus/`, `discovery/`,
//! `local/`, …), each component in a file named as Alloy names it; `common/`
//! holds what several components share.

pub mod common;
pub mod discovery;
pub mod local;
pub mod prometheus;

use crate::component::Registration;

/// Add every implemented kind to the registry.
pub fn register(kinds: &mut Vec<Registration>) {
    kinds.push(discovery::relabel::registration());
    kinds.push(local::file::registration());
    kinds.push(discovery::file::registration());
    kinds.push(discovery::http::registration());
}
