//! Data-plane tests: exactly-once delivery and order per key, acknowledgement through
//! progress, argument updates without rebuild, rebuild under load, backpressure.

use smelter_dataflows::data_plane::{Ack, DataPlaneConfig, Epoch, Sink};
use smelter_dataflows::{AckHandle, DataPlane, Graph, PushError};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

/// (key, sequence number)
type Rec = (u64, u64);

/// Records as the sink saw them: (worker, epoch, record), in arrival order.
type Seen<D> = Arc<Mutex<Vec<(usize, Epoch, D)>>>;

fn collector<D: Send + 'static>(
    seen: &Seen<D>,
) -> impl Fn(usize, Epoch, D) + Send + Sync + 'static {
    let seen = Arc::clone(seen);
    move |worker, epoch, record| seen.lock().unwrap().push((worker, epoch, record))
}

fn wait(ack: &AckHandle) -> Epoch {
    ack.wait_timeout(LIMIT)
        .expect("acknowledged in time")
        .expect("acknowledged, not dropped")
}

/// A minimal executor: the producers here are async like tokio tasks, without tokio.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park_timeout(Duration::from_millis(10));
    }
}

fn key_hash(record: &Rec) -> u64 {
    record.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn exactly_once_in_order(workers: usize) {
    const N: u64 = 3000;
    const KEYS: u64 = 7;
    let seen: Seen<Rec> = Seen::default();
    let mut graph: Graph<Rec, u64> = Graph::new();
    graph
        .source(1)
        .processor(2, 0, |offset: &u64, (key, seq): Rec| {
            Some((key, seq + offset))
        })
        .sink(3, collector(&seen))
        .edge_by(1, 2, key_hash)
        .edge_by(2, 3, key_hash);
    let plane = DataPlane::build(graph, workers).expect("valid graph");
    let handle = plane.source(1).expect("source 1");
    // Half the records from an async producer, half from a blocking one, one after the
    // other (one source keeps its push order).
    let producer = thread::spawn(move || {
        let mut last = None;
        for seq in 0..N / 2 {
            last = Some(block_on(handle.push((seq % KEYS, seq))).expect("pushed"));
        }
        for seq in N / 2..N {
            last = Some(handle.push_blocking((seq % KEYS, seq)).expect("pushed"));
        }
        last.expect("pushed at least one")
    });
    let last = producer.join().expect("producer");
    let epoch = wait(&last);
    // Nothing more arrives later.
    thread::sleep(Duration::from_millis(30));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len() as u64, N, "every record exactly once");
    let seqs: BTreeSet<u64> = seen.iter().map(|(_, _, (_, seq))| *seq).collect();
    assert_eq!(seqs.len() as u64, N);
    assert_eq!(seqs.iter().next_back().copied(), Some(N - 1));
    assert!(seen.iter().all(|(_, e, _)| *e <= epoch));
    let mut by_key: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut worker_of_key: BTreeMap<u64, BTreeSet<usize>> = BTreeMap::new();
    for (worker, _, (key, seq)) in &seen {
        by_key.entry(*key).or_default().push(*seq);
        worker_of_key.entry(*key).or_default().insert(*worker);
    }
    for (key, seqs) in &by_key {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "order of key {key} kept"
        );
    }
    assert!(
        worker_of_key.values().all(|w| w.len() == 1),
        "one worker per key"
    );
    let used: BTreeSet<usize> = worker_of_key.values().flatten().copied().collect();
    assert_eq!(used.len(), workers, "work spread over every worker");
}

#[test]
fn exactly_once_in_order_one_worker() {
    exactly_once_in_order(1);
}

#[test]
fn exactly_once_in_order_two_workers() {
    exactly_once_in_order(2);
}

/// A sink that acknowledges each epoch `delay` after it is complete, recording when.
struct SlowSink {
    delay: Duration,
    acked_at: Arc<Mutex<Vec<(Epoch, Instant)>>>,
}

impl Sink<Rec> for SlowSink {
    fn write(&self, _: usize, _: Epoch, _: Rec) {}

    fn flush(&self, _: usize, epoch: Epoch, ack: Ack) {
        let delay = self.delay;
        let acked_at = Arc::clone(&self.acked_at);
        thread::spawn(move || {
            thread::sleep(delay);
            acked_at.lock().unwrap().push((epoch, Instant::now()));
            ack.ack();
        });
    }
}

#[test]
fn acknowledgement_waits_for_the_sink() {
    let acked_at = Arc::new(Mutex::new(Vec::new()));
    let mut graph: Graph<Rec, ()> = Graph::new();
    graph
        .source(1)
        .sink_with(
            2,
            SlowSink {
                delay: Duration::from_millis(200),
                acked_at: Arc::clone(&acked_at),
            },
        )
        .edge(1, 2);
    let plane = DataPlane::build(graph, 2).expect("valid graph");
    let handle = plane.source(1).expect("source 1");
    let start = Instant::now();
    let ack = handle.try_push((1, 1)).expect("room");
    assert!(
        ack.wait_timeout(Duration::from_millis(100)).is_none(),
        "not acked before the sink"
    );
    assert!(!ack.is_acked());
    let epoch = block_on(ack).expect("acknowledged");
    let resolved = Instant::now();
    assert!(resolved - start >= Duration::from_millis(200));
    let acked_at = acked_at.lock().unwrap().clone();
    let (sink_epoch, sink_acked) = acked_at
        .iter()
        .find(|(e, _)| *e == epoch)
        .copied()
        .expect("the sink acknowledged the batch's epoch");
    assert_eq!(sink_epoch, epoch);
    assert!(
        sink_acked <= resolved,
        "the producer learns after the sink acked"
    );
}

#[test]
fn update_args_without_rebuild() {
    let seen: Seen<Rec> = Seen::default();
    let mut graph: Graph<Rec, u64> = Graph::new();
    graph
        .source(1)
        .processor(2, 1, |factor: &u64, (key, value): Rec| {
            vec![(key, value * factor)]
        })
        .sink(3, collector(&seen))
        .edge(1, 2)
        .edge(2, 3);
    let plane = DataPlane::build(graph, 2).expect("valid graph");
    let handle = plane.source(1).expect("source 1");
    for round in 0..3u64 {
        let factor = 10u64.pow(round as u32);
        if round > 0 {
            plane.update_args(2, factor).expect("processor 2");
        }
        let acks: Vec<AckHandle> = (0..20)
            .map(|i| handle.push_blocking((round, i + 1)).expect("pushed"))
            .collect();
        acks.iter().for_each(|ack| {
            wait(ack);
        });
        let seen = seen.lock().unwrap();
        let values: BTreeSet<u64> = seen
            .iter()
            .filter(|(_, _, (r, _))| *r == round)
            .map(|(_, _, (_, v))| *v)
            .collect();
        let expected: BTreeSet<u64> = (1..=20).map(|i| i * factor).collect();
        assert_eq!(values, expected, "round {round} used factor {factor}");
    }
    assert_eq!(plane.builds(), 1, "no rebuild for new arguments");
    assert!(plane.update_args(3, 1).is_err(), "3 is a sink");
}

#[test]
fn rebuild_under_load_loses_and_duplicates_nothing() {
    const N: u64 = 4000;
    let first: Seen<Rec> = Seen::default();
    let second: Seen<Rec> = Seen::default();
    let mut graph: Graph<Rec, ()> = Graph::new();
    graph.source(1).sink(10, collector(&first)).edge(1, 10);
    let mut plane = DataPlane::build(graph, 2).expect("valid graph");
    let handle = plane.source(1).expect("source 1");
    let producer = thread::spawn(move || {
        let mut last = None;
        for seq in 0..N {
            last = Some(handle.push_blocking((seq % 5, seq)).expect("pushed"));
            if seq % 64 == 0 {
                thread::sleep(Duration::from_millis(1));
            }
        }
        last.expect("pushed")
    });
    let start = Instant::now();
    while first.lock().unwrap().len() < 200 {
        assert!(start.elapsed() < LIMIT, "first sink receives");
        thread::sleep(Duration::from_millis(1));
    }
    let mut graph: Graph<Rec, ()> = Graph::new();
    graph.source(1).sink(11, collector(&second)).edge(1, 11);
    plane.rebuild(graph).expect("valid graph");
    assert_eq!(plane.builds(), 2);
    let last = producer.join().expect("producer");
    wait(&last);
    thread::sleep(Duration::from_millis(30));
    let first: Vec<u64> = first
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, (_, s))| *s)
        .collect();
    let second: Vec<u64> = second
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, (_, s))| *s)
        .collect();
    assert!(!second.is_empty(), "the rebuild happened while pushing");
    assert_eq!(
        first.len() + second.len(),
        N as usize,
        "none lost, none duplicated"
    );
    let all: BTreeSet<u64> = first.iter().chain(second.iter()).copied().collect();
    assert_eq!(all, (0..N).collect::<BTreeSet<u64>>());
    // The old dataflow drained before the new one read the queue.
    assert!(first.iter().max() < second.iter().min());
}

#[test]
fn rejected_graphs_keep_the_plane_running() {
    let seen: Seen<Rec> = Seen::default();
    let mut graph: Graph<Rec, ()> = Graph::new();
    graph.source(1).sink(2, collector(&seen)).edge(1, 2);
    let mut plane = DataPlane::build(graph, 1).expect("valid graph");
    let mut cyclic: Graph<Rec, ()> = Graph::new();
    cyclic
        .source(1)
        .processor(2, (), |_, r| Some(r))
        .processor(3, (), |_, r| Some(r))
        .edge(1, 2)
        .edge(2, 3)
        .edge(3, 2);
    assert!(plane.rebuild(cyclic).is_err());
    let mut dangling: Graph<Rec, ()> = Graph::new();
    dangling.source(1).edge(1, 9);
    assert!(plane.rebuild(dangling).is_err());
    assert_eq!(plane.builds(), 1);
    let handle = plane.source(1).expect("source 1");
    wait(&handle.push_blocking((0, 0)).expect("pushed"));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

/// A sink that holds every epoch unacknowledged until released.
#[derive(Clone, Default)]
struct StalledSink {
    held: Arc<Mutex<Vec<Ack>>>,
    released: Arc<AtomicBool>,
}

impl StalledSink {
    fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
        for ack in self.held.lock().unwrap().drain(..) {
            ack.ack();
        }
    }
}

impl Sink<Rec> for StalledSink {
    fn write(&self, _: usize, _: Epoch, _: Rec) {}

    fn flush(&self, _: usize, _: Epoch, ack: Ack) {
        let mut held = self.held.lock().unwrap();
        if self.released.load(Ordering::SeqCst) {
            ack.ack();
        } else {
            held.push(ack);
        }
    }
}

#[test]
fn a_stalled_sink_applies_backpressure() {
    const CAPACITY: usize = 8;
    const IN_FLIGHT: usize = 16;
    let sink = StalledSink::default();
    let mut graph: Graph<Rec, ()> = Graph::new();
    graph.source(1).sink_with(2, sink.clone()).edge(1, 2);
    let mut config = DataPlaneConfig::new(2);
    config.queue_capacity = CAPACITY;
    config.max_in_flight = IN_FLIGHT;
    let plane = DataPlane::with_config(graph, config).expect("valid graph");
    let handle = plane.source(1).expect("source 1");
    let mut accepted = Vec::new();
    let mut refused = 0;
    for _ in 0..10 {
        loop {
            match handle.try_push((0, accepted.len() as u64)) {
                Ok(ack) => accepted.push(ack),
                Err(PushError::Full(_)) => {
                    refused += 1;
                    break;
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
            assert!(accepted.len() <= CAPACITY + IN_FLIGHT, "memory bounded");
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(refused, 10);
    assert_eq!(
        accepted.len(),
        CAPACITY + IN_FLIGHT,
        "queue and in-flight window full"
    );
    assert!(handle.high_water_mark() <= CAPACITY);
    assert!(accepted.iter().all(|ack| !ack.is_acked()));
    // A blocking producer waits while the sink stalls...
    let blocked = {
        let handle = handle.clone();
        thread::spawn(move || handle.push_blocking((1, 0)).expect("pushed"))
    };
    thread::sleep(Duration::from_millis(50));
    assert!(!blocked.is_finished(), "push waits while the sink stalls");
    // ...and everything goes through once it acknowledges.
    sink.release();
    let late = blocked.join().expect("producer");
    for ack in accepted.iter().chain(std::iter::once(&late)) {
        wait(ack);
    }
    assert!(handle.high_water_mark() <= CAPACITY);
}

#[test]
fn a_removed_source_refuses_pushes_and_a_kept_one_keeps_its_handle() {
    let seen: Seen<Rec> = Seen::default();
    let mut graph: Graph<Rec, ()> = Graph::new();
    graph
        .source(1)
        .source(2)
        .sink(3, collector(&seen))
        .edge(1, 3)
        .edge(2, 3);
    let mut plane = DataPlane::build(graph, 2).expect("valid graph");
    let kept = plane.source(1).expect("source 1");
    let removed = plane.source(2).expect("source 2");
    wait(&kept.push_blocking((1, 0)).expect("pushed"));
    wait(&removed.push_blocking((2, 0)).expect("pushed"));
    let mut graph: Graph<Rec, ()> = Graph::new();
    graph.source(1).sink(3, collector(&seen)).edge(1, 3);
    plane.rebuild(graph).expect("valid graph");
    assert!(matches!(
        removed.try_push((2, 1)),
        Err(PushError::Detached(_))
    ));
    assert!(plane.source(2).is_none());
    wait(&kept.push_blocking((1, 1)).expect("pushed"));
    assert_eq!(seen.lock().unwrap().len(), 3);
}
