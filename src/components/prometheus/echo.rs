//! `prometheus.echo`: a data-plane sink printing every series it receives to
//! stdout in the Prometheus text format (or OpenMetrics), for debugging.
//!
//! Place in the data flow: the end of a pipeline. The dataflow writes batches
//! into the [`EchoSink`] the component hands over at build time; each batch is
//! rendered into one buffer and written to stdout with one `write_all` (no
//! interleaving of batches written by different workers). Nothing is stored,
//! so every epoch is acknowledged at once. The samples received are counted
//! and reported in the component's health message ("echoed N samples in M
//! batches") and by [`samples_echoed`], which tests read.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use smelter_dataflows::data_plane::Epoch;
use smelter_dataflows::Sink;

use crate::component::{
    receiver_export, Args, Build, BuildContext, Component, ComponentError, DataPlaneBatch, Health,
    MetricsBatch, Registration, RunContext, RunFuture,
};
use crate::controller::schema::Schema;
use crate::syntax::{Object, Value};

pub fn registration() -> Registration {
    Registration {
        name: "prometheus.echo",
        schema,
        validate: |v| openmetrics(v).map(|_| ()),
        build: Build::Task(build),
    }
}

fn schema() -> Schema {
    Schema::new().attr("format", false)
}

/// Whether `format` asks for OpenMetrics (else the text format).
fn openmetrics(v: &Value) -> Result<bool, ComponentError> {
    let args = Args::new(v)?;
    let format: String = args.or("format", "text".to_string())?;
    match format.as_str() {
        "text" => Ok(false),
        "openmetrics" => Ok(true),
        other => Err(ComponentError::args(format!(
            "format must be \"text\" or \"openmetrics\", got {other:?}"
        ))),
    }
}

/// Samples received by each echo component of the process, by component id.
static ECHOED: LazyLock<Mutex<HashMap<String, Arc<AtomicU64>>>> = LazyLock::new(Mutex::default);

/// How many samples the `prometheus.echo` component `id` has received since
/// it was last built (`None`: no such component was ever built).
pub fn samples_echoed(id: &str) -> Option<u64> {
    let all = ECHOED.lock().unwrap_or_else(|e| e.into_inner());
    all.get(id).map(|n| n.load(Ordering::Acquire))
}

/// What the dataflow writes into.
pub struct EchoSink {
    openmetrics: AtomicBool,
    samples: Arc<AtomicU64>,
    batches: AtomicU64,
    health: Health,
}

impl EchoSink {
    fn render(&self, batch: &MetricsBatch) -> String {
        let om = self.openmetrics.load(Ordering::Relaxed);
        let mut out = String::with_capacity(64 * batch.sample_count());
        for series in &batch.series {
            let name = series.labels.metric_name().unwrap_or("");
            let mut labels = String::new();
            for (n, v) in series.labels.iter().filter(|(n, _)| *n != "__name__") {
                if !labels.is_empty() {
                    labels.push(',');
                }
                let _ = write!(labels, "{n}=\"");
                for c in v.chars() {
                    match c {
                        '\\' => labels.push_str("\\\\"),
                        '"' => labels.push_str("\\\""),
                        '\n' => labels.push_str("\\n"),
                        c => labels.push(c),
                    }
                }
                labels.push('"');
            }
            for sample in &series.samples {
                out.push_str(name);
                if !labels.is_empty() {
                    let _ = write!(out, "{{{labels}}}");
                }
                if om {
                    let ts = sample.timestamp_ms as f64 / 1000.0;
                    let _ = writeln!(out, " {} {ts}", sample.value);
                } else {
                    let _ = writeln!(out, " {} {}", sample.value, sample.timestamp_ms);
                }
            }
        }
        if om && !out.is_empty() {
            out.push_str("# EOF\n");
        }
        out
    }
}

impl Sink<DataPlaneBatch> for EchoSink {
    fn write(&self, _worker: usize, _epoch: Epoch, batch: DataPlaneBatch) {
        let batch = match batch.into_decoded() {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!("prometheus.echo: dropping a batch that does not decode: {e}");
                return;
            }
        };
        let text = self.render(&batch);
        // One write per batch, so concurrent workers do not interleave lines.
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
        {
            tracing::warn!(error = %e, "prometheus.echo: writing to stdout");
        }
        let samples = self
            .samples
            .fetch_add(batch.sample_count() as u64, Ordering::AcqRel)
            + batch.sample_count() as u64;
        let batches = self.batches.fetch_add(1, Ordering::AcqRel) + 1;
        self.health
            .healthy(format!("echoed {samples} samples in {batches} batches"));
        tracing::debug!(samples, batches, "prometheus.echo received a batch");
    }
}

struct Echo {
    sink: Arc<EchoSink>,
}

fn build(ctx: BuildContext, args: &Value) -> Result<Box<dyn Component>, ComponentError> {
    let sink = Arc::new(EchoSink {
        openmetrics: AtomicBool::new(openmetrics(args)?),
        samples: Arc::new(AtomicU64::new(0)),
        batches: AtomicU64::new(0),
        health: ctx.health.clone(),
    });
    ECHOED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(ctx.id.clone(), sink.samples.clone());
    ctx.data_plane.set_sink(sink.clone());
    let mut exports = Object::new();
    exports.insert("receiver".to_string(), receiver_export(&ctx.id));
    ctx.exports.publish(Value::Object(exports));
    Ok(Box::new(Echo { sink }))
}

impl Component for Echo {
    fn run(self: Box<Self>, mut ctx: RunContext) -> RunFuture {
        Box::pin(async move {
            if self.sink.batches.load(Ordering::Acquire) == 0 {
                self.sink.health.healthy("echoed 0 samples in 0 batches");
            }
            while let Some(args) = ctx.next_args().await {
                match openmetrics(&args) {
                    Ok(om) => self.sink.openmetrics.store(om, Ordering::Relaxed),
                    Err(e) => {
                        tracing::warn!(error = %e, "prometheus.echo: ignoring invalid arguments")
                    }
                }
            }
            Ok(())
        })
    }
}
