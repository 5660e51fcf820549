//! The scrape engine of `prometheus.scrape`: Prometheus' scrape loop,
//! delivering batches to a sink trait.
//!
//! Data flow (one component):
//!
//! ```text
//! Arguments (watch) ─▶ engine: targets → one loop per target (tokio task)
//!   loop: wait offset, then every interval:
//!     fetch (HTTP GET, Accept/gzip/timeout/body limit)
//!       ─▶ ingest (exposition parser; the target's scrape cache maps each
//!          series' raw text to labels built on an earlier scrape; target
//!          labels, limits, timestamps for new series)
//!       ─▶ staleness markers for vanished series (from the same cache)
//!       ─▶ report series
//!       ─▶ Appender::append(Batch)   (retried on Backpressure)
//! ```
//!
//! The engine does not know the data plane: `component` registers the kind
//! and implements [`Appender`] on the component's data-plane source handle;
//! tests and benches also drive [`ScrapeEngine`] directly.
//!
//! One concern per file: `arguments` (typed arguments; authentication is shared, in `components::common::http_client`), `target`
//! (label population, URL, offset), `fetch` (HTTP), `ingest` (page →
//! samples), `cache` (the scrape cache: series by raw text across scrapes,
//! and staleness), `report` (report series), `target_loop`
//! (schedule, backpressure), `engine` (reconciling loops), `appender` (the
//! sink trait), `stats` (counters), `component` (the registered kind).

pub mod appender;
pub mod arguments;
pub mod cache;
pub mod component;
pub mod engine;
pub mod fetch;
pub mod ingest;
pub mod report;
pub mod stats;
pub mod target;
pub mod target_loop;

pub use appender::{AppendFuture, Appender, Backpressure, CollectingAppender};
pub use arguments::{Arguments, Limits, Protocol};
pub use cache::ScrapeCache;
pub use component::{registration, SourceAppender};
pub use engine::ScrapeEngine;
pub use ingest::{ingest, IngestError, Ingested, PageSettings};
pub use stats::{ScrapeStats, StatsSnapshot};
pub use target::Target;
