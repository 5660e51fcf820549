//! The data-plane end of `prometheus.remote_write`: what the timely dataflow
//! writes batches into, and where the durability promise is kept.
//!
//! ```text
//! worker ─ write(epoch, batch) ─▶ Queue::append_shared (every endpoint) ─▶ parked acks
//! worker ─ flush(epoch, ack)   ─▶ tokio: await the epoch's WAL acks ─▶ ack.ack()
//! ```
//!
//! The dataflow hands every batch of an epoch to [`WalSink::write`], then
//! calls [`WalSink::flush`] once no more can come. The epoch is acknowledged
//! upstream — and a `prometheus.receive_http` client answered 2xx — only once
//! every endpoint's WAL flush covering its batches has happened (group
//! commit: one fsync for many batches).
//!
//! The endpoints' queues are swapped when the component's arguments change
//! (a reload): the old queues are closed (positions persisted, pending
//! appends flushed) and new ones opened on the same WAL, which resume from
//! the persisted positions. While that happens, writers wait; a write that
//! raced with the close retries on the new queue of the same endpoint name.
//! A write to a WAL that fails (a disk error) is retried with backoff and
//! never acknowledged before it succeeds: the stall reaches the sources as
//! backpressure, which is what a sink that cannot persist must do.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use smelter_dataflows::data_plane::{Ack as EpochAck, Epoch};
use smelter_dataflows::Sink;
use tokio::runtime::Handle;

use super::metrics;
use super::queue::{Ack, Queue, QueueError};
use crate::component::{DataPlaneBatch, Health};
use smelter_storage::remote_write::EncodedBatch;

/// The endpoints' queues, or `None` while they are being replaced.
type Queues = Option<Arc<Vec<Arc<Queue>>>>;

#[derive(Default)]
struct State {
    queues: Queues,
    /// The component was removed: writes are refused from now on.
    closed: bool,
}

/// What the dataflow writes into.
pub struct WalSink {
    id: String,
    state: Mutex<State>,
    swapped: Condvar,
    /// WAL acknowledgements of the batches written per (worker, epoch).
    pending: Mutex<HashMap<(usize, Epoch), Vec<Ack>>>,
    tokio: Handle,
    health: Health,
    samples: AtomicU64,
}

/// First and longest wait between two attempts to store a batch.
const RETRY_MIN: Duration = Duration::from_millis(10);
const RETRY_MAX: Duration = Duration::from_secs(1);

impl WalSink {
    pub fn new(id: &str, queues: Vec<Arc<Queue>>, tokio: Handle, health: Health) -> WalSink {
        WalSink {
            id: id.to_owned(),
            state: Mutex::new(State {
                queues: Some(Arc::new(queues)),
                closed: false,
            }),
            swapped: Condvar::new(),
            pending: Mutex::default(),
            tokio,
            health,
            samples: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Samples stored so far (in every endpoint's WAL).
    pub fn samples_written(&self) -> u64 {
        self.samples.load(Ordering::Acquire)
    }

    /// The current queues, waiting while they are being replaced; `None`
    /// once the component is gone.
    fn current(&self) -> Option<Arc<Vec<Arc<Queue>>>> {
        let mut state = self.lock();
        loop {
            if state.closed {
                return None;
            }
            if let Some(q) = &state.queues {
                return Some(q.clone());
            }
            state = self.swapped.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Takes the queues out (writers wait until [`WalSink::install`]).
    pub fn take(&self) -> Vec<Arc<Queue>> {
        let taken = self.lock().queues.take();
        taken.map(|q| q.as_ref().clone()).unwrap_or_default()
    }

    /// Installs new queues and wakes the waiting writers.
    pub fn install(&self, queues: Vec<Arc<Queue>>) {
        self.lock().queues = Some(Arc::new(queues));
        self.swapped.notify_all();
    }

    /// Refuses further writes and returns the queues to close.
    pub fn shut(&self) -> Vec<Arc<Queue>> {
        let mut state = self.lock();
        state.closed = true;
        let taken = state.queues.take();
        drop(state);
        self.swapped.notify_all();
        taken.map(|q| q.as_ref().clone()).unwrap_or_default()
    }

    /// Stores `batch` in the queue of endpoint `name`, retrying until it is
    /// stored, the endpoint is gone from the configuration, or the component
    /// is removed.
    fn store(&self, name: &str, batch: &mut Arc<EncodedBatch>) -> Option<Ack> {
        let mut wait = RETRY_MIN;
        let mut failing = false;
        loop {
            let queues = self.current()?;
            let queue = queues.iter().find(|q| q.config().name == name)?;
            match queue.append_shared(batch) {
                Ok(ack) => {
                    if failing {
                        self.health.healthy("writing to the WAL again");
                    }
                    return Some(ack);
                }
                // Closed by a reload between `current` and `append`.
                Err(QueueError::Closed) => continue,
                Err(e) => {
                    if !failing {
                        tracing::error!(component = %self.id, remote_name = name, "storing a batch in the WAL, retrying: {e}");
                        self.health
                            .unhealthy(format!("storing a batch in the WAL: {e}"));
                        failing = true;
                    }
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(RETRY_MAX);
                }
            }
        }
    }
}

impl Sink<DataPlaneBatch> for WalSink {
    fn write(&self, worker: usize, epoch: Epoch, batch: DataPlaneBatch) {
        let Some(queues) = self.current() else {
            let samples = batch.sample_count() as u64;
            tracing::warn!(component = %self.id, samples, "batch reached a removed prometheus.remote_write: dropped");
            metrics::dropped_in_removal(&self.id, samples);
            return;
        };
        let samples = batch.sample_count() as u64;
        // Encoded once for every endpoint; wire form from a receiver as is.
        let batch = Arc::new(batch.into_encoded());
        let names: Vec<String> = queues.iter().map(|q| q.config().name.clone()).collect();
        drop(queues);
        // Each endpoint gets its own handle on the batch: one whose `ttl`
        // drops samples copies it first, so every endpoint counts the
        // samples it dropped.
        let acks: Vec<Ack> = names
            .iter()
            .filter_map(|name| {
                let ack = self.store(name, &mut batch.clone());
                if ack.is_none() {
                    // The component or this endpoint went away meanwhile.
                    tracing::warn!(component = %self.id, remote_name = %name, samples, "batch reached a removed endpoint: dropped");
                    metrics::dropped_in_removal(&self.id, samples);
                }
                ack
            })
            .collect();
        self.samples.fetch_add(samples, Ordering::AcqRel);
        if !acks.is_empty() {
            self.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry((worker, epoch))
                .or_default()
                .extend(acks);
        }
    }

    fn flush(&self, worker: usize, epoch: Epoch, ack: EpochAck) {
        let acks = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(worker, epoch))
            .unwrap_or_default();
        if acks.is_empty() {
            ack.ack();
            return;
        }
        let id = self.id.clone();
        self.tokio.spawn(async move {
            for a in acks {
                a.durable(&id).await;
            }
            ack.ack();
        });
    }
}
