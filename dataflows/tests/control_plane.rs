//! Behaviour of the control plane on generated graphs: evaluation counts prove minimal
//! recomputation, returned changes prove that only changed arguments are reported.

use smelter_dataflows::{ArgsChange, Change, ControlPlane, ControlPlaneError, NodeId};
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

/// A body: an operation and a constant.
type Body = (String, i64);
type Plane = ControlPlane<Body, i64, String>;

/// `add`: constant plus the sum of the dependencies; `zero`: the constant, plus one if a
/// dependency is negative (reads its inputs, but they are never negative here, so its
/// value never changes with them); `fail`: an evaluation error.
fn evaluate(node: NodeId, body: &Body, deps: &[(NodeId, i64)]) -> Result<i64, String> {
    let (op, c) = body;
    match op.as_str() {
        "add" => Ok(c + deps.iter().map(|(_, v)| v).sum::<i64>()),
        "zero" => Ok(c + i64::from(deps.iter().any(|(_, v)| *v < 0))),
        "fail" => Err(format!("{node}: failed")),
        other => Err(format!("{node}: unknown op {other}")),
    }
}

/// Every node is a pass-through: its exports are its arguments.
fn plane() -> Plane {
    ControlPlane::with_derived_exports(evaluate, |_, args| Some(*args))
}

fn n(x: u32) -> NodeId {
    NodeId(x)
}

fn add(c: i64) -> Body {
    ("add".to_string(), c)
}

const CHAINS: u32 = 100;
const LEN: u32 = 100;
const FAN: u32 = 50;

/// Node `i` of chain `c`.
fn cn(c: u32, i: u32) -> NodeId {
    n(c * LEN + i)
}

/// 100 chains of 100 nodes; the head of chain 0 also feeds node 10 of chains 1..=50.
fn graph() -> Vec<Change<Body, i64>> {
    let mut changes = Vec::new();
    for c in 0..CHAINS {
        for i in 0..LEN {
            let mut deps = Vec::new();
            if i > 0 {
                deps.push(cn(c, i - 1));
            }
            if i == 10 && (1..=FAN).contains(&c) {
                deps.push(cn(0, 0));
            }
            changes.push(Change::Upsert {
                node: cn(c, i),
                body: add(1),
                deps,
            });
        }
    }
    changes
}

fn upsert(node: NodeId, body: Body, deps: Vec<NodeId>) -> Change<Body, i64> {
    Change::Upsert { node, body, deps }
}

/// Applies `changes` and returns the returned changes and the set of evaluated nodes,
/// asserting that no node was evaluated more than once.
fn apply_counted(
    plane: &mut Plane,
    changes: Vec<Change<Body, i64>>,
) -> (Vec<ArgsChange<i64, String>>, BTreeSet<NodeId>) {
    let before = plane.counters().snapshot();
    let out = plane.apply(changes).expect("valid changes");
    let after = plane.counters().snapshot();
    let mut evaluated = BTreeSet::new();
    for (node, count) in after {
        let delta = count - before.get(&node).copied().unwrap_or(0);
        assert!(delta <= 1, "{node} evaluated {delta} times in one apply");
        if delta == 1 {
            evaluated.insert(node);
        }
    }
    (out, evaluated)
}

fn nodes(changes: &[ArgsChange<i64, String>]) -> BTreeSet<NodeId> {
    changes.iter().map(|c| c.node).collect()
}

fn loaded() -> Plane {
    let mut plane = plane();
    let start = Instant::now();
    let (out, evaluated) = apply_counted(&mut plane, graph());
    eprintln!(
        "initial evaluation of {} nodes: {:?}",
        CHAINS * LEN,
        start.elapsed()
    );
    assert_eq!(evaluated.len(), (CHAINS * LEN) as usize);
    assert_eq!(out.len(), (CHAINS * LEN) as usize);
    assert!(out.iter().all(|c| c.old.is_none() && c.new.is_some()));
    plane
}

#[test]
fn initial_apply_evaluates_every_node_once() {
    let plane = loaded();
    assert_eq!(plane.counters().total(), u64::from(CHAINS * LEN));
    assert_eq!(plane.args(cn(0, 99)), Some(&Ok(100)));
    // chain 1: 1..=10 up to node 9, node 10 adds the head of chain 0 (1): 12, then +1.
    assert_eq!(plane.args(cn(1, 10)), Some(&Ok(12)));
    assert_eq!(plane.args(cn(1, 99)), Some(&Ok(101)));
    assert_eq!(plane.args(cn(99, 99)), Some(&Ok(100)));
}

#[test]
fn block_change_reevaluates_exactly_the_transitive_dependants() {
    let mut plane = loaded();

    let (out, evaluated) =
        apply_counted(&mut plane, vec![upsert(cn(5, 50), add(2), vec![cn(5, 49)])]);
    let expected: BTreeSet<_> = (50..LEN).map(|i| cn(5, i)).collect();
    assert_eq!(evaluated, expected);
    assert_eq!(nodes(&out), expected);
    for change in &out {
        let old = change.old.clone().expect("had args").expect("ok");
        let new = change.new.clone().expect("has args").expect("ok");
        assert_eq!(new, old + 1);
    }

    // The head of chain 0 feeds its chain and node 10 onwards of 50 chains.
    let (out, evaluated) = apply_counted(&mut plane, vec![upsert(cn(0, 0), add(2), vec![])]);
    let mut expected: BTreeSet<_> = (0..LEN).map(|i| cn(0, i)).collect();
    for c in 1..=FAN {
        expected.extend((10..LEN).map(|i| cn(c, i)));
    }
    assert_eq!(expected.len(), 100 + 50 * 90);
    assert_eq!(evaluated, expected);
    assert_eq!(nodes(&out), expected);
    assert_eq!(plane.args(cn(5, 99)), Some(&Ok(103)));
}

#[test]
fn unchanged_args_stop_propagation() {
    let mut plane = loaded();

    // `zero` yields the same value as `add` did (31): the node is evaluated, nothing
    // is reported and no dependant is evaluated.
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![upsert(
            cn(77, 30),
            ("zero".to_string(), 31),
            vec![cn(77, 29)],
        )],
    );
    assert_eq!(evaluated, BTreeSet::from([cn(77, 30)]));
    assert!(out.is_empty(), "{out:?}");

    // Upstream change: evaluation stops at the `zero` node.
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![upsert(cn(77, 20), add(5), vec![cn(77, 19)])],
    );
    assert_eq!(evaluated, (20..=30).map(|i| cn(77, i)).collect());
    assert_eq!(nodes(&out), (20..30).map(|i| cn(77, i)).collect());

    // The same body again is no change at all.
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![upsert(cn(77, 20), add(5), vec![cn(77, 19)])],
    );
    assert!(out.is_empty() && evaluated.is_empty());
}

#[test]
fn dependency_change_reevaluates_the_node() {
    let mut plane = loaded();
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![upsert(cn(63, 98), add(1), vec![cn(63, 97), cn(64, 0)])],
    );
    assert_eq!(evaluated, BTreeSet::from([cn(63, 98), cn(63, 99)]));
    assert_eq!(nodes(&out), BTreeSet::from([cn(63, 98), cn(63, 99)]));
    assert_eq!(plane.args(cn(63, 98)), Some(&Ok(100)));
}

#[test]
fn removing_a_node_retracts_its_args() {
    let mut plane = loaded();

    let (out, evaluated) = apply_counted(&mut plane, vec![Change::Remove { node: cn(62, 99) }]);
    assert!(evaluated.is_empty());
    assert_eq!(
        out,
        vec![ArgsChange {
            node: cn(62, 99),
            old: Some(Ok(100)),
            new: None
        }]
    );
    assert_eq!(plane.args(cn(62, 99)), None);

    // Removing a node in the middle leaves its dependants without exports to read:
    // their arguments are retracted too, without evaluating them.
    let (out, evaluated) = apply_counted(&mut plane, vec![Change::Remove { node: cn(62, 90) }]);
    assert!(evaluated.is_empty());
    assert_eq!(nodes(&out), (90..99).map(|i| cn(62, i)).collect());
    assert!(out.iter().all(|c| c.old.is_some() && c.new.is_none()));

    // Putting it back evaluates the dependants again.
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![upsert(cn(62, 90), add(1), vec![cn(62, 89)])],
    );
    assert_eq!(evaluated, (90..99).map(|i| cn(62, i)).collect());
    assert_eq!(nodes(&out), evaluated);
}

/// Nodes 1 and 6 are "running components" publishing their exports from outside; the
/// others are pass-throughs.
fn external_plane() -> Plane {
    ControlPlane::with_derived_exports(evaluate, |node, args| {
        (node != n(1) && node != n(6)).then_some(*args)
    })
}

#[test]
fn external_export_change_reevaluates_only_its_dependants() {
    let mut plane = external_plane();
    // 1 ◀─ 2 ◀─ 4,  1 ◀─ 3,  5 alone, 6 alone.
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![
            upsert(n(1), add(1), vec![]),
            upsert(n(2), add(0), vec![n(1)]),
            upsert(n(3), add(0), vec![n(1)]),
            upsert(n(4), add(0), vec![n(2)]),
            upsert(n(5), add(0), vec![]),
            upsert(n(6), add(0), vec![]),
        ],
    );
    // Dependants of 1 wait for its exports.
    assert_eq!(evaluated, BTreeSet::from([n(1), n(5), n(6)]));
    assert_eq!(nodes(&out), evaluated);

    let export = |node, value| Change::Export {
        node,
        value: Some(value),
    };
    let (out, evaluated) = apply_counted(&mut plane, vec![export(n(1), 10), export(n(6), 3)]);
    assert_eq!(evaluated, BTreeSet::from([n(2), n(3), n(4)]));
    assert_eq!(nodes(&out), evaluated);
    assert_eq!(plane.args(n(4)), Some(&Ok(10)));

    let (out, evaluated) = apply_counted(&mut plane, vec![export(n(1), 20)]);
    assert_eq!(evaluated, BTreeSet::from([n(2), n(3), n(4)]));
    assert_eq!(nodes(&out), evaluated);
    assert_eq!(plane.args(n(4)), Some(&Ok(20)));

    // The same value again: nothing to do.
    let (out, evaluated) = apply_counted(&mut plane, vec![export(n(1), 20)]);
    assert!(out.is_empty() && evaluated.is_empty());

    // Clearing the exports retracts the dependants' arguments.
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![Change::Export {
            node: n(1),
            value: None,
        }],
    );
    assert!(evaluated.is_empty());
    assert_eq!(nodes(&out), BTreeSet::from([n(2), n(3), n(4)]));
    assert!(out.iter().all(|c| c.new.is_none()));
}

#[test]
fn evaluation_errors_are_arguments_too() {
    let mut plane = external_plane();
    let (out, _) = apply_counted(
        &mut plane,
        vec![
            upsert(n(2), ("fail".to_string(), 0), vec![]),
            upsert(n(3), add(0), vec![n(2)]),
        ],
    );
    // A failed node derives no exports: its dependant waits.
    assert_eq!(
        out,
        vec![ArgsChange {
            node: n(2),
            old: None,
            new: Some(Err("node#2: failed".to_string()))
        }]
    );
    let (out, evaluated) = apply_counted(&mut plane, vec![upsert(n(2), add(4), vec![])]);
    assert_eq!(evaluated, BTreeSet::from([n(2), n(3)]));
    assert_eq!(nodes(&out), evaluated);
    assert_eq!(plane.args(n(3)), Some(&Ok(4)));
}

#[test]
fn flat_plane_without_derived_exports() {
    let mut plane: Plane = ControlPlane::new(evaluate);
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![
            upsert(n(1), add(1), vec![]),
            upsert(n(2), add(1), vec![n(1)]),
        ],
    );
    assert_eq!(evaluated, BTreeSet::from([n(1)]));
    assert_eq!(nodes(&out), evaluated);
    // The caller feeds the exports back: a round trip per level.
    let (_, evaluated) = apply_counted(
        &mut plane,
        vec![Change::Export {
            node: n(1),
            value: Some(1),
        }],
    );
    assert_eq!(evaluated, BTreeSet::from([n(2)]));
    assert_eq!(plane.args(n(2)), Some(&Ok(2)));
}

#[test]
fn long_pass_through_chain_settles_in_one_apply() {
    const DEPTH: u32 = 10_000;
    let mut plane = plane();
    let changes = (0..DEPTH)
        .map(|i| upsert(n(i), add(1), if i == 0 { vec![] } else { vec![n(i - 1)] }))
        .collect();
    let start = Instant::now();
    let (out, evaluated) = apply_counted(&mut plane, changes);
    eprintln!("chain of {DEPTH} pass-through nodes: {:?}", start.elapsed());
    assert_eq!(evaluated.len(), DEPTH as usize);
    assert_eq!(out.len(), DEPTH as usize);
    assert_eq!(plane.args(n(DEPTH - 1)), Some(&Ok(i64::from(DEPTH))));

    let start = Instant::now();
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![upsert(n(DEPTH - 100), add(2), vec![n(DEPTH - 101)])],
    );
    eprintln!("change near the end of the chain: {:?}", start.elapsed());
    assert_eq!(evaluated, (DEPTH - 100..DEPTH).map(n).collect());
    assert_eq!(out.len(), 100);
}

#[test]
fn self_reference_is_refused() {
    let mut plane = plane();
    let err = plane
        .apply(vec![upsert(n(1), add(1), vec![n(1)])])
        .expect_err("self reference");
    assert_eq!(err, ControlPlaneError::SelfReference { node: n(1) });
    assert_eq!(err.to_string(), "self reference: node#1");
    assert_eq!(plane.counters().total(), 0);
    let _unused: HashMap<NodeId, u64> = plane.counters().snapshot();
}

#[test]
fn changes_at_different_depths_evaluate_a_shared_dependant_once() {
    let mut plane = loaded();
    // Node 10 of chain 1 reads the head of chain 0 (depth 0) and node 9 of chain 1
    // (depth 9): changing both in one batch evaluates it, and what follows, once.
    let (out, evaluated) = apply_counted(
        &mut plane,
        vec![
            upsert(cn(0, 0), add(2), vec![]),
            upsert(cn(1, 9), add(2), vec![cn(1, 8)]),
        ],
    );
    let mut expected: BTreeSet<_> = (0..LEN).map(|i| cn(0, i)).collect();
    for c in 1..=FAN {
        expected.extend((10..LEN).map(|i| cn(c, i)));
    }
    expected.insert(cn(1, 9));
    assert_eq!(evaluated, expected);
    assert_eq!(nodes(&out), expected);
    // 1 + 11 (node 9: 2 + 9) + 2 (head of chain 0) = 14, before: 12.
    assert_eq!(plane.args(cn(1, 10)), Some(&Ok(14)));
}
