//! The `prometheus.scrape` component kind: the scrape engine as a data-plane
//! source.
//!
//! Data flow: the control plane evaluates the block into a [`Value`]; `run`
//! turns each new value into [`Arguments`] for the engine's `watch` channel;
//! the engine's batches go through [`SourceAppender`] into the component's
//! [`MetricsSource`]. Where they go next (`forward_to`) is the runtime's
//! business: the handle stays valid across data-plane rebuilds. The
//! component has no exports (as in Alloy); `{}` is published at build.

use std::sync::Arc;
use std::time::Duration;

use smelter_dataflows::PushError;
use smelter_storage::Batch;
use tokio::sync::watch;

use super::appender::{AppendFuture, Appender, Backpressure};
use super::arguments::Arguments;
use super::engine::ScrapeEngine;
use crate::component::{
    Build, BuildContext, Component, ComponentError, DataPlaneBatch, Health, MetricsSource,
    Registration, RunContext, RunFuture,
};
use crate::controller::schema::{http_client_config, Schema};
use crate::syntax::Value;

/// How long the engine waits before retrying a batch the queue refused.
const FULL_RETRY: Duration = Duration::from_millis(100);
/// How long before retrying when the source left the data plane (the
/// component is about to be stopped, or re-attached by a rebuild).
const DETACHED_RETRY: Duration = Duration::from_secs(1);

pub fn registration() -> Registration {
    Registration {
        name: "prometheus.scrape",
        schema,
        validate: |v| Arguments::from_value(v, "prometheus.scrape").map(|_| ()),
        build: Build::Task(build),
    }
}

fn schema() -> Schema {
    Schema::new()
        .attr("targets", true)
        .attr("forward_to", true)
        .attr("job_name", false)
        .attr("extra_metrics", false)
        .attr("enable_protobuf_negotiation", false)
        .attr("honor_labels", false)
        .attr("honor_timestamps", false)
        .attr("honor_metadata", false)
        .attr("track_timestamps_staleness", false)
        .attr("params", false)
        .attr("scrape_classic_histograms", false)
        .attr("scrape_native_histograms", false)
        .attr("scrape_interval", false)
        .attr("scrape_timeout", false)
        .attr("scrape_protocols", false)
        .attr("scrape_fallback_protocol", false)
        .attr("metrics_path", false)
        .attr("scheme", false)
        .attr("body_size_limit", false)
        .attr("sample_limit", false)
        .attr("target_limit", false)
        .attr("label_limit", false)
        .attr("label_name_length_limit", false)
        .attr("label_value_length_limit", false)
        .attr("native_histogram_bucket_limit", false)
        .attr("native_histogram_min_bucket_factor", false)
        .attr("convert_classic_histograms_to_nhcb", false)
        .attr("enable_compression", false)
        .attr("metric_name_validation_scheme", false)
        .attr("metric_name_escaping_scheme", false)
        .attr("enable_type_and_unit_labels", false)
        .attr("append_metadata", false)
        .squash(http_client_config())
        .block("clustering", false, Schema::new().attr("enabled", false))
}

/// The engine's [`Appender`] on top of the component's source handle:
/// never waits inside the data plane; a full queue is backpressure.
pub struct SourceAppender {
    id: String,
    source: MetricsSource,
}

impl SourceAppender {
    pub fn new(id: impl Into<String>, source: MetricsSource) -> Self {
        SourceAppender {
            id: id.into(),
            source,
        }
    }
}

impl Appender for SourceAppender {
    fn append(&self, batch: Batch) -> AppendFuture<'_> {
        let result = match self.source.try_push(batch.into()) {
            // Delivery is at-most-once per scrape, as in Prometheus: the
            // acknowledgement is not awaited (dropping it does not affect
            // the batch).
            Ok(_ack) => Ok(()),
            Err(PushError::Full(batch)) => Err(Backpressure {
                batch: returned(batch),
                retry_after: Some(FULL_RETRY),
            }),
            Err(PushError::Detached(batch)) => {
                let batch = returned(batch);
                tracing::warn!(
                    component = %self.id,
                    "scrape batch not delivered: the source was removed from the data plane; retrying"
                );
                Err(Backpressure {
                    batch,
                    retry_after: Some(DETACHED_RETRY),
                })
            }
        };
        Box::pin(std::future::ready(result))
    }
}

/// A batch the source handed back: it went in decoded, so it comes back
/// without decoding anything.
fn returned(batch: DataPlaneBatch) -> Batch {
    match batch {
        DataPlaneBatch::Decoded(batch) => batch,
        other => other.into_decoded().unwrap_or_default(),
    }
}

struct Scrape {
    id: String,
    args: Arguments,
    source: MetricsSource,
    health: Health,
}

fn build(ctx: BuildContext, args: &Value) -> Result<Box<dyn Component>, ComponentError> {
    let parsed = Arguments::from_value(args, &ctx.id)?;
    let source = ctx
        .data_plane
        .source()
        .ok_or_else(|| ComponentError::runtime("not connected to the data plane"))?;
    // Alloy's prometheus.scrape has no exports.
    ctx.exports.publish(Value::Object(Default::default()));
    Ok(Box::new(Scrape {
        id: ctx.id,
        args: parsed,
        source,
        health: ctx.health,
    }))
}

impl Component for Scrape {
    fn run(self: Box<Self>, mut ctx: RunContext) -> RunFuture {
        Box::pin(async move {
            let Scrape {
                id,
                args,
                source,
                health,
            } = *self;
            let appender = Arc::new(SourceAppender::new(id.clone(), source));
            let engine = ScrapeEngine::new(appender);
            let (tx, rx) = watch::channel(args);
            let stop = ctx.cancel.child_token();
            let engine = tokio::spawn(engine.run(rx, stop.clone()));
            health.healthy("scraping");
            loop {
                tokio::select! {
                    _ = ctx.cancel.cancelled() => break,
                    changed = ctx.args.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        let value = ctx.args.borrow_and_update().clone();
                        match Arguments::from_value(&value, &id) {
                            Ok(new) => {
                                tx.send_if_modified(|current| {
                                    if *current == new {
                                        false
                                    } else {
                                        *current = new;
                                        true
                                    }
                                });
                                health.healthy("scraping");
                            }
                            Err(e) => {
                                tracing::warn!(component = %id, error = %e, "ignoring invalid arguments");
                                health.unhealthy(e.to_string());
                            }
                        }
                    }
                }
            }
            stop.cancel();
            engine
                .await
                .map_err(|e| ComponentError::runtime(format!("scrape engine: {e}")))?;
            Ok(())
        })
    }
}
