//! `prometheus.*`: components that produce or move Prometheus metrics.
//!
//! In the data flow these are the data plane's sources, processors and sinks:
//! `receive_http` pushes remote-write requests into it, `scrape` pushes one
//! batch per target per scrape, `relabel` rewrites series as an operator,
//! `echo` prints what reaches it; `exporter.*` export targets for `scrape`. The durable remote-write queue
//! (`remote_write/`) is complete and tested on its own, and becomes a
//! registered kind once it is wired to the data plane.

pub mod echo;
pub mod exporter;
pub mod receive_http;
pub mod relabel;
pub mod remote_write;
pub mod scrape;
