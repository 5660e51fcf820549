//! CPU work of one load split over the cores: the validator's node checks
//! and the runtime's first builds of a 100 k-component configuration each
//! took seconds on one core while the other idled (`benches/CONTROLLER.md`,
//! step 10). Scoped threads rather than a pool: a load runs these a few
//! hundred times at most, and the work needs borrowed state.

/// `f` over `items` in contiguous runs, one thread per run (the calling
/// thread takes the first): as many runs as cores, at most 8, as long as
/// each gets `min_run` items or more. `f` gets a run's offset in `items`
/// and the run; the results come back in the runs' order.
pub(crate) fn in_runs<T, R>(
    items: &[T],
    min_run: usize,
    f: impl Fn(usize, &[T]) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runs = cores.min(8).min(items.len() / min_run.max(1)).max(1);
    if runs == 1 {
        return vec![f(0, items)];
    }
    let len = items.len().div_ceil(runs);
    std::thread::scope(|s| {
        let f = &f;
        let mut parts = items.chunks(len).enumerate();
        let first = parts.next();
        let others: Vec<_> = parts
            .map(|(k, part)| s.spawn(move || f(k * len, part)))
            .collect();
        let mut done = Vec::with_capacity(runs);
        if let Some((_, part)) = first {
            done.push(f(0, part));
        }
        for handle in others {
            match handle.join() {
                Ok(result) => done.push(result),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    })
}

#[cfg(test)]
mod tests {
    use super::in_runs;

    #[test]
    fn runs_cover_the_items_in_order() {
        let items: Vec<u32> = (0..10_000).collect();
        let runs = in_runs(&items, 1_000, |start, run| {
            assert_eq!(run.first().map(|&x| x as usize), Some(start));
            run.to_vec()
        });
        assert_eq!(runs.concat(), items);
        assert_eq!(in_runs(&items[..10], 1_000, |_, run| run.len()), [10]);
        assert_eq!(in_runs::<u32, usize>(&[], 1, |_, run| run.len()), [0]);
    }
}
