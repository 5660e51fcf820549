//! Deterministic test data shared by the integration tests.

use smelter_storage::{Batch, Labels, Sample, Series};

/// A batch of `series × per_series` samples whose content depends only on
/// `id`, so a reader can check it without having kept a copy.
pub fn batch(id: u64, series: usize, per_series: usize) -> Batch {
    Batch {
        series: (0..series)
            .map(|s| {
                Series::new(
                    Labels::from_pairs([
                        ("__name__", "test_metric".to_string()),
                        ("batch", id.to_string()),
                        ("instance", format!("host-{s}:9100")),
                        ("job", "node".to_string()),
                    ]),
                    (0..per_series)
                        .map(|i| Sample::new((id * 1000 + i as u64) as f64 + 0.5, 1_000 * i as i64))
                        .collect(),
                )
            })
            .collect(),
        metadata: vec![],
    }
}
