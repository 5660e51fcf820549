//! The component-graph controller end to end: the real [`Runtime`] loading
//! a generated configuration of `discovery.relabel` chains and a fan, and
//! reloading it with one block changed.
//!
//! A plain bench binary (`harness = false`, no criterion): one 100 k load
//! takes seconds and allocates a few hundred MB, so criterion's warm-up and
//! sample counts (≥ 10 samples) would take minutes per figure; instead each
//! figure is repeated a few times and reported as min / median / max of the
//! wall clock, with the process CPU time beside it (the machine is shared, so
//! CPU time is the steadier figure). Results and the command:
//! `benches/CONTROLLER.md`.
//!
//! Figures:
//! - `load N`: `reload()` start → every component built and every chain's
//!   last hop built with the exports of the hop before it (so the exports have
//!   propagated to the ends of the chains).
//! - `plan 100k`: read + parse + validate + plan of the 100 k file, on its own
//!   (the part of a reload done before the control plane sees anything).
//! - `reload 1 block`: in the settled 100 k graph, change one hop of one chain;
//!   `reload()` alone, and `reload()` start → the changed block's dependant has
//!   its new arguments.
//!
//! Environment: `CTL_BENCH_SIZES` (default `10000,100000`), `CTL_BENCH_LAYOUTS`
//! (`file`: one file, `dir`: a directory of one file per chain; default
//! `file,dir`), `CTL_BENCH_REPS`
//! (loads per size, default 3), `CTL_BENCH_RELOADS` (default 10).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use smelter::controller::incremental::{LoadCache, Reload};
use smelter::controller::loader::{plan, read_sources};
use smelter::controller::runtime::{Runtime, RuntimeConfig};
use smelter::controller::{check, Options, Stability};

// As in the `smelter` binary (and, as there, not with the feature that
// leaves the allocator to heap profilers).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hops per chain; the changed hop in a reload is `CHANGED_HOP`.
const CHAIN_LEN: usize = 100;
const CHANGED_HOP: usize = 50;
/// Readers of the fan's root.
const FAN: usize = 999;

/// The shape of a generated configuration of `total` components:
/// `chains` chains of `CHAIN_LEN` relabels + one root + `FAN` readers.
#[derive(Clone, Copy)]
struct Shape {
    chains: usize,
}

impl Shape {
    fn for_total(total: usize) -> Shape {
        assert!(total > FAN + 1 + CHAIN_LEN, "at least one chain");
        Shape {
            chains: (total - FAN - 1) / CHAIN_LEN,
        }
    }

    fn total(self) -> usize {
        self.chains * CHAIN_LEN + 1 + FAN
    }

    /// The configuration text; `changed` maps a chain to the replacement of
    /// its hop `CHANGED_HOP`.
    fn config(self, changed: &HashMap<usize, String>) -> String {
        let mut s = String::with_capacity(self.total() * 130);
        for c in 0..self.chains {
            s.push_str(&self.chain(c, changed));
        }
        s.push_str(&self.fan());
        s
    }

    /// The file name of chain `c` in the directory layout.
    fn chain_file(c: usize) -> String {
        format!("chain{c:05}.alloy")
    }

    /// The directory layout: one file per chain, one for the root and fan
    /// (as an operator splits a big configuration), as (name, text).
    fn files(self, changed: &HashMap<usize, String>) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = (0..self.chains)
            .map(|c| (Self::chain_file(c), self.chain(c, changed)))
            .collect();
        files.push(("fan.alloy".into(), self.fan()));
        files
    }

    /// The blocks of chain `c`.
    fn chain(self, c: usize, changed: &HashMap<usize, String>) -> String {
        let mut s = String::with_capacity(CHAIN_LEN * 130);
        {
            for i in 0..CHAIN_LEN {
                let targets = if i == 0 {
                    format!("[{{\"__address__\" = \"host-{c}:9100\", chain = \"{c}\"}}]")
                } else {
                    format!("discovery.relabel.c{c}_{}.output", i - 1)
                };
                let replacement = match changed.get(&c) {
                    Some(text) if i == CHANGED_HOP => text.clone(),
                    _ => i.to_string(),
                };
                let _ = write!(
                    s,
                    "discovery.relabel \"c{c}_{i}\" {{\n\ttargets = {targets}\n\n\trule {{\n\t\ttarget_label = \"hop\"\n\t\treplacement  = \"{replacement}\"\n\t}}\n}}\n\n"
                );
            }
        }
        s
    }

    /// The root and its fan readers.
    fn fan(self) -> String {
        let mut s = String::with_capacity((FAN + 1) * 130);
        let _ = write!(
            s,
            "discovery.relabel \"root\" {{\n\ttargets = [{{\"__address__\" = \"root:9100\"}}]\n}}\n\n"
        );
        for f in 0..FAN {
            let _ = write!(
                s,
                "discovery.relabel \"fan{f}\" {{\n\ttargets = discovery.relabel.root.output\n\n\trule {{\n\t\ttarget_label = \"fan\"\n\t\treplacement  = \"{f}\"\n\t}}\n}}\n\n"
            );
        }
        s
    }
}

/// Process CPU time (user + system, every thread).
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// `VmRSS` and `VmHWM` (peak) of this process, in MB.
fn rss_mb() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or_else(|| "?".to_string(), |kb| format!("{}", kb / 1024))
    };
    format!("RSS {} MB, peak {} MB", field("VmRSS:"), field("VmHWM:"))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Wall and CPU time of one run of something.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
}

/// `f()`, and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Sample) {
    let (t0, c0) = (Instant::now(), cpu_time());
    let out = f();
    let sample = Sample {
        wall: t0.elapsed(),
        cpu: cpu_time() - c0,
    };
    (out, sample)
}

fn report(what: &str, samples: &mut [Sample]) {
    samples.sort_by_key(|s| s.wall);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let n = samples.len();
    if n == 0 {
        // `CTL_BENCH_RELOADS=0`: only the loads were measured.
        println!("{what:<40} (not run)");
        return;
    }
    let mut cpus: Vec<Duration> = samples.iter().map(|s| s.cpu).collect();
    cpus.sort();
    println!(
        "{what:<40} wall min {:>9.2} ms  median {:>9.2} ms  max {:>9.2} ms | cpu median {:>9.2} ms  (n={n})",
        ms(samples[0].wall),
        ms(samples[n / 2].wall),
        ms(samples[n - 1].wall),
        ms(cpus[n / 2]),
    );
}

/// How the configuration is laid out on disk.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// One file.
    File,
    /// A directory of one file per chain plus one for the fan.
    Dir,
}

struct Bench {
    dir: tempfile::TempDir,
    layout: Layout,
}

impl Bench {
    fn config_path(&self) -> PathBuf {
        match self.layout {
            Layout::File => self.dir.path().join("config.alloy"),
            Layout::Dir => self.dir.path().join("config.d"),
        }
    }

    /// Write the configuration with `changed`; in the directory layout only
    /// the files of `only` (all when `None`).
    fn write(&self, shape: Shape, changed: &HashMap<usize, String>, only: Option<usize>) {
        match self.layout {
            Layout::File => {
                std::fs::write(self.config_path(), shape.config(changed)).expect("write config")
            }
            Layout::Dir => {
                let dir = self.config_path();
                std::fs::create_dir_all(&dir).expect("config dir");
                match only {
                    Some(c) => {
                        std::fs::write(dir.join(Shape::chain_file(c)), shape.chain(c, changed))
                            .expect("write config")
                    }
                    None => {
                        for (name, text) in shape.files(changed) {
                            std::fs::write(dir.join(name), text).expect("write config");
                        }
                    }
                }
            }
        }
    }

    fn start(&self) -> Runtime {
        Runtime::start(
            RuntimeConfig {
                config_path: self.config_path(),
                storage_path: self.dir.path().join("data"),
                stability: Stability::GenerallyAvailable,
                http_listen_addr: None,
            },
            tokio::runtime::Handle::current(),
        )
        .expect("runtime starts")
    }
}

/// Poll the cheap progress counter until `target` updates were applied.
async fn wait_updates(rt: &Runtime, target: u64, what: &str) {
    let shared = rt.shared();
    let deadline = Instant::now() + Duration::from_secs(600);
    while shared.total_updates() < target {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn check_chain_end(rt: &Runtime, chain: usize, hop: &str) {
    let id = format!("discovery.relabel.c{chain}_{}", CHAIN_LEN - 1);
    let end = rt.shared().component(&id).expect("chain end exists");
    let exports = end.exports.to_string();
    assert!(
        exports.contains(&format!("\"chain\" = \"{chain}\"")) && exports.contains(hop),
        "{id}: {exports}"
    );
    assert_eq!(end.updates, 1, "{id} updated once");
}

/// One first load of `shape`; returns the runtime, settled.
async fn load(bench: &Bench, shape: Shape) -> (Runtime, Sample, Duration) {
    let rt = bench.start();
    let (t0, c0) = (Instant::now(), cpu_time());
    rt.reload().await.expect("first load");
    let reload = t0.elapsed();
    wait_updates(&rt, shape.total() as u64, "every component to be built").await;
    let sample = Sample {
        wall: t0.elapsed(),
        cpu: cpu_time() - c0,
    };
    check_chain_end(&rt, shape.chains - 1, "\"hop\" = \"99\"");
    (rt, sample, reload)
}

async fn shutdown(rt: Runtime) -> Duration {
    let t0 = Instant::now();
    rt.shutdown().await;
    t0.elapsed()
}

fn plan_breakdown(path: &Path, reps: usize) {
    let paths = [path.to_path_buf()];
    let opts = Options::default();
    let mut read = Vec::new();
    let mut checked = Vec::new();
    let mut planned = Vec::new();
    for _ in 0..reps {
        let (t0, c0) = (Instant::now(), cpu_time());
        let sources = read_sources(&paths).expect("read");
        read.push(Sample {
            wall: t0.elapsed(),
            cpu: cpu_time() - c0,
        });
        let (t0, c0) = (Instant::now(), cpu_time());
        let v = check(&sources, &opts);
        assert!(!v.diagnostics.has_errors());
        checked.push(Sample {
            wall: t0.elapsed(),
            cpu: cpu_time() - c0,
        });
        drop(v);
        let (t0, c0) = (Instant::now(), cpu_time());
        let p = plan(sources, &opts).expect("plan");
        planned.push(Sample {
            wall: t0.elapsed(),
            cpu: cpu_time() - c0,
        });
        drop(p);
    }
    report("  read file", &mut read);
    report("  parse + validate (check)", &mut checked);
    report("  plan (check + planning)", &mut planned);
}

/// The loader's side of a one-block reload on its own: read the files and
/// plan them against the cache of the previous load (a patch).
fn patch_breakdown(bench: &Bench, shape: Shape, reps: usize) {
    let paths = [bench.config_path()];
    let opts = Options::default();
    let mut cache = LoadCache::default();
    let full = cache.plan(read_sources(&paths).expect("read"), &opts);
    assert!(matches!(full, Ok(Reload::Full(_))));
    let (mut read, mut planned) = (Vec::new(), Vec::new());
    let mut changes = HashMap::new();
    for i in 0..reps.max(3) {
        let chain = (i * 7919) % shape.chains;
        changes.insert(chain, format!("p{i}-changed"));
        bench.write(shape, &changes, Some(chain));
        let (t0, c0) = (Instant::now(), cpu_time());
        let sources = read_sources(&paths).expect("read");
        read.push(Sample {
            wall: t0.elapsed(),
            cpu: cpu_time() - c0,
        });
        let (reload, sample) = timed(|| cache.plan(sources, &opts).expect("plan"));
        planned.push(sample);
        assert!(
            matches!(&reload, Reload::Patch(p) if p.nodes.len() == 1),
            "a one-block patch"
        );
    }
    report("  1-block reload: read", &mut read);
    report("  1-block reload: plan (patch)", &mut planned);
    // The runtime's way: files whose stamp shows them unchanged are not read
    // (those written less than `stamp::SETTLE` before a read are, until a
    // read finds them settled).
    let mut cache = LoadCache::default();
    let full = cache.read_and_plan(&paths, &opts);
    assert!(matches!(full, Ok(Reload::Full(_))));
    let mut stamped = Vec::new();
    for i in 0..reps.max(3) {
        let chain = (i * 7919 + 1) % shape.chains;
        changes.insert(chain, format!("s{i}-changed"));
        bench.write(shape, &changes, Some(chain));
        let (reload, sample) = timed(|| cache.read_and_plan(&paths, &opts).expect("plan"));
        stamped.push(sample);
        assert!(
            matches!(&reload, Reload::Patch(p) if p.nodes.len() == 1),
            "a one-block patch"
        );
    }
    report("  1-block reload: read_and_plan (stamps)", &mut stamped);
    // Back to the unchanged configuration.
    for chain in changes.keys() {
        bench.write(shape, &HashMap::new(), Some(*chain));
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Loads and one-block reloads of `size` components laid out as `layout`.
async fn run(size: usize, layout: Layout, reps: usize, reloads: usize) {
    let shape = Shape::for_total(size);
    let total = shape.total();
    let bench = Bench {
        dir: tempfile::tempdir().expect("tempdir"),
        layout,
    };
    bench.write(shape, &HashMap::new(), None);
    let (name, files) = match layout {
        Layout::File => ("one file", 1),
        Layout::Dir => ("a directory", shape.chains + 1),
    };
    println!(
        "== {total} components ({} chains × {CHAIN_LEN} + root + {FAN} fan), {} KB of config in {name} ({files} files)",
        shape.chains,
        shape.config(&HashMap::new()).len() / 1024
    );
    plan_breakdown(&bench.config_path(), reps);
    patch_breakdown(&bench, shape, reps);

    let mut loads = Vec::new();
    let mut reload_calls = Vec::new();
    let mut last = None;
    for r in 0..reps {
        let (rt, sample, reload) = load(&bench, shape).await;
        loads.push(sample);
        reload_calls.push(Sample {
            wall: reload,
            cpu: Duration::ZERO,
        });
        if r + 1 == reps {
            last = Some(rt);
        } else {
            let stop = shutdown(rt).await;
            println!(
                "  (shutdown of {total} components: {:.0} ms)",
                stop.as_secs_f64() * 1e3
            );
        }
    }
    report(
        &format!("load {total}: reload() returns"),
        &mut reload_calls,
    );
    report(&format!("load {total}: every component built"), &mut loads);
    println!("  after the load: {}", rss_mb());

    // One-block reloads in the settled graph.
    let rt = last.expect("a runtime");
    let shared = rt.shared();
    let mut calls = Vec::new();
    let mut propagated = Vec::new();
    // Earlier changes stay, so each reload changes exactly one block.
    let mut changes = HashMap::new();
    for i in 0..reloads {
        // 7919 is prime: distinct chains for i < chains.
        let chain = (i * 7919) % shape.chains;
        // Longer than the hop number it replaces: the blocks after it move.
        let changed = format!("x{i}-changed");
        changes.insert(chain, changed.clone());
        bench.write(shape, &changes, Some(chain));
        // Let the previous change settle completely.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = shared.total_updates();
        let (t0, c0) = (Instant::now(), cpu_time());
        rt.reload().await.expect("reload");
        calls.push(Sample {
            wall: t0.elapsed(),
            cpu: cpu_time() - c0,
        });
        // The changed hop and its successor are updated.
        wait_updates(&rt, before + 2, "the dependant to update").await;
        propagated.push(Sample {
            wall: t0.elapsed(),
            cpu: cpu_time() - c0,
        });
        let id = format!("discovery.relabel.c{chain}_{}", CHANGED_HOP + 1);
        let next = shared.component(&id).expect("dependant");
        assert!(
            next.arguments
                .to_string()
                .contains(&format!("\"{changed}\"")),
            "{id} has its new arguments ({} updates; total {} → {}): {}",
            next.updates,
            before,
            shared.total_updates(),
            next.arguments
        );
    }
    report("reload 1 block: reload() returns", &mut calls);
    report("reload 1 block: dependant updated", &mut propagated);
    println!(
        "  after {reloads} reloads: {}; block bodies held {} for {total} nodes",
        rss_mb(),
        shared.retained_bodies()
    );
    let stop = shutdown(rt).await;
    println!(
        "  (shutdown of {total} components: {:.0} ms)",
        stop.as_secs_f64() * 1e3
    );
}

fn main() {
    // The process settings `smelter run` applies first (mimalloc's purge
    // delay, no transparent huge pages): the runtime measured here is the
    // one `smelter run` runs.
    smelter::cli::memory::configure();
    // `cargo bench` passes `--bench`; a test run (`cargo test --benches`)
    // does not: then only check that the bench works on a small graph.
    let benching = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = if benching {
        std::env::var("CTL_BENCH_SIZES")
            .unwrap_or_else(|_| "10000,100000".into())
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    } else {
        vec![2_000]
    };
    let layouts: Vec<Layout> = std::env::var("CTL_BENCH_LAYOUTS")
        .unwrap_or_else(|_| "file,dir".into())
        .split(',')
        .filter_map(|l| match l.trim() {
            "file" => Some(Layout::File),
            "dir" => Some(Layout::Dir),
            _ => None,
        })
        .collect();
    let reps = if benching {
        env_usize("CTL_BENCH_REPS", 3)
    } else {
        1
    };
    let reloads = if benching {
        env_usize("CTL_BENCH_RELOADS", 10)
    } else {
        2
    };

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    println!("load average before: {}", loadavg());
    tokio.block_on(async {
        for &size in &sizes {
            for &layout in &layouts {
                run(size, layout, reps, reloads).await;
            }
        }
    });
    println!("load average after: {}", loadavg());
}
