//! Components: what the controller builds from the blocks of an `.alloy`
//! file, one folder per Alloy namespace (`prometheus/`, `discovery/`,
//! `local/`, …), each component in a file named as Alloy names it; `common/`
//! holds what several components share.

pub mod common;
pub mod discovery;
pub mod local;
pub mod prometheus;

use crate::component::{DataPlaneRegistration, DataPlaneRole, Registration};

/// Add every implemented kind to the registry.
pub fn register(kinds: &mut Vec<Registration>) {
    kinds.push(discovery::relabel::registration());
    kinds.push(local::file::registration());
    kinds.push(discovery::file::registration());
    kinds.push(discovery::http::registration());
    kinds.push(prometheus::echo::registration());
    kinds.push(prometheus::exporter::self_::registration());
    kinds.push(prometheus::receive_http::registration());
    kinds.push(prometheus::relabel::registration());
    kinds.push(prometheus::remote_write::registration());
    kinds.push(prometheus::scrape::registration());
}

/// Add every kind that moves telemetry through the data plane, with its role.
pub fn register_data_plane(kinds: &mut Vec<DataPlaneRegistration>) {
    kinds.push(DataPlaneRegistration {
        name: "prometheus.echo",
        role: DataPlaneRole::Sink,
    });
    kinds.push(DataPlaneRegistration {
        name: "prometheus.receive_http",
        role: DataPlaneRole::Source,
    });
    kinds.push(DataPlaneRegistration {
        name: "prometheus.relabel",
        role: DataPlaneRole::Processor(prometheus::relabel::compile),
    });
    kinds.push(DataPlaneRegistration {
        name: "prometheus.remote_write",
        role: DataPlaneRole::Sink,
    });
    kinds.push(DataPlaneRegistration {
        name: "prometheus.scrape",
        role: DataPlaneRole::Source,
    });
}
