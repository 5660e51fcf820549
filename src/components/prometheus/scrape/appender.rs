//! The sink of the scrape engine: where each scrape's batch goes.
//!
//! In the data flow this is the seam between a source (the scrape loops, on
//! tokio) and the data plane: the data plane implements [`Appender`] by
//! pushing the batch into its input handle; tests use [`CollectingAppender`].
//! A sink that cannot take more right now answers [`Backpressure`] and hands
//! the batch back: the scrape loop retries it later and delays its next
//! scrape, so memory in flight stays one batch per target.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smelter_storage::Batch;
use tokio::sync::Notify;

/// The sink refused the batch for now; it is handed back to be retried.
#[derive(Debug)]
pub struct Backpressure {
    pub batch: Batch,
    /// How long the sink suggests waiting before retrying (the loop uses a
    /// default when `None`).
    pub retry_after: Option<Duration>,
}

/// The future of one [`Appender::append`].
pub type AppendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Backpressure>> + Send + 'a>>;

/// Receives one batch per scrape (samples, staleness markers and the report
/// series of one target at one timestamp).
pub trait Appender: Send + Sync + 'static {
    fn append(&self, batch: Batch) -> AppendFuture<'_>;
}

/// An appender that keeps every batch in memory, for tests and tools.
#[derive(Default)]
pub struct CollectingAppender {
    batches: Mutex<Vec<Batch>>,
    notify: Notify,
}

impl CollectingAppender {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A copy of every batch received so far, in arrival order.
    pub fn batches(&self) -> Vec<Batch> {
        match self.batches.lock() {
            Ok(b) => b.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Waits until `pred` holds on the batches received, or `timeout`
    /// passes; returns the batches either way.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&[Batch]) -> bool) -> Vec<Batch> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            let batches = self.batches();
            if pred(&batches) {
                return batches;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.batches();
            }
        }
    }
}

impl Appender for CollectingAppender {
    fn append(&self, batch: Batch) -> AppendFuture<'_> {
        Box::pin(async move {
            match self.batches.lock() {
                Ok(mut b) => b.push(batch),
                Err(poisoned) => poisoned.into_inner().push(batch),
            }
            self.notify.notify_waiters();
            Ok(())
        })
    }
}
