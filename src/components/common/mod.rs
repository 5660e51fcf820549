//! Pieces shared by several components: the relabel engine used by
//! `discovery.relabel`, `prometheus.relabel`, `prometheus.scrape` and
//! `prometheus.remote_write`'s `write_relabel_config`.

pub mod relabel;
