//! `prometheus.exporter.*`: components that export scrape targets pointing at
//! metrics they serve.
//!
//! In the data flow they are control-plane sources: their `targets` export
//! feeds `prometheus.scrape`, which pulls the metrics into the data plane
//! like any other target's.

// `self` is a keyword (not even `r#self` is allowed), so the module gets
// another name while its file keeps the name Alloy gives the component.
#[path = "self.rs"]
pub mod self_;
