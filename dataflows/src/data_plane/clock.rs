//! The epoch clock of the data plane: one logical clock that advances every input in step.
//!
//! Every input of a data-plane dataflow (the sources fed by tokio tasks and the
//! argument streams of the processors) stamps what it emits with the current epoch and
//! downgrades its capability to it whenever it is scheduled. The clock is logical, not
//! wall-clock: a source that emits a batch at epoch `e` moves the clock past `e` and
//! wakes every input of its dataflow ([`Inputs::wake`]), so they all downgrade past `e`
//! and the batch's epoch can complete once the sinks acknowledged it (DESIGN, "Time and
//! acknowledgement through progress"). Nothing ticks: with nothing pushed, no input is
//! scheduled and the workers park without a timeout, so an idle data plane costs no CPU,
//! and an acknowledgement waits for the sinks only, never for the next tick.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use timely::scheduling::SyncActivator;

/// An epoch of the data plane: the timely timestamp that carries a batch.
pub type Epoch = u64;

/// The logical clock shared by every input of a data plane (across rebuilds, so epochs
/// only move forward).
#[derive(Debug, Default)]
pub(crate) struct Clock {
    epoch: AtomicU64,
}

impl Clock {
    /// The current epoch.
    pub(crate) fn now(&self) -> Epoch {
        self.epoch.load(Ordering::Acquire)
    }

    /// Moves the clock past `epoch`. `true` if this call moved it: the caller then wakes
    /// the inputs. If another caller already moved it, that caller's wake-up came after
    /// the move, so every input is scheduled after it and reads an epoch past `epoch`.
    pub(crate) fn advance_past(&self, epoch: Epoch) -> bool {
        let next = epoch.saturating_add(1);
        self.epoch.fetch_max(next, Ordering::AcqRel) < next
    }
}

/// The wake-ups of every input operator of one dataflow, on every worker.
#[derive(Default)]
pub(crate) struct Inputs {
    activators: Mutex<Vec<SyncActivator>>,
}

impl Inputs {
    /// Registers an input (when its operator is built).
    pub(crate) fn register(&self, activator: SyncActivator) {
        self.lock().push(activator);
    }

    /// Schedules every input: the clock moved, arguments changed, or the dataflow is
    /// closing.
    pub(crate) fn wake(&self) {
        for activator in self.lock().iter() {
            // An error means the worker is gone (shutting down): nothing to advance there.
            let _ = activator.activate();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SyncActivator>> {
        // Pushes and iteration leave the vector consistent, so a poisoned lock is safe.
        self.activators.lock().unwrap_or_else(|e| e.into_inner())
    }
}
