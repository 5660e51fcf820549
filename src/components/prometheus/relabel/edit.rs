//! What relabelling did to one label set, kept in `prometheus.relabel`'s
//! cache instead of the resulting label set.
//!
//! Place in the data flow: inside the relabel operator, between a cache hit
//! and the series it forwards. In a scrape pipeline the cache holds one
//! entry per active series (100 k by default), and storing each result as a
//! second label set doubled the memory of the label sets themselves
//! (≈ 26 MB at 100 k series in `smelter bench`'s `steady`, `benches/MEMORY.md`).
//! Most rule sets do the same thing to every series — add or drop a label
//! — so the edit is usually one of a handful, shared by every entry
//! ([`Interner`]); applying it builds the output label set anew for each
//! series forwarded, a copy of ≈ 200 bytes and a hash, against keeping it.

use std::collections::HashSet;
use std::sync::Arc;

use smelter_storage::Labels;

/// One label the rules set (`Some` value) or removed (`None`).
type Change = (Box<str>, Option<Box<str>>);

/// The result of the rules for one input label set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum LabelEdit {
    /// The rules dropped the series.
    Drop,
    /// The changes, sorted by label name; none when the rules kept the
    /// labels as they were.
    Change(Arc<[Change]>),
}

impl LabelEdit {
    /// The edit that turns `input` into `output` (both sorted by name, as
    /// [`Labels`] iterate).
    pub fn between<'a>(
        input: &Labels,
        output: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> LabelEdit {
        let mut changes: Vec<Change> = Vec::new();
        let mut old = input.iter().peekable();
        let mut new = output.into_iter().peekable();
        loop {
            match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some(&(name, _)), None) => {
                    changes.push((name.into(), None));
                    old.next();
                }
                (None, Some(&(name, value))) => {
                    changes.push((name.into(), Some(value.into())));
                    new.next();
                }
                (Some(&(on, ov)), Some(&(nn, nv))) => match on.cmp(nn) {
                    std::cmp::Ordering::Less => {
                        changes.push((on.into(), None));
                        old.next();
                    }
                    std::cmp::Ordering::Greater => {
                        changes.push((nn.into(), Some(nv.into())));
                        new.next();
                    }
                    std::cmp::Ordering::Equal => {
                        if ov != nv {
                            changes.push((nn.into(), Some(nv.into())));
                        }
                        old.next();
                        new.next();
                    }
                },
            }
        }
        LabelEdit::Change(changes.into())
    }

    /// The output label set for `input`, `None` when the series is dropped.
    /// `input` must be the label set the edit was made from (or one with
    /// the same labels).
    pub fn apply(&self, input: &Labels) -> Option<Labels> {
        let changes = match self {
            LabelEdit::Drop => return None,
            LabelEdit::Change(changes) if changes.is_empty() => return Some(input.clone()),
            LabelEdit::Change(changes) => changes,
        };
        // The changes are sorted and unique by construction (`between`);
        // the fallback only guards against an edit that is not.
        let pairs = changes.iter().map(|(n, v)| (&**n, v.as_deref()));
        Some(input.with_changes(pairs).unwrap_or_else(|_| {
            let mut b = smelter_storage::LabelsBuilder::from_labels(input);
            for (name, value) in changes.iter() {
                match value {
                    Some(v) => b.set(&**name, &**v),
                    None => b.remove(name),
                };
            }
            b.build()
        }))
    }

    /// Whether `other` is this very edit (not only an equal one).
    pub fn is(&self, other: &LabelEdit) -> bool {
        match (self, other) {
            (LabelEdit::Drop, LabelEdit::Drop) => true,
            (LabelEdit::Change(a), LabelEdit::Change(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Distinct edits, so that cache entries with the same edit share it.
#[derive(Debug, Default)]
pub(super) struct Interner {
    known: HashSet<Arc<[Change]>>,
}

/// Distinct edits kept for sharing; beyond this (rules that make a
/// different change for every series, e.g. a `hashmod`) an edit is stored
/// on its own.
const MAX_INTERNED: usize = 4096;

impl Interner {
    /// `edit`, or an equal one already in use.
    pub fn intern(&mut self, edit: LabelEdit) -> LabelEdit {
        let LabelEdit::Change(changes) = edit else {
            return edit;
        };
        if let Some(known) = self.known.get(&changes) {
            return LabelEdit::Change(known.clone());
        }
        if self.known.len() < MAX_INTERNED {
            self.known.insert(changes.clone());
        }
        LabelEdit::Change(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    fn round_trip(input: &[(&str, &str)], output: &[(&str, &str)]) {
        let (input, output) = (labels(input), labels(output));
        let edit = LabelEdit::between(&input, output.iter());
        assert_eq!(edit.apply(&input), Some(output.clone()), "{edit:?}");
    }

    #[test]
    fn an_edit_rebuilds_the_output_exactly() {
        let base = [("__name__", "up"), ("instance", "a:9100"), ("job", "node")];
        round_trip(&base, &base);
        round_trip(
            &base,
            &[
                ("__name__", "up"),
                ("instance", "a:9100"),
                ("job", "node"),
                ("pipeline", "bench"),
            ],
        );
        round_trip(
            &base,
            &[
                ("__name__", "up"),
                ("a", "first"),
                ("instance", "a:9100"),
                ("job", "node"),
            ],
        );
        round_trip(&base, &[("__name__", "up"), ("job", "node")]);
        round_trip(
            &base,
            &[("__name__", "up"), ("instance", "b:9100"), ("job", "node")],
        );
        round_trip(&base, &[("zz", "only")]);
        round_trip(&base, &[]);
        round_trip(&[], &[("a", "1"), ("b", "2")]);
    }

    #[test]
    fn unchanged_labels_are_shared_not_copied() {
        let input = labels(&[("__name__", "up")]);
        let edit = LabelEdit::between(&input, input.iter());
        assert_eq!(edit, LabelEdit::Change(Vec::new().into()));
        assert_eq!(edit.apply(&input), Some(input.clone()));
        assert_eq!(LabelEdit::Drop.apply(&input), None);
    }

    #[test]
    fn the_same_change_is_stored_once() {
        let mut interner = Interner::default();
        let add = |i: usize| {
            let input = labels(&[("__name__", "m"), ("i", &i.to_string())]);
            let mut output: Vec<(String, String)> = input
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            output.push(("pipeline".into(), "bench".into()));
            let output = Labels::from_pairs(output);
            LabelEdit::between(&input, output.iter())
        };
        let (LabelEdit::Change(a), LabelEdit::Change(b)) =
            (interner.intern(add(1)), interner.intern(add(2)))
        else {
            panic!("not a change");
        };
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(interner.known.len(), 1);
    }
}
