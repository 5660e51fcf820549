//! `prometheus.*`: components that produce or move Prometheus metrics.
//!
//! In the data flow these are sources and sinks of the data plane: the scrape
//! engine (`scrape/`) pulls pages from targets and hands batches of samples to
//! an [`scrape::Appender`]; the remote-write queue (`remote_write/`) persists
//! batches to the sled WAL and sends them, sharded by series, to endpoints.
//! Neither is registered as a component kind yet: that happens once the data
//! plane is wired into the runtime.

pub mod remote_write;
pub mod scrape;
