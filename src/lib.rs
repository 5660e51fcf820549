//! smelter: a telemetry pipeline that runs Grafana Alloy configuration files.
//!
//! `.alloy` text enters through [`syntax`] (parse, evaluate, format), becomes a
//! component graph in [`controller`], and is driven from the command line in
//! [`cli`]. See `DESIGN.md` in `../shared` for the whole data flow.

pub mod cli;
pub mod components;
pub mod controller;
pub mod syntax;
