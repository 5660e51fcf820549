//! Sources: the bridge from tokio tasks (scrape loops, HTTP receivers, file tailers)
//! into the timely workers.
//!
//! Each source of the graph owns one bounded queue. Producers push batches into it
//! through a [`SourceHandle`]; the source operator of the current dataflow drains it on
//! one worker (the source's *owner*, so the batches of one source enter the dataflow in
//! push order and order per series survives the exchange). A push into an empty queue
//! wakes the operator through a timely `SyncActivator`: no busy polling.
//!
//! The queue outlives dataflows: a rebuild hands it from the old dataflow's operator to
//! the new one's, so a task holding a [`SourceHandle`] keeps pushing across it.
//!
//! Hand-written rather than a tokio/crossbeam channel because the queue needs, under one
//! lock, the items with their acknowledgement slots, the activator of whichever
//! dataflow currently reads it and the generation allowed to read it (the rebuild
//! hand-over), plus both async and blocking producers; with a library channel those
//! would still need a second lock and the wake-up would race with the hand-over.

use super::ack::{AckError, AckHandle, AckSlot};
use crate::control_plane::NodeId;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use timely::scheduling::SyncActivator;

/// Why a push did not enqueue its batch; the batch is handed back.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError<D> {
    /// The queue holds `capacity` batches: the data plane is behind (backpressure).
    /// Only [`SourceHandle::try_push`] returns it; `push` and `push_blocking` wait.
    #[error("the source queue is full")]
    Full(D),
    /// The source was removed from the graph by a rebuild.
    #[error("the source was removed from the data plane")]
    Detached(D),
}

impl<D> PushError<D> {
    /// The batch that was not enqueued.
    pub fn into_inner(self) -> D {
        match self {
            PushError::Full(batch) | PushError::Detached(batch) => batch,
        }
    }
}

/// The dataflow generation allowed to drain a queue, and how to wake its operator.
struct Reader {
    generation: u64,
    activator: Option<SyncActivator>,
}

struct QueueState<D> {
    items: VecDeque<(D, Arc<AckSlot>)>,
    /// Async producers waiting for room.
    waiting: Vec<Waker>,
    reader: Option<Reader>,
    detached: bool,
    /// The longest the queue has been: never above the capacity.
    high_water: usize,
}

/// The bounded queue of one source.
pub(crate) struct SourceQueue<D> {
    id: NodeId,
    capacity: usize,
    state: Mutex<QueueState<D>>,
    room: Condvar,
}

impl<D> SourceQueue<D> {
    pub(crate) fn new(id: NodeId, capacity: usize) -> Self {
        SourceQueue {
            id,
            capacity: capacity.max(1),
            state: Mutex::new(QueueState {
                items: VecDeque::new(),
                waiting: Vec::new(),
                reader: None,
                detached: false,
                high_water: 0,
            }),
            room: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<D>> {
        // Every critical section leaves the state consistent, so a poisoned lock is safe.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the queue to `generation` (or to nobody, while a rebuild drains the old
    /// dataflow). The operator of that generation registers its activator when it runs.
    pub(crate) fn set_reader(&self, generation: Option<u64>) {
        let mut state = self.lock();
        state.reader = generation.map(|generation| Reader {
            generation,
            activator: None,
        });
    }

    /// Removes the source: queued batches are dropped (their acks fail) and later pushes
    /// are refused.
    pub(crate) fn detach(&self) {
        let items = {
            let mut state = self.lock();
            state.detached = true;
            state.reader = None;
            let waiting = std::mem::take(&mut state.waiting);
            waiting.into_iter().for_each(Waker::wake);
            std::mem::take(&mut state.items)
        };
        self.room.notify_all();
        for (_, slot) in items {
            slot.resolve(Err(AckError::SourceRemoved));
        }
    }

    /// Fails the acks of everything still queued (the data plane shut down).
    pub(crate) fn shut_down(&self) {
        let items = {
            let mut state = self.lock();
            state.detached = true;
            state.reader = None;
            std::mem::take(&mut state.items)
        };
        self.room.notify_all();
        for (_, slot) in items {
            slot.resolve(Err(AckError::ShutDown));
        }
    }

    /// Moves up to `max` queued batches into `out` if `generation` is the reader
    /// (`false` if not); registers `activator` as the reader's wake-up on first use.
    pub(crate) fn drain(
        &self,
        generation: u64,
        max: usize,
        out: &mut Vec<(D, Arc<AckSlot>)>,
        activator: impl FnOnce() -> SyncActivator,
    ) -> bool {
        let mut state = self.lock();
        match state.reader.as_mut() {
            Some(reader) if reader.generation == generation => {
                if reader.activator.is_none() {
                    reader.activator = Some(activator());
                }
            }
            _ => return false,
        }
        let was_full = state.items.len() >= self.capacity;
        let take = max.min(state.items.len());
        out.extend(state.items.drain(..take));
        if was_full && take > 0 {
            let waiting = std::mem::take(&mut state.waiting);
            drop(state);
            self.room.notify_all();
            waiting.into_iter().for_each(Waker::wake);
        }
        true
    }

    /// Enqueues `batch` if there is room. `Err(batch)` when full.
    fn try_enqueue(&self, state: &mut QueueState<D>, batch: D) -> Result<AckHandle, PushError<D>> {
        if state.detached {
            return Err(PushError::Detached(batch));
        }
        if state.items.len() >= self.capacity {
            return Err(PushError::Full(batch));
        }
        let (handle, slot) = AckHandle::new();
        let was_empty = state.items.is_empty();
        state.items.push_back((batch, slot));
        state.high_water = state.high_water.max(state.items.len());
        if was_empty {
            if let Some(activator) = state.reader.as_ref().and_then(|r| r.activator.as_ref()) {
                // An error means the worker is gone; the next reader drains the queue.
                let _ = activator.activate();
            }
        }
        Ok(handle)
    }
}

/// A producer's handle on one source: cheap to clone, `Send`, valid across rebuilds.
///
/// Backpressure: the queue holds at most [`SourceHandle::capacity`] batches, and the
/// source stops draining it while `max_in_flight` of its batches are in the dataflow
/// unacknowledged. So when a sink stalls, [`SourceHandle::push`] (async) and
/// [`SourceHandle::push_blocking`] wait, and [`SourceHandle::try_push`] returns
/// [`PushError::Full`]; memory stays bounded by what is in flight.
pub struct SourceHandle<D> {
    queue: Arc<SourceQueue<D>>,
}

impl<D> Clone for SourceHandle<D> {
    fn clone(&self) -> Self {
        SourceHandle {
            queue: Arc::clone(&self.queue),
        }
    }
}

impl<D> std::fmt::Debug for SourceHandle<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceHandle")
            .field("id", &self.queue.id)
            .field("capacity", &self.queue.capacity)
            .finish()
    }
}

impl<D> SourceHandle<D> {
    pub(crate) fn new(queue: Arc<SourceQueue<D>>) -> Self {
        SourceHandle { queue }
    }

    /// The source this handle feeds.
    pub fn id(&self) -> NodeId {
        self.queue.id
    }

    /// How many batches the queue holds at most.
    pub fn capacity(&self) -> usize {
        self.queue.capacity
    }

    /// How many batches wait in the queue now.
    pub fn len(&self) -> usize {
        self.queue.lock().items.len()
    }

    /// Whether the queue is empty now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most batches the queue ever held (never above [`SourceHandle::capacity`]).
    pub fn high_water_mark(&self) -> usize {
        self.queue.lock().high_water
    }

    /// Enqueues `batch` without waiting: [`PushError::Full`] when the queue is full.
    pub fn try_push(&self, batch: D) -> Result<AckHandle, PushError<D>> {
        let mut state = self.queue.lock();
        self.queue.try_enqueue(&mut state, batch)
    }

    /// Enqueues `batch`, blocking the calling thread while the queue is full. For
    /// plain threads; async code uses [`SourceHandle::push`].
    pub fn push_blocking(&self, batch: D) -> Result<AckHandle, PushError<D>> {
        let mut state = self.queue.lock();
        let mut batch = batch;
        loop {
            match self.queue.try_enqueue(&mut state, batch) {
                Err(PushError::Full(back)) => {
                    batch = back;
                    state = self
                        .queue
                        .room
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
                other => return other,
            }
        }
    }

    /// Enqueues `batch`, waiting (asynchronously) while the queue is full. The output is
    /// the batch's [`AckHandle`]; await that too to learn when the batch is durable.
    pub fn push(&self, batch: D) -> Push<D> {
        Push {
            queue: Arc::clone(&self.queue),
            batch: Some(batch),
        }
    }
}

/// The future of [`SourceHandle::push`]: resolves once the batch is queued.
pub struct Push<D> {
    queue: Arc<SourceQueue<D>>,
    batch: Option<D>,
}

// No field is structurally pinned: the batch is moved out by value.
impl<D> Unpin for Push<D> {}

impl<D> Future for Push<D> {
    type Output = Result<AckHandle, PushError<D>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(batch) = this.batch.take() else {
            // Polled after completion: the batch was already handed over.
            return Poll::Pending;
        };
        let mut state = this.queue.lock();
        match this.queue.try_enqueue(&mut state, batch) {
            Err(PushError::Full(back)) => {
                this.batch = Some(back);
                state.waiting.push(cx.waker().clone());
                Poll::Pending
            }
            other => Poll::Ready(other),
        }
    }
}
