//! Processor arguments as a second input stream.
//!
//! When the control plane reports new arguments for a processor (new relabel rules),
//! the runtime calls `DataPlane::update_args`; the data plane is not rebuilt. The new
//! value goes into the processor's [`ArgsCell`] stamped with the current epoch `e`. An
//! argument input on every worker (a timely source, woken by `update_args`) picks it up
//! and emits it at `e`; the processor applies, before a record of epoch `t`, every
//! argument update of epoch `≤ t`, and waits for the argument frontier to pass `t`
//! first. So every batch pushed after `update_args` returned (hence carried by an epoch
//! `≥ e`) is processed with the new arguments, and none pushed before a change is
//! processed with arguments newer than its epoch.

use super::clock::{Clock, Epoch};
use std::sync::{Mutex, MutexGuard};

struct ArgsState<A> {
    version: u64,
    epoch: Epoch,
    args: A,
}

/// The current arguments of one processor, shared by the controller and all workers.
pub(crate) struct ArgsCell<A> {
    state: Mutex<ArgsState<A>>,
}

impl<A: Clone> ArgsCell<A> {
    pub(crate) fn new(args: A) -> Self {
        ArgsCell {
            state: Mutex::new(ArgsState {
                version: 0,
                epoch: 0,
                args,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ArgsState<A>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the arguments from the current epoch on.
    pub(crate) fn set(&self, args: A, clock: &Clock) {
        let mut state = self.lock();
        // Read the clock under the lock: a reader that saw the previous version also
        // read the clock before this epoch, so it still holds a capability `≤` it.
        state.epoch = clock.now();
        state.version += 1;
        state.args = args;
    }

    /// The version and arguments now (for building an operator).
    pub(crate) fn snapshot(&self) -> (u64, A) {
        let state = self.lock();
        (state.version, state.args.clone())
    }

    /// The current epoch, and the arguments with their epoch if newer than `seen`.
    pub(crate) fn poll(&self, seen: u64, clock: &Clock) -> (Epoch, Option<(u64, Epoch, A)>) {
        let state = self.lock();
        let now = clock.now();
        let update =
            (state.version > seen).then(|| (state.version, state.epoch, state.args.clone()));
        (now, update)
    }
}
