//! `discovery.*`: components that find scrape targets and export them as
//! lists of label sets for `prometheus.scrape` and friends.

pub mod relabel;
