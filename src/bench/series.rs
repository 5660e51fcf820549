//! The synthetic series of the benchmark: label sets shaped like what real
//! exporters expose, rendered as exposition lines for the scrape targets and
//! as [`Labels`] for the ingest clients.
//!
//! Place in the data flow: [`super::targets`] renders a page from these on
//! every scrape; [`super::ingest`] pushes the same shapes by remote write.
//! Both sides are deterministic functions of (target, slot, generation), so a
//! run is reproducible and every series of a page is distinct.
//!
//! Four families, taken in turn by slot: kube-state-metrics, cAdvisor,
//! node_exporter and a classic histogram's buckets; 3–5 labels each and
//! about 200 bytes per line, the size that dominates real scrape pages.

use std::fmt::Write as _;

use smelter_storage::Labels;

/// Bucket bounds of the classic histogram family.
const BUCKETS: [&str; 8] = ["0.005", "0.01", "0.05", "0.1", "0.25", "1", "5", "+Inf"];

/// Names the receiver treats as the collector's own report series rather
/// than the benchmark's (`up`, `scrape_*`): they are not counted as produced.
pub fn is_collector_series(name: &str) -> bool {
    name == "up" || name.starts_with("scrape_")
}

/// A stable pseudo-random 64-bit value, for ids that look random but repeat
/// from run to run (splitmix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The labels of one series: `slot` picks the family and the position in
/// it; `generation` changes the identifying label when churn replaces the
/// series. `target` keeps ingest clients' series apart (scrape targets are
/// told apart by their `instance` label instead).
pub fn labels(target: u32, slot: u32, generation: u32) -> Vec<(&'static str, String)> {
    let k = slot / 4;
    let h = mix(u64::from(target) << 40 ^ u64::from(slot) << 8 ^ u64::from(generation));
    let ns = format!("team-{:02}-production", k % 23);
    match slot % 4 {
        0 => vec![
            ("__name__", "kube_pod_container_status_restarts_total".into()),
            ("namespace", ns),
            (
                "pod",
                format!("checkout-api-{:010x}-{:05x}-g{generation}-t{target}", h >> 24, k),
            ),
            ("container", format!("checkout-api-sidecar-{:x}", h & 0xff)),
            (
                "uid",
                format!(
                    "{:08x}-{:04x}-{:04x}-{:012x}",
                    h >> 32,
                    (h >> 16) & 0xffff,
                    h & 0xffff,
                    mix(h) >> 16
                ),
            ),
        ],
        1 => vec![
            ("__name__", "container_memory_working_set_bytes".into()),
            (
                "id",
                format!(
                    "/kubepods.slice/kubepods-burstable.slice/pod{:016x}.slice/cri-{:x}-{k}-g{generation}-t{target}",
                    h,
                    mix(h)
                ),
            ),
            ("image", format!("registry.internal:5000/payments/ledger:v1.{}.{}", k % 40, h % 9)),
            ("namespace", ns),
        ],
        2 => vec![
            ("__name__", "node_network_receive_bytes_total".into()),
            ("device", format!("veth{:08x}{k}g{generation}t{target}", h >> 32)),
            ("node_role", "worker-general-purpose-compute-pool".into()),
            ("topology_zone", format!("europe-west4-{}", ["a", "b", "c"][(h % 3) as usize])),
        ],
        _ => vec![
            ("__name__", "http_server_request_duration_seconds_bucket".into()),
            (
                "handler",
                format!("/api/v2/accounts/{{account_id}}/ledger/entries/{}/g{generation}t{target}", k / 8),
            ),
            ("method", ["GET", "POST", "PUT", "DELETE"][(h % 4) as usize].into()),
            ("code", ["200", "201", "404", "500"][((h >> 2) % 4) as usize].into()),
            ("le", BUCKETS[(k % 8) as usize].into()),
        ],
    }
}

/// The [`Labels`] of one series, for remote-write pushes.
pub fn series_labels(target: u32, slot: u32, generation: u32) -> Labels {
    Labels::from_pairs(labels(target, slot, generation))
}

/// A value that changes on every scrape and only grows, like a counter.
pub fn value(slot: u32, scrape: u64) -> f64 {
    scrape as f64 * f64::from(slot % 7 + 1) + f64::from(slot % 1000) / 1000.0
}

/// Which generation of a slot is live after `churned` replacements spread
/// round-robin over `slots` slots.
pub fn generation(slot: u32, slots: u32, churned: u64) -> u32 {
    let slots = u64::from(slots.max(1));
    let full = churned / slots;
    let extra = u64::from(u64::from(slot) < churned % slots);
    u32::try_from(full + extra).unwrap_or(u32::MAX)
}

/// Appends one exposition line (`name{labels} value\n`) to `out`.
pub fn write_line(out: &mut String, labels: &[(&'static str, String)], value: f64) {
    let mut first = true;
    for (name, v) in labels {
        if *name == "__name__" {
            out.push_str(v);
            out.push('{');
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        // The generated values hold no quote, backslash or newline.
        let _ = write!(out, "{name}=\"{v}\"");
    }
    let _ = writeln!(out, "}} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_about_200_bytes_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        let mut total = 0;
        for slot in 0..400 {
            let mut line = String::new();
            write_line(&mut line, &labels(3, slot, 0), value(slot, 1));
            total += line.len();
            assert!(seen.insert(line));
        }
        let mean = total / 400;
        assert!((150..=260).contains(&mean), "mean line length {mean}");
    }

    #[test]
    fn churn_advances_generations_round_robin() {
        assert_eq!(generation(0, 4, 0), 0);
        assert_eq!(generation(0, 4, 1), 1);
        assert_eq!(generation(1, 4, 1), 0);
        assert_eq!(generation(3, 4, 9), 2);
        assert_eq!(generation(0, 4, 9), 3);
    }
}
