//! `prometheus.remote_write`: the durable, sharded remote-write queue — the
//! SENDING part of `DESIGN.md`.
//!
//! ```text
//! sink ─▶ Queue::append ─▶ sled WAL ─▶ group-committed flush ─▶ Ack
//!                              │
//!                   reader (from the lowest shard position, bounded)
//!                              │ split by the stored labels.stable_hash() % shards
//!                 shard 0 … shard N-1 (per-series order kept)
//!                              │ ≤ max_samples_per_send or batch_send_deadline
//!                   sender: remote write 1.0 POST, retries, drops (counted)
//!                              │
//!        shard positions ─▶ persisted with the next flush ─▶ WAL truncated below the lowest
//! ```
//!
//! One [`Queue`] per `endpoint` block, each a named queue of the component's
//! [`smelter_storage::wal::Wal`]; the data plane writes into the component's
//! [`WalSink`], which acknowledges an epoch once every endpoint's WAL flush
//! covers it.
//!
//! Shards scale with the backlog (`scaling.rs`): twice as many while behind,
//! up to `max_shards` or as many as the in-flight budget keeps busy, back to
//! `clamp(4, min_shards, max_shards)` once caught up.
//!
//! The WAL stores series in remote-write wire form (entry format 2, see
//! `smelter_storage::wal`): the reader splits entries by the stored hash and
//! shards copy series into requests without re-encoding them; only series
//! that `write_relabel_config`, external labels, `sample_age_limit` or
//! `send_exemplars = false` change are decoded on the way out.
//!
//! Not yet: metadata is not sent (samples and exemplars are); the `wal` keep-alive settings are decoded but truncation is
//! continuous below the lowest shard position instead; TLS, OAuth2, SigV4,
//! proxies and remote write 2.0 are refused at decode time.
//!
//! Files: `component.rs` (registration, build, reload, removal), `sink.rs`
//! (the data-plane sink and its acknowledgements), `args.rs` (decoding and
//! validation), `progress.rs` (backlog replay log), `scaling.rs` (shard
//! count), `queue.rs` (append, group commit, truncation, the size cap),
//! `reader.rs` (hot tail or WAL ─▶ shards), `tail.rs` (the newest batches
//! kept in memory), `shard.rs` (send loops,
//! positions, label rewriting), `sender.rs` (HTTP, retries, drops),
//! `metrics.rs` (Prometheus-named metrics).

pub mod args;
mod component;
pub mod metrics;
mod progress;
mod queue;
mod reader;
mod scaling;
mod sender;
mod shard;
mod sink;
mod tail;

pub use args::{Arguments, Auth, EndpointConfig, QueueConfig, WalArgs};
pub use component::registration;
pub use metrics::EndpointMetrics;
pub use queue::{Ack, Queue, QueueError, QueueOptions};
pub use sender::USER_AGENT_VALUE;
pub use sink::WalSink;
