//! `prometheus.*`: components that produce or move Prometheus metrics.
//!
//! In the data flow these are sources and sinks of the data plane: the scrape
//! engine (`scrape/`) pulls pages from targets and hands batches of samples to
//! an [`scrape::Appender`], which the data plane implements. Not registered as
//! a component kind yet: that happens once the data plane exists.

pub mod scrape;
