//! `prometheus.*`: components that produce or move Prometheus metrics.
//!
//! In the data flow these are the data plane's sources, processors and sinks:
//! `receive_http` pushes remote-write requests into it, `relabel` rewrites
//! series as an operator, `echo` prints what reaches it. The scrape engine
//! (`scrape/`) and the durable remote-write queue (`remote_write/`) are
//! complete and tested on their own, and become registered kinds once they are
//! wired to the data plane.

pub mod echo;
pub mod receive_http;
pub mod relabel;
pub mod remote_write;
pub mod scrape;
