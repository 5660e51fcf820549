//! The epoch clock of the data plane: one clock that advances every input in step.
//!
//! Every input of a data-plane dataflow (the sources fed by tokio tasks and the
//! argument streams of the processors) stamps what it emits with the current epoch and
//! downgrades its capability to it whenever it is scheduled, at least once per tick.
//! The epoch is derived from one shared start instant, so all inputs on all workers
//! agree on it without talking to each other, and it only moves forward. An input that
//! were not advanced would stall every frontier behind it (DESIGN, "Time and
//! acknowledgement through progress"), hence the self-scheduling every tick.

use std::time::{Duration, Instant};

/// An epoch of the data plane: the timely timestamp that carries a batch.
pub type Epoch = u64;

/// Wall-clock epochs of fixed length, shared by every input of a data plane.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    start: Instant,
    tick: Duration,
}

impl Clock {
    pub(crate) fn new(tick: Duration) -> Self {
        Clock {
            start: Instant::now(),
            tick: tick.max(Duration::from_micros(100)),
        }
    }

    /// The current epoch: the number of whole ticks since the start.
    pub(crate) fn now(&self) -> Epoch {
        let ticks = self.start.elapsed().as_nanos() / self.tick.as_nanos();
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }

    pub(crate) fn tick(&self) -> Duration {
        self.tick
    }
}
