//! Acknowledgements, both ways round.
//!
//! - [`AckHandle`] goes to a producer: `push` returns one per batch, and it resolves
//!   once every sink the batch can reach has acknowledged the epoch that carried it
//!   (the source's probe, placed after those sinks, has passed the epoch). A receiver
//!   answers its client only then (DESIGN, "Durability").
//! - [`Ack`] goes to a sink: the data plane calls `Sink::flush(epoch, ack)` once an
//!   epoch is complete at that sink, and the sink holds its capability for the epoch
//!   until `ack.ack()` is called (from any thread, e.g. after the WAL flush). One
//!   flush acknowledges every batch of the epoch: group commit.

use super::clock::Epoch;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use timely::scheduling::SyncActivator;

/// Why a batch will never be acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The source was removed from the graph by a rebuild before its batch was taken
    /// into a dataflow; the batch was dropped.
    #[error("the source was removed before the batch entered the data plane")]
    SourceRemoved,
    /// The data plane shut down before the batch was acknowledged.
    #[error("the data plane shut down before the batch was acknowledged")]
    ShutDown,
}

#[derive(Default)]
struct SlotState {
    outcome: Option<Result<Epoch, AckError>>,
    waker: Option<Waker>,
}

/// The shared state of one batch's acknowledgement.
#[derive(Default)]
pub(crate) struct AckSlot {
    state: Mutex<SlotState>,
    done: Condvar,
}

impl AckSlot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        // A panic while holding this lock cannot leave the state inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn resolve(&self, outcome: Result<Epoch, AckError>) {
        let waker = {
            let mut state = self.lock();
            if state.outcome.is_some() {
                return;
            }
            state.outcome = Some(outcome);
            state.waker.take()
        };
        self.done.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A producer's view of one pushed batch: resolves to the epoch that carried it once
/// every sink reached by the batch acknowledged that epoch.
///
/// Await it (`Future`), block on it ([`AckHandle::wait`]), or drop it: dropping does
/// not affect the batch.
pub struct AckHandle {
    slot: Arc<AckSlot>,
}

impl AckHandle {
    pub(crate) fn new() -> (Self, Arc<AckSlot>) {
        let slot = Arc::new(AckSlot::default());
        (
            AckHandle {
                slot: Arc::clone(&slot),
            },
            slot,
        )
    }

    /// The outcome, if the batch was already acknowledged (or dropped).
    pub fn try_get(&self) -> Option<Result<Epoch, AckError>> {
        self.slot.lock().outcome
    }

    /// Whether the batch was acknowledged.
    pub fn is_acked(&self) -> bool {
        matches!(self.try_get(), Some(Ok(_)))
    }

    /// Blocks the calling thread until the batch is acknowledged (not for async code).
    pub fn wait(&self) -> Result<Epoch, AckError> {
        let mut state = self.slot.lock();
        loop {
            if let Some(outcome) = state.outcome {
                return outcome;
            }
            state = self
                .slot
                .done
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// As [`AckHandle::wait`], giving up after `timeout` (`None`).
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Result<Epoch, AckError>> {
        let state = self.slot.lock();
        let (state, _) = self
            .slot
            .done
            .wait_timeout_while(state, timeout, |s| s.outcome.is_none())
            .unwrap_or_else(|e| e.into_inner());
        state.outcome
    }
}

impl Future for AckHandle {
    type Output = Result<Epoch, AckError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.lock();
        match state.outcome {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl std::fmt::Debug for AckHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckHandle")
            .field("outcome", &self.try_get())
            .finish()
    }
}

/// Acknowledged epochs of one sink operator, waiting to be applied by its worker.
pub(crate) type AckedEpochs = Arc<Mutex<Vec<Epoch>>>;

/// A sink's permission to release one epoch: call [`Ack::ack`] once the epoch's data
/// is durable. `Send`, so it can be moved to the thread or task that flushes.
///
/// Dropping it without calling `ack` keeps the epoch unacknowledged for ever, which
/// stalls the acknowledgements of every source reaching this sink (and, through the
/// in-flight bound, those sources): a sink that cannot persist should keep retrying.
#[must_use = "an epoch that is never acknowledged stalls every source reaching the sink"]
pub struct Ack {
    epoch: Epoch,
    acked: AckedEpochs,
    activator: SyncActivator,
}

impl Ack {
    pub(crate) fn new(epoch: Epoch, acked: AckedEpochs, activator: SyncActivator) -> Self {
        Ack {
            epoch,
            acked,
            activator,
        }
    }

    /// The epoch this acknowledgement releases.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// Marks the epoch durable at this sink and wakes the sink's operator.
    pub fn ack(self) {
        self.acked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.epoch);
        // An error means the worker is gone (shutdown): nothing left to release.
        let _ = self.activator.activate();
    }
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ack").field("epoch", &self.epoch).finish()
    }
}
