//! smelter: a telemetry pipeline that runs Grafana Alloy configuration files.
//!
//! `.alloy` text enters through [`syntax`] (parse, evaluate, format), becomes a
//! component graph in [`controller`], and is driven from the command line in
//! [`cli`]; [`server`] shows the running graph over HTTP and exposes the
//! process's own [`metrics`]. See `DESIGN.md` in `../shared` for the whole data flow.

pub mod bench;
pub mod cli;
pub mod component;
pub mod components;
pub mod controller;
pub mod metrics;
pub mod server;
pub mod syntax;
