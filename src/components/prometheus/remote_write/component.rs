//! The `prometheus.remote_write` component: arguments in, a [`WalSink`] out
//! to the data plane, one [`Queue`] per `endpoint` block on one sled WAL in
//! `<--storage.path>/prometheus.remote_write.<label>/`.
//!
//! Place in the data flow: a sink. Build opens the WAL and the queues (which
//! resume sending whatever an earlier run left in the WAL) and hands the
//! sink to the runtime; `run` replaces the queues when the arguments change
//! and closes them (positions persisted) when the component is removed or
//! the process stops. Exports `receiver`, what `forward_to` lists.

use std::path::Path;
use std::sync::Arc;

use smelter_storage::wal::Wal;
use tokio::runtime::Handle;

use super::args::Arguments;
use super::queue::{Queue, QueueOptions};
use super::sink::WalSink;
use crate::component::{
    receiver_export, Build, BuildContext, Component, ComponentError, Health, Registration,
    RunContext, RunFuture,
};
use crate::components::common::relabel::relabel_rule_schema;
use crate::controller::schema::{http_client_config, Schema};
use crate::syntax::{Object, Value};

pub fn registration() -> Registration {
    Registration {
        name: "prometheus.remote_write",
        schema,
        validate: |v| Arguments::from_value(v).map(|_| ()),
        build: Build::Task(build),
    }
}

fn schema() -> Schema {
    let queue_config = Schema::new()
        .attr("capacity", false)
        .attr("min_shards", false)
        .attr("max_shards", false)
        .attr("max_samples_per_send", false)
        .attr("batch_send_deadline", false)
        .attr("min_backoff", false)
        .attr("max_backoff", false)
        .attr("retry_on_http_429", false)
        .attr("sample_age_limit", false);
    let metadata_config = Schema::new()
        .attr("send", false)
        .attr("send_interval", false)
        .attr("max_samples_per_send", false);
    let endpoint = Schema::new()
        .attr("url", true)
        .attr("name", false)
        .attr("remote_timeout", false)
        .attr("headers", false)
        .attr("send_exemplars", false)
        .attr("send_native_histograms", false)
        .attr("round_robin_dns", false)
        .attr("protobuf_message", false)
        .squash(http_client_config())
        .block("queue_config", false, queue_config)
        .block("metadata_config", false, metadata_config)
        .blocks("write_relabel_config", false, relabel_rule_schema())
        // Refused when decoded (not supported yet), accepted by the schema
        // so the message says so instead of "unknown block".
        .block("sigv4", false, Schema::open())
        .block("azuread", false, Schema::open())
        .block("google_iam", false, Schema::open());
    let wal = Schema::new()
        .attr("truncate_frequency", false)
        .attr("min_keepalive_time", false)
        .attr("max_keepalive_time", false);
    Schema::new()
        .attr("external_labels", false)
        .attr("ttl", false)
        .attr("max_wal_size", false)
        .blocks("endpoint", false, endpoint)
        .block("wal", false, wal)
}

fn options(args: &Arguments) -> QueueOptions {
    QueueOptions {
        ttl: args.ttl,
        max_wal_size: args.max_wal_size,
    }
}

/// Opens a queue per endpoint (on the current tokio runtime).
fn open_queues(wal: &Wal, args: &Arguments) -> Result<Vec<Arc<Queue>>, ComponentError> {
    let opts = options(args);
    args.endpoints
        .iter()
        .map(|e| {
            Queue::open(wal, e.clone(), opts)
                .map(Arc::new)
                .map_err(|err| ComponentError::runtime(format!("endpoint {:?}: {err}", e.name)))
        })
        .collect()
}

/// Opens the component's WAL (waiting briefly for a WAL of the same ID
/// that the previous reload is still closing: `Wal::open`).
fn open_wal(dir: &Path) -> Result<Wal, ComponentError> {
    Wal::open(dir)
        .map_err(|e| ComponentError::runtime(format!("opening the WAL in {}: {e}", dir.display())))
}

fn build(ctx: BuildContext, args: &Value) -> Result<Box<dyn Component>, ComponentError> {
    let arguments = Arguments::from_value(args)?;
    let wal = open_wal(&ctx.data_path())?;
    let queues = open_queues(&wal, &arguments)?;
    let sink = Arc::new(WalSink::new(
        &ctx.id,
        queues,
        Handle::current(),
        ctx.health.clone(),
    ));
    ctx.data_plane.set_sink(sink.clone());
    let mut exports = Object::new();
    exports.insert("receiver".to_string(), receiver_export(&ctx.id));
    ctx.exports.publish(Value::Object(exports));
    ctx.health.healthy(healthy_message(&arguments));
    Ok(Box::new(RemoteWrite {
        id: ctx.id,
        wal,
        sink,
        health: ctx.health,
    }))
}

fn healthy_message(args: &Arguments) -> String {
    let names: Vec<&str> = args.endpoints.iter().map(|e| e.name.as_str()).collect();
    format!(
        "writing to {} endpoint(s): {}",
        names.len(),
        names.join(", ")
    )
}

struct RemoteWrite {
    id: String,
    wal: Wal,
    sink: Arc<WalSink>,
    health: Health,
}

impl RemoteWrite {
    async fn close(&self, queues: Vec<Arc<Queue>>) {
        for q in queues {
            if let Err(e) = q.close().await {
                tracing::error!(component = %self.id, remote_name = %q.config().name, "closing the queue: {e}");
            }
        }
    }

    /// Replaces the queues with ones built from `args`; the old queues'
    /// positions are persisted first, so the new ones resume where they
    /// stopped. If the new queues cannot be opened the old settings are
    /// restored (and the component reported unhealthy).
    async fn apply(&self, old: &Arguments, new: &Arguments) {
        let queues = self.sink.take();
        self.close(queues).await;
        match open_queues(&self.wal, new) {
            Ok(q) => {
                self.sink.install(q);
                self.health.healthy(healthy_message(new));
            }
            Err(e) => {
                tracing::error!(component = %self.id, "applying new arguments, keeping the old: {e}");
                let restored = open_queues(&self.wal, old).unwrap_or_default();
                self.sink.install(restored);
                self.health
                    .unhealthy(format!("applying new arguments: {e}"));
            }
        }
    }
}

impl Component for RemoteWrite {
    fn run(self: Box<Self>, mut ctx: RunContext) -> RunFuture {
        Box::pin(async move {
            let mut current = Arguments::from_value(&ctx.args.borrow_and_update())?;
            while let Some(value) = ctx.next_args().await {
                match Arguments::from_value(&value) {
                    Ok(new) => {
                        self.apply(&current, &new).await;
                        current = new;
                    }
                    Err(e) => {
                        tracing::warn!(component = %self.id, "ignoring invalid arguments: {e}")
                    }
                }
            }
            let queues = self.sink.shut();
            self.close(queues).await;
            Ok(())
        })
    }
}
