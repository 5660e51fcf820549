//! Relabel throughput: 100 000 realistic series (5–8 labels) through a
//! 10-rule chain mixing drop/keep/replace/labeldrop/hashmod/labelmap, as
//! `prometheus.relabel` runs it per sample. Goal: ≥ 2 M samples/s per core.
//! Results and the command are in `benches/RELABEL.md`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use smelter::components::common::relabel::{
    process_series, Action, Regexp, Rule, Scratch, SortedLabels,
};

const SERIES: usize = 100_000;

fn series() -> Vec<SortedLabels> {
    let names = [
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "process_cpu_seconds_total",
        "go_goroutines",
        "node_cpu_seconds_total",
        "container_memory_working_set_bytes",
    ];
    let jobs = ["node", "api", "web", "batch"];
    let methods = ["GET", "POST", "PUT"];
    let les = ["0.1", "0.5", "1", "5", "+Inf"];
    (0..SERIES)
        .map(|i| {
            let mut pairs: Vec<(String, String)> = vec![
                ("__name__".into(), names[i % names.len()].into()),
                ("job".into(), jobs[(i / 7) % jobs.len()].into()),
                (
                    "instance".into(),
                    format!("10.0.{}.{}:9100", (i / 256) % 256, i % 256),
                ),
                ("namespace".into(), format!("team-{}", i % 13)),
                ("pod".into(), format!("app-{}-{:05x}", i % 17, i)),
            ];
            if i % 2 == 0 {
                pairs.push(("method".into(), methods[i % 3].into()));
            }
            if i % 3 == 0 {
                pairs.push(("le".into(), les[i % 5].into()));
            }
            if i % 5 == 0 {
                pairs.push(("exported_job".into(), format!("legacy-{}", i % 4)));
            }
            if i % 4 == 1 {
                pairs.push(("pod_template_hash".into(), format!("{:08x}", i * 7919)));
            }
            SortedLabels::from_pairs(pairs)
        })
        .collect()
}

fn rule(f: impl FnOnce(&mut Rule)) -> Rule {
    let mut r = Rule::default();
    f(&mut r);
    r.validate().expect("bench rule valid");
    r
}

fn re(p: &str) -> Regexp {
    Regexp::new(p).expect("bench regex")
}

fn src(s: &[&str]) -> Option<Vec<String>> {
    Some(s.iter().map(|s| s.to_string()).collect())
}

fn chain() -> Vec<Rule> {
    vec![
        // 1. drop Go runtime metrics (prefix).
        rule(|r| {
            r.action = Action::Drop;
            r.source_labels = src(&["__name__"]);
            r.regex = re("go_.*");
        }),
        // 2. keep known jobs (alternation).
        rule(|r| {
            r.action = Action::Keep;
            r.source_labels = src(&["job"]);
            r.regex = re("node|api|web");
        }),
        // 3. host from instance (general regex with groups).
        rule(|r| {
            r.source_labels = src(&["instance"]);
            r.regex = re(r"(.+):(\d+)");
            r.target_label = "host".into();
        }),
        // 4. workload from namespace and pod (two sources, joined).
        rule(|r| {
            r.source_labels = src(&["namespace", "pod"]);
            r.regex = re(r"(.*);(app-\d+)-.*");
            r.target_label = "workload".into();
            r.replacement = "$1/$2".into();
        }),
        // 5. drop noisy labels (general regex over names).
        rule(|r| {
            r.action = Action::LabelDrop;
            r.regex = re("(pod_template_hash|uid)");
        }),
        // 6. shard by instance.
        rule(|r| {
            r.action = Action::HashMod;
            r.source_labels = src(&["instance"]);
            r.modulus = 8;
            r.target_label = "__tmp_shard".into();
        }),
        // 7. keep six shards of eight (character class).
        rule(|r| {
            r.action = Action::Keep;
            r.source_labels = src(&["__tmp_shard"]);
            r.regex = re("[0-5]");
        }),
        // 8. un-export labels (labelmap with a group).
        rule(|r| {
            r.action = Action::LabelMap;
            r.regex = re("exported_(.+)");
            r.replacement = "original_$1".into();
        }),
        // 9. static cluster label.
        rule(|r| {
            r.target_label = "cluster".into();
            r.replacement = "eu-west-1".into();
        }),
        // 10. remove the temporary label (literal).
        rule(|r| {
            r.action = Action::LabelDrop;
            r.regex = re("__tmp_shard");
        }),
    ]
}

fn bench(c: &mut Criterion) {
    let input = series();
    let rules = chain();
    let mut g = c.benchmark_group("relabel");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.sample_size(10);

    // The data plane's way: one builder and one scratch per worker, refilled
    // per sample with `clone_from` (no allocation once warm).
    g.bench_function("10_rules_reused_builder", |b| {
        let mut scratch = Scratch::default();
        let mut labels = SortedLabels::new();
        b.iter(|| {
            let mut kept = 0usize;
            for s in &input {
                labels.clone_from(s);
                kept += usize::from(process_series(&rules, &mut labels, &mut scratch));
            }
            kept
        })
    });

    // A fresh label set per sample (allocates the pairs every time).
    g.bench_function("10_rules_fresh_clone", |b| {
        let mut scratch = Scratch::default();
        b.iter_batched_ref(
            || (),
            |()| {
                let mut kept = 0usize;
                for s in &input {
                    let mut labels = s.clone();
                    kept += usize::from(process_series(&rules, &mut labels, &mut scratch));
                }
                kept
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    // Sanity: the chain keeps some and drops some.
    let mut scratch = Scratch::default();
    let kept = input
        .iter()
        .filter(|s| {
            let mut l = (*s).clone();
            process_series(&rules, &mut l, &mut scratch)
        })
        .count();
    eprintln!("chain keeps {kept} of {SERIES} series");

    // The machine is shared: wall-clock figures above include time the
    // thread spent waiting for a core. This one divides by the thread's own
    // CPU time (`/proc/thread-self/schedstat`, first field, in ns).
    let mut labels = SortedLabels::new();
    let rounds = 20;
    let (cpu0, wall0) = (thread_cpu_ns(), std::time::Instant::now());
    let mut kept = 0usize;
    for _ in 0..rounds {
        for s in &input {
            labels.clone_from(s);
            kept += usize::from(process_series(&rules, &mut labels, &mut scratch));
        }
    }
    let (cpu, wall) = (thread_cpu_ns() - cpu0, wall0.elapsed());
    if cpu > 0 {
        let n = (rounds * SERIES) as f64;
        eprintln!(
            "reused builder: {:.2} M samples per CPU-second ({:.0} ns CPU/sample; wall {:.2} M/s; kept {kept})",
            n / (cpu as f64 / 1e9) / 1e6,
            cpu as f64 / n,
            n / wall.as_secs_f64() / 1e6,
        );
    }
}

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

criterion_group!(benches, bench);
criterion_main!(benches);
