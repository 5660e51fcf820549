//! Pieces shared by several components: the relabel engine used by
//! `discovery.relabel`, `prometheus.relabel`, `prometheus.scrape` and
//! `prometheus.remote_write`'s `write_relabel_config`, and the HTTP client
//! authentication of `discovery.http` and `prometheus.scrape`.

pub mod http_auth;
pub mod relabel;
