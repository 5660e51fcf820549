//! Input bookkeeping: turns the caller's [`Change`]s into differential updates.
//!
//! Differential inputs take `(record, ±1)` updates. The caller thinks in "set this
//! node's body/exports", so this module mirrors the current content of the three
//! inputs and derives the retractions itself. That keeps every input a function of the
//! node (one body, one export value, a set of dependencies), which the evaluation
//! relies on, and it drops no-op changes before they reach the dataflow.

use super::change::Change;
use super::error::ControlPlaneError;
use super::node::NodeId;
use std::collections::HashMap;

/// A node's body with how many dependencies it reads (see `dataflow.rs`), and
/// its multiplicity.
pub(crate) type BlockUpdate<B> = ((NodeId, (B, u32)), isize);

/// Updates for the three differential inputs, produced from one batch of changes.
#[derive(Debug)]
pub(crate) struct Updates<B, V> {
    pub blocks: Vec<BlockUpdate<B>>,
    pub deps: Vec<((NodeId, NodeId), isize)>,
    pub exports: Vec<((NodeId, V), isize)>,
}

impl<B, V> Default for Updates<B, V> {
    fn default() -> Self {
        Updates {
            blocks: Vec::new(),
            deps: Vec::new(),
            exports: Vec::new(),
        }
    }
}

/// The current content of the inputs, as the caller last set it.
#[derive(Debug)]
pub(crate) struct Inputs<B, V> {
    /// Body and sorted, deduplicated dependencies per node.
    blocks: HashMap<NodeId, (B, Vec<NodeId>)>,
    exports: HashMap<NodeId, V>,
}

impl<B, V> Default for Inputs<B, V> {
    fn default() -> Self {
        Inputs {
            blocks: HashMap::new(),
            exports: HashMap::new(),
        }
    }
}

impl<B: Clone + PartialEq, V: Clone + PartialEq> Inputs<B, V> {
    /// Validates the whole batch, then applies it to the mirror and returns the updates.
    /// On error nothing is applied.
    pub(crate) fn apply(
        &mut self,
        changes: Vec<Change<B, V>>,
    ) -> Result<Updates<B, V>, ControlPlaneError> {
        for change in &changes {
            if let Change::Upsert { node, deps, .. } = change {
                if deps.contains(node) {
                    return Err(ControlPlaneError::SelfReference { node: *node });
                }
            }
        }
        let mut updates = Updates::default();
        for change in changes {
            match change {
                Change::Upsert {
                    node,
                    body,
                    mut deps,
                } => {
                    deps.sort_unstable();
                    deps.dedup();
                    self.upsert(node, body, deps, &mut updates);
                }
                Change::Remove { node } => {
                    self.remove_block(node, &mut updates);
                    self.set_export(node, None, &mut updates);
                }
                Change::Export { node, value } => self.set_export(node, value, &mut updates),
            }
        }
        Ok(updates)
    }

    fn upsert(&mut self, node: NodeId, body: B, deps: Vec<NodeId>, updates: &mut Updates<B, V>) {
        match self.blocks.get_mut(&node) {
            Some((old_body, old_deps)) => {
                if *old_body != body || old_deps.len() != deps.len() {
                    updates
                        .blocks
                        .push(((node, (old_body.clone(), count(old_deps))), -1));
                    updates
                        .blocks
                        .push(((node, (body.clone(), count(&deps))), 1));
                    *old_body = body;
                }
                if *old_deps != deps {
                    diff_sorted(old_deps, &deps, |dep, diff| {
                        updates.deps.push(((node, dep), diff));
                    });
                    *old_deps = deps;
                }
            }
            None => {
                updates
                    .blocks
                    .push(((node, (body.clone(), count(&deps))), 1));
                updates
                    .deps
                    .extend(deps.iter().map(|dep| ((node, *dep), 1)));
                self.blocks.insert(node, (body, deps));
            }
        }
    }

    fn remove_block(&mut self, node: NodeId, updates: &mut Updates<B, V>) {
        if let Some((body, deps)) = self.blocks.remove(&node) {
            updates.blocks.push(((node, (body, count(&deps))), -1));
            updates
                .deps
                .extend(deps.into_iter().map(|dep| ((node, dep), -1)));
        }
    }

    fn set_export(&mut self, node: NodeId, value: Option<V>, updates: &mut Updates<B, V>) {
        let old = match value {
            Some(value) => {
                if self.exports.get(&node) == Some(&value) {
                    return;
                }
                updates.exports.push(((node, value.clone()), 1));
                self.exports.insert(node, value)
            }
            None => self.exports.remove(&node),
        };
        if let Some(old) = old {
            updates.exports.push(((node, old), -1));
        }
    }
}

/// How many dependencies a body waits for, as carried with it.
fn count(deps: &[NodeId]) -> u32 {
    u32::try_from(deps.len()).unwrap_or(u32::MAX)
}

/// Calls `emit(x, -1)` for elements only in `old` and `emit(x, 1)` for elements only in
/// `new`; both slices sorted and free of duplicates.
fn diff_sorted(old: &[NodeId], new: &[NodeId], mut emit: impl FnMut(NodeId, isize)) {
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                emit(*a, -1);
                i += 1;
            }
            (Some(_), Some(b)) => {
                emit(*b, 1);
                j += 1;
            }
            (Some(a), None) => {
                emit(*a, -1);
                i += 1;
            }
            (None, Some(b)) => {
                emit(*b, 1);
                j += 1;
            }
            (None, None) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(x: u32) -> NodeId {
        NodeId(x)
    }

    #[test]
    fn diff_of_sorted_sets() {
        let mut out = Vec::new();
        diff_sorted(&[n(1), n(3), n(5)], &[n(2), n(3), n(6)], |x, d| {
            out.push((x.0, d))
        });
        out.sort();
        assert_eq!(out, vec![(1, -1), (2, 1), (5, -1), (6, 1)]);
    }

    #[test]
    fn unchanged_upsert_and_export_are_dropped() {
        let mut inputs: Inputs<u8, i64> = Inputs::default();
        let change = || Change::Upsert {
            node: n(1),
            body: 7,
            deps: vec![n(2), n(2)],
        };
        let first = inputs.apply(vec![change()]).expect("valid");
        assert_eq!(first.blocks.len(), 1);
        assert_eq!(first.deps.len(), 1);
        let again = inputs
            .apply(vec![
                change(),
                Change::Export {
                    node: n(1),
                    value: Some(3),
                },
            ])
            .expect("valid");
        assert!(again.blocks.is_empty() && again.deps.is_empty());
        assert_eq!(again.exports, vec![((n(1), 3), 1)]);
        let removed = inputs
            .apply(vec![Change::Remove { node: n(1) }])
            .expect("valid");
        assert_eq!(removed.blocks, vec![((n(1), (7, 1)), -1)]);
        assert_eq!(removed.deps, vec![((n(1), n(2)), -1)]);
        assert_eq!(removed.exports, vec![((n(1), 3), -1)]);
    }

    #[test]
    fn self_reference_rejects_the_whole_batch() {
        let mut inputs: Inputs<u8, i64> = Inputs::default();
        let err = inputs
            .apply(vec![
                Change::Upsert {
                    node: n(1),
                    body: 1,
                    deps: vec![],
                },
                Change::Upsert {
                    node: n(2),
                    body: 1,
                    deps: vec![n(2)],
                },
            ])
            .expect_err("self reference");
        assert_eq!(err, ControlPlaneError::SelfReference { node: n(2) });
        assert!(inputs.blocks.is_empty());
    }
}
