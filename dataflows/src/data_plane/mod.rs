//! The data plane: the component graph compiled into a timely dataflow on W workers.
//!
//! It sits between the components' I/O (tokio tasks: scrape loops, HTTP receivers,
//! file tailers) and the sinks that persist batches to the WAL:
//!
//! ```text
//!  tokio task ── SourceHandle::push ─▶ bounded queue ─▶ Source ─▶ Processor(args) ─▶ … ─▶ Sink ─▶ Ack
//!       ▲                                                              ▲                        │
//!       └──────────── AckHandle resolves once the sinks acked ─────────┼── probe ◀──────────────┘
//!                                       DataPlane::update_args ────────┘
//! ```
//!
//! [`DataPlane`] owns the worker threads (started once with `timely::execute`) and the
//! parts that outlive a dataflow: the source queues (so producers keep their
//! [`SourceHandle`]s across a rebuild), the argument cells and the clock. The graph is
//! generic over the record type `D` (the root crate plugs in batches of series) and the
//! processors' argument type `A`.
//!
//! Contracts (DESIGN): epochs of one clock advance every input in step; a sink holds
//! its capability for an epoch until it acknowledges it; a producer learns its batch is
//! durable when the probe after the sinks passes the batch's epoch; arguments change
//! without a rebuild; a rebuild drains the old dataflow before the new one reads the
//! queues (no batch lost or duplicated, order per source kept); memory is bounded by
//! the queue capacity plus the in-flight limit per source.

mod ack;
mod args;
mod clock;
mod dataflow;
mod error;
mod graph;
mod source;
mod worker;

pub use ack::{Ack, AckError, AckHandle};
pub use clock::Epoch;
pub use error::DataPlaneError;
pub use graph::{Graph, HashFn, OperatorFn, Partition, Sink};
pub use source::{Push, PushError, SourceHandle};

use crate::control_plane::NodeId;
use args::ArgsCell;
use clock::{Clock, Inputs};
use dataflow::Generation;
use graph::{Component, Plan};
use source::SourceQueue;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};
use timely::{ExchangeData, WorkerConfig};
use worker::Command;

/// How a data plane runs.
#[derive(Clone, Debug)]
pub struct DataPlaneConfig {
    /// Worker threads.
    pub workers: usize,
    /// Batches each source queue holds before `push` waits.
    pub queue_capacity: usize,
    /// Batches of one source in the dataflow and not yet acknowledged before the source
    /// stops draining its queue.
    pub max_in_flight: usize,
    /// How long dropping the data plane waits for in-flight batches to be acknowledged.
    pub shutdown_timeout: Duration,
}

impl DataPlaneConfig {
    /// Defaults for `workers` workers: 1024 queued and 4096 in-flight batches per
    /// source.
    pub fn new(workers: usize) -> Self {
        DataPlaneConfig {
            workers,
            queue_capacity: 1024,
            max_in_flight: 4096,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// A running data plane. See the module documentation.
pub struct DataPlane<D: ExchangeData + Clone, A: Clone + Send + Sync + 'static> {
    config: DataPlaneConfig,
    clock: Arc<Clock>,
    queues: HashMap<NodeId, Arc<SourceQueue<D>>>,
    args: HashMap<NodeId, Arc<ArgsCell<A>>>,
    current: Arc<Generation<D, A>>,
    commands: Vec<Sender<Command<D, A>>>,
    threads: Arc<Mutex<Vec<Thread>>>,
    guards: Option<timely::communication::initialize::WorkerGuards<()>>,
    builds: u64,
}

impl<D, A> DataPlane<D, A>
where
    D: ExchangeData + Clone,
    A: Clone + Send + Sync + 'static,
{
    /// Compiles `graph` into a dataflow on `workers` worker threads, default settings.
    pub fn build(graph: Graph<D, A>, workers: usize) -> Result<Self, DataPlaneError> {
        Self::with_config(graph, DataPlaneConfig::new(workers))
    }

    /// Compiles `graph` into a dataflow, as `config` says.
    pub fn with_config(
        graph: Graph<D, A>,
        config: DataPlaneConfig,
    ) -> Result<Self, DataPlaneError> {
        if config.workers == 0 {
            return Err(DataPlaneError::NoWorkers);
        }
        let plan = graph.plan()?;
        let workers = config.workers;
        let mut senders = Vec::with_capacity(workers);
        let mut receivers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (sender, receiver) = channel();
            senders.push(sender);
            receivers.push(Some(receiver));
        }
        let receivers = Arc::new(Mutex::new(receivers));
        let threads = Arc::new(Mutex::new(Vec::new()));
        let registered = Arc::clone(&threads);
        let timely_config = timely::Config {
            communication: timely::CommunicationConfig::Process(workers),
            worker: WorkerConfig::default(),
        };
        let guards = timely::execute(timely_config, move |worker| {
            let receiver = receivers
                .lock()
                .ok()
                .and_then(|mut all| all.get_mut(worker.index()).and_then(Option::take));
            let Some(receiver) = receiver else {
                return;
            };
            if let Ok(mut threads) = registered.lock() {
                threads.push(std::thread::current());
            }
            worker::run(worker, receiver);
        })
        .map_err(DataPlaneError::Start)?;
        let clock = Arc::new(Clock::default());
        let placeholder = Arc::new(Generation {
            number: 0,
            graph: Graph::new(),
            plan: Plan::default(),
            queues: HashMap::new(),
            args: HashMap::new(),
            clock: Arc::clone(&clock),
            inputs: Inputs::default(),
            max_in_flight: 0,
            closing: AtomicBool::new(true),
            drained: AtomicUsize::new(workers),
        });
        let mut plane = DataPlane {
            config,
            clock,
            queues: HashMap::new(),
            args: HashMap::new(),
            current: placeholder,
            commands: senders,
            threads,
            guards: Some(guards),
            builds: 0,
        };
        plane.install(graph, plan);
        Ok(plane)
    }

    /// The handle producers push into for source `id`, if the graph has that source.
    /// Handles stay valid across rebuilds that keep the source.
    pub fn source(&self, id: impl Into<NodeId>) -> Option<SourceHandle<D>> {
        self.queues
            .get(&id.into())
            .map(|queue| SourceHandle::new(Arc::clone(queue)))
    }

    /// Replaces processor `id`'s arguments without rebuilding: every batch pushed after
    /// this returns is processed with `args`.
    pub fn update_args(&self, id: impl Into<NodeId>, args: A) -> Result<(), DataPlaneError> {
        let id = id.into();
        let cell = self
            .args
            .get(&id)
            .ok_or(DataPlaneError::UnknownProcessor(id))?;
        cell.set(args, &self.clock);
        // The argument inputs are not scheduled unless woken.
        self.current.inputs.wake();
        Ok(())
    }

    /// Replaces the graph (its edges changed). Blocks until the old dataflow has
    /// drained: every batch it took from a queue has reached its sinks and been
    /// acknowledged, so waiting is bounded by the sinks' acknowledgement latency.
    /// Meanwhile producers keep pushing into the queues (up to their capacity); the new
    /// dataflow takes over from there, so no batch is lost or duplicated and each
    /// source's order is kept. Sources that are gone get detached: their queued batches
    /// are dropped (their acks fail with [`AckError::SourceRemoved`]) and pushes refused.
    /// Processors get the arguments given in `graph`. A refused graph changes nothing.
    pub fn rebuild(&mut self, graph: Graph<D, A>) -> Result<(), DataPlaneError> {
        let plan = graph.plan()?;
        self.close_current();
        self.wait_drained(None);
        self.install(graph, plan);
        Ok(())
    }

    /// How many dataflows were built (1 + the rebuilds).
    pub fn builds(&self) -> u64 {
        self.builds
    }

    /// The worker threads.
    pub fn workers(&self) -> usize {
        self.config.workers
    }

    /// The current epoch of the clock.
    pub fn epoch(&self) -> Epoch {
        self.clock.now()
    }

    /// The settings.
    pub fn config(&self) -> &DataPlaneConfig {
        &self.config
    }

    fn install(&mut self, graph: Graph<D, A>, plan: Plan) {
        let mut queues = HashMap::new();
        let mut args = HashMap::new();
        for (id, component) in &graph.components {
            match component {
                Component::Source => {
                    let queue = self.queues.remove(id).unwrap_or_else(|| {
                        Arc::new(SourceQueue::new(*id, self.config.queue_capacity))
                    });
                    queues.insert(*id, queue);
                }
                Component::Processor { args: initial, .. } => {
                    args.insert(*id, Arc::new(ArgsCell::new(initial.clone())));
                }
                Component::Sink(_) => {}
            }
        }
        for (_, removed) in self.queues.drain() {
            removed.detach();
        }
        self.builds += 1;
        let number = self.builds;
        for queue in queues.values() {
            queue.set_reader(Some(number));
        }
        self.queues = queues.clone();
        self.args = args.clone();
        let generation = Arc::new(Generation {
            number,
            graph,
            plan,
            queues,
            args,
            clock: Arc::clone(&self.clock),
            inputs: Inputs::default(),
            max_in_flight: self.config.max_in_flight.max(1),
            closing: AtomicBool::new(false),
            drained: AtomicUsize::new(0),
        });
        self.current = Arc::clone(&generation);
        for commands in &self.commands {
            // A worker that is gone has panicked; its guard reports it on drop.
            let _ = commands.send(Command::Install(Arc::clone(&generation)));
        }
        self.unpark();
    }

    /// Stops the current dataflow's inputs: the queues have no reader until the next
    /// install, and the inputs drop their capabilities once woken.
    fn close_current(&self) {
        for queue in self.current.queues.values() {
            queue.set_reader(None);
        }
        self.current.closing.store(true, Ordering::Release);
        self.current.inputs.wake();
        self.unpark();
    }

    /// Waits until every worker saw the closed dataflow complete (or `timeout`).
    fn wait_drained(&self, timeout: Option<Duration>) -> bool {
        let start = Instant::now();
        while self.current.drained.load(Ordering::Acquire) < self.config.workers {
            if timeout.is_some_and(|t| start.elapsed() >= t) {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }

    fn unpark(&self) {
        if let Ok(threads) = self.threads.lock() {
            threads.iter().for_each(Thread::unpark);
        }
    }
}

impl<D, A> Drop for DataPlane<D, A>
where
    D: ExchangeData + Clone,
    A: Clone + Send + Sync + 'static,
{
    fn drop(&mut self) {
        self.close_current();
        self.wait_drained(Some(self.config.shutdown_timeout));
        for commands in &self.commands {
            let _ = commands.send(Command::Shutdown);
        }
        self.unpark();
        // Joins the worker threads.
        drop(self.guards.take());
        for queue in self.queues.values() {
            queue.shut_down();
        }
    }
}
