//! Pieces shared by several components: the relabel engine used by
//! `discovery.relabel`, `prometheus.relabel`, `prometheus.scrape` and
//! `prometheus.remote_write`'s `write_relabel_config`, and the HTTP client
//! settings (authentication, URLs) of `discovery.http`, `prometheus.scrape`
//! and `prometheus.remote_write`.

pub mod http_client;
pub mod relabel;
