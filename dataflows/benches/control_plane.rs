//! Control-plane benchmarks: initial evaluation of large graphs and the latency of a
//! one-block change, with exports derived in the dataflow (iterative scope) and with
//! exports fed by the caller (flat dataflow).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use smelter_dataflows::{Change, ControlPlane, NodeId};
use std::hint::black_box;

type Body = (String, i64);
type Plane = ControlPlane<Body, i64, String>;

const LEN: u32 = 100;

fn evaluate(_: NodeId, body: &Body, deps: &[(NodeId, i64)]) -> Result<i64, String> {
    Ok(body.1 + deps.iter().map(|(_, v)| v).sum::<i64>())
}

fn derived() -> Plane {
    ControlPlane::with_derived_exports(evaluate, |_, args| Some(*args))
}

fn flat() -> Plane {
    ControlPlane::new(evaluate)
}

fn node(chain: u32, i: u32) -> NodeId {
    NodeId(chain * LEN + i)
}

fn upsert(chain: u32, i: u32, c: i64) -> Change<Body, i64> {
    let mut deps = Vec::new();
    if i > 0 {
        deps.push(node(chain, i - 1));
    }
    // Every 20th chain's node 10 also reads the head of chain 0: fan-outs of `chains / 20`.
    if i == 10 && chain % 20 == 1 {
        deps.push(node(0, 0));
    }
    Change::Upsert {
        node: node(chain, i),
        body: ("add".to_string(), c),
        deps,
    }
}

/// `nodes / 100` chains of 100 nodes with fan-outs from the head of chain 0.
fn graph(nodes: u32) -> Vec<Change<Body, i64>> {
    (0..nodes / LEN)
        .flat_map(|chain| (0..LEN).map(move |i| upsert(chain, i, 1)))
        .collect()
}

/// For the flat plane: every node also publishes exports (as running components do).
fn exports(nodes: u32) -> Vec<Change<Body, i64>> {
    (0..nodes)
        .map(|n| Change::Export {
            node: NodeId(n),
            value: Some(1),
        })
        .collect()
}

fn initial(c: &mut Criterion) {
    let mut group = c.benchmark_group("initial");
    group.sample_size(10);
    for nodes in [10_000, 100_000] {
        group.bench_function(format!("derived/{nodes}"), |b| {
            b.iter_batched(
                || (derived(), graph(nodes)),
                |(mut plane, changes)| {
                    let out = plane.apply(changes).expect("valid");
                    assert_eq!(out.len(), nodes as usize);
                    plane
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("flat/{nodes}"), |b| {
            b.iter_batched(
                || {
                    let mut changes = graph(nodes);
                    changes.extend(exports(nodes));
                    (flat(), changes)
                },
                |(mut plane, changes)| {
                    let out = plane.apply(changes).expect("valid");
                    assert_eq!(out.len(), nodes as usize);
                    plane
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn one_block_change(c: &mut Criterion) {
    const NODES: u32 = 100_000;
    let mut group = c.benchmark_group("change_100k");

    // Derived exports: a change at depth `i` re-evaluates the `LEN - i` nodes after it,
    // one iteration round each.
    for (name, i) in [("derived/tail", LEN - 1), ("derived/mid_chain", LEN / 2)] {
        let mut plane = derived();
        plane.apply(graph(NODES)).expect("valid");
        let mut c = 1;
        group.bench_function(name, |b| {
            b.iter(|| {
                c = 3 - c;
                let out = plane.apply([upsert(500, i, c)]).expect("valid");
                black_box(out.len())
            })
        });
    }

    // Flat: exports come from the caller, so one changed block is one evaluation.
    let mut plane = flat();
    let mut changes = graph(NODES);
    changes.extend(exports(NODES));
    plane.apply(changes).expect("valid");
    let mut c = 1;
    group.bench_function("flat/mid_chain", |b| {
        b.iter(|| {
            c = 3 - c;
            let out = plane.apply([upsert(500, LEN / 2, c)]).expect("valid");
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, initial, one_block_change);
criterion_main!(benches);
