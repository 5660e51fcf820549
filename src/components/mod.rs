//! Components: what the controller builds from the blocks of an `.alloy`
//! file, one folder per Alloy namespace (`prometheus/`, `discovery/`,
//! `local/`, …); `common/` holds what several components share.

pub mod common;
