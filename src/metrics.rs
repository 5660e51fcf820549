//! The process's own metrics: one global `prometheus-client` registry that
//! any module registers into, exposed by the server's `/metrics`.
//!
//! In the data flow of `DESIGN.md` this is the "`/metrics` the process
//! exposes about itself". Three kinds of metric live here:
//!
//! - **registered once, updated by their owner**: build info, and the config
//!   load metrics in [`ConfigMetrics`], which the code that loads the config
//!   (the controller, at start-up, on SIGHUP and on `/-/reload`) updates with
//!   [`ConfigMetrics::record_load`]. Other modules add their own with
//!   [`register`].
//! - **process metrics** read from `/proc/self` at scrape time by
//!   [`ProcessCollector`].
//! - **per-component counters** (`smelter_component_evaluations_total`,
//!   `smelter_component_updates_total`): the controller already counts these
//!   per node for the UI, so they are not counted twice: the server builds
//!   them at scrape time from the controller's component list
//!   ([`encode_components`]) and appends them to the global registry's output.
//!   A component that disappears on reload thus disappears from `/metrics`.
//!
//! prometheus-client writes OpenMetrics text; [`render`] also gives the
//! Prometheus text format (0.0.4) for scrapers that do not ask for
//! OpenMetrics. Only counter and gauge types are used, so the conversion is
//! a rename of counter families (see `openmetrics_to_prometheus_text`).

use std::fmt::{self, Write as _};
use std::sync::atomic::AtomicU64;
use std::sync::{LazyLock, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

use crate::component::HealthState;
use crate::server::ComponentInfo;

/// Metrics about loading the configuration (Alloy's `alloy_config_*`).
#[derive(Debug, Clone, Default)]
pub struct ConfigMetrics {
    last_load_successful: Gauge,
    last_success_timestamp: Gauge<f64, AtomicU64>,
    load_failures: Counter,
}

impl ConfigMetrics {
    /// Record the outcome of one load (initial or reload).
    pub fn record_load(&self, ok: bool) {
        if ok {
            self.last_load_successful.set(1);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            self.last_success_timestamp.set(now.as_secs_f64());
        } else {
            self.last_load_successful.set(0);
            self.load_failures.inc();
        }
    }
}

static CONFIG: LazyLock<ConfigMetrics> = LazyLock::new(ConfigMetrics::default);

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| {
    let mut r = Registry::default();
    let build: Family<Vec<(String, String)>, Gauge> = Family::default();
    build
        .get_or_create(&vec![
            ("version".into(), env!("CARGO_PKG_VERSION").into()),
            ("arch".into(), std::env::consts::ARCH.into()),
            ("os".into(), std::env::consts::OS.into()),
        ])
        .set(1);
    r.register(
        "smelter_build_info",
        "A metric with a constant '1' value labeled by version, arch and os of the smelter build",
        build,
    );
    let c = &*CONFIG;
    r.register(
        "smelter_config_last_load_successful",
        "Whether the last configuration load succeeded (1) or not (0)",
        c.last_load_successful.clone(),
    );
    r.register(
        "smelter_config_last_load_success_timestamp_seconds",
        "Unix time of the last successful configuration load",
        c.last_success_timestamp.clone(),
    );
    r.register(
        "smelter_config_load_failures",
        "Configuration loads that failed",
        c.load_failures.clone(),
    );
    r.register_collector(Box::new(ProcessCollector));
    RwLock::new(r)
});

/// The config load metrics, registered in the global registry.
pub fn config() -> &'static ConfigMetrics {
    LazyLock::force(&REGISTRY);
    &CONFIG
}

/// Register metrics into the global registry, e.g.
/// `metrics::register(|r| r.register("smelter_x", "help", counter.clone()))`.
pub fn register<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    let mut guard = match REGISTRY.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    f(&mut guard)
}

/// Encode the global registry (without the final `# EOF`).
pub fn encode_global(out: &mut String) -> fmt::Result {
    let guard = match REGISTRY.read() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    prometheus_client::encoding::text::encode_registry(out, &guard)
}

/// Encode the per-component metrics of `components` (without `# EOF`).
pub fn encode_components(out: &mut String, components: &[ComponentInfo]) -> fmt::Result {
    type ById = Family<Vec<(String, String)>, Counter>;
    let evaluations = ById::default();
    let updates = ById::default();
    let running: Family<Vec<(String, String)>, Gauge> = Family::default();
    for state in ["healthy", "unhealthy", "unknown", "exited"] {
        running
            .get_or_create(&vec![("health_type".into(), state.into())])
            .set(0);
    }
    for c in components {
        let id = vec![("component_id".to_string(), c.local_id.clone())];
        evaluations.get_or_create(&id).inc_by(c.evaluations);
        updates.get_or_create(&id).inc_by(c.updates);
        let state = match c.health.state {
            HealthState::Healthy => "healthy",
            HealthState::Unhealthy => "unhealthy",
            HealthState::Unknown => "unknown",
            HealthState::Exited => "exited",
        };
        running
            .get_or_create(&vec![("health_type".into(), state.into())])
            .inc();
    }
    let mut r = Registry::default();
    r.register(
        "smelter_component_evaluations",
        "Times each component's block was evaluated",
        evaluations,
    );
    r.register(
        "smelter_component_updates",
        "Times each running component received new arguments",
        updates,
    );
    r.register(
        "smelter_component_controller_running_components",
        "Components in the running graph, by health",
        running,
    );
    prometheus_client::encoding::text::encode_registry(out, &r)
}

/// The two exposition formats `/metrics` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 text, as prometheus-client writes it.
    OpenMetrics,
    /// The Prometheus text format 0.0.4.
    PrometheusText,
}

/// The whole `/metrics` page: the global registry, then the components.
pub fn render(components: &[ComponentInfo], format: Format) -> Result<String, fmt::Error> {
    let mut out = String::new();
    encode_global(&mut out)?;
    encode_components(&mut out, components)?;
    out.write_str("# EOF\n")?;
    Ok(match format {
        Format::OpenMetrics => out,
        Format::PrometheusText => openmetrics_to_prometheus_text(&out),
    })
}

/// prometheus-client writes only OpenMetrics. The two text formats differ,
/// for the counters and gauges used here, in two ways: an OpenMetrics counter
/// family `x` has samples `x_total`, where the Prometheus format names the
/// family `x_total` itself; and OpenMetrics ends with `# EOF` (and may have
/// `# UNIT` lines). Rewriting those lines is all it takes.
fn openmetrics_to_prometheus_text(om: &str) -> String {
    let counters: std::collections::HashSet<&str> = om
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(om.len() + 16 * counters.len());
    for line in om.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| Some((p, line.strip_prefix(p)?)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(prefix);
                out.push_str(name);
                if counters.contains(name) {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(tail);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// `process_*` metrics of the running process, read from `/proc/self` at
/// scrape time (Linux only; elsewhere it reports nothing).
///
/// Written by hand rather than taken from a crate: prometheus-client has no
/// process collector, the `prometheus` crate's one belongs to a different
/// client library, and `procfs` is a large dependency for reading four
/// numbers out of three small files.
#[derive(Debug)]
pub struct ProcessCollector;

/// What [`ProcessCollector`] reads.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub resident_memory_bytes: u64,
    pub virtual_memory_bytes: u64,
    pub start_time_seconds: f64,
    pub open_fds: u64,
    pub max_fds: Option<u64>,
}

impl ProcessStats {
    /// Read the current process's stats; `None` where `/proc` is missing.
    pub fn read() -> Option<ProcessStats> {
        let stat = ProcStat::read("self")?;
        let ticks = clock_ticks_per_second();
        let page = page_size();
        let boot_time = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("btime "))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
            .unwrap_or(0);
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .map(|d| d.count() as u64)
            .unwrap_or(0);
        let max_fds = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Max open files"))
                    .and_then(|l| l.split_whitespace().nth(3))
                    .and_then(|v| v.parse::<u64>().ok())
            });
        Some(ProcessStats {
            cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
            resident_memory_bytes: stat.rss_pages * page,
            virtual_memory_bytes: stat.vsize,
            start_time_seconds: boot_time as f64 + stat.start_ticks as f64 / ticks,
            open_fds,
            max_fds,
        })
    }
}

/// The fields of `/proc/PID/stat` that the process metrics and the
/// benchmark's process measurement read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProcStat {
    pub ppid: u32,
    /// CPU time in clock ticks ([`clock_ticks_per_second`]).
    pub utime: u64,
    pub stime: u64,
    pub start_ticks: u64,
    pub vsize: u64,
    /// Resident pages ([`page_size`] bytes each).
    pub rss_pages: u64,
}

impl ProcStat {
    /// Reads `/proc/{pid}/stat` (`pid` may be `self`); `None` when the
    /// process is gone or the file is not as expected.
    pub(crate) fn read(pid: &str) -> Option<ProcStat> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name, which is in parentheses and may
        // itself hold spaces or parentheses: split after the last ')'.
        let rest = &stat[stat.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // `rest` starts at field 3 (state), so field n is f[n - 3].
        let field = |n: usize| f.get(n - 3).and_then(|s| s.parse::<u64>().ok());
        Some(ProcStat {
            ppid: u32::try_from(field(4)?).ok()?,
            utime: field(14)?,
            stime: field(15)?,
            start_ticks: field(22)?,
            vsize: field(23)?,
            rss_pages: field(24)?,
        })
    }
}

pub(crate) fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

pub(crate) fn page_size() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let Some(s) = ProcessStats::read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(s.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            None,
            cpu.metric_type(),
        )?)?;
        let gauges: [(&str, &str, f64); 4] = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                s.resident_memory_bytes as f64,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                s.virtual_memory_bytes as f64,
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                s.start_time_seconds,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors.",
                s.open_fds as f64,
            ),
        ];
        for (name, help, value) in gauges {
            let g = ConstGauge::new(value);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
        }
        if let Some(max) = s.max_fds {
            let g = ConstGauge::new(max as f64);
            g.encode(encoder.encode_descriptor(
                "process_max_fds",
                "Maximum number of open file descriptors.",
                None,
                g.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_stats_are_plausible() {
        let s = ProcessStats::read().expect("/proc/self is readable on Linux");
        assert!(s.resident_memory_bytes > 0);
        assert!(s.open_fds > 0);
        assert!(s.start_time_seconds > 1_000_000_000.0);
    }

    #[test]
    fn config_metrics_render() {
        config().record_load(false);
        let om = render(&[], Format::OpenMetrics).expect("encodes");
        assert!(om.contains("# TYPE smelter_config_load_failures counter\n"));
        assert!(om.contains("smelter_config_load_failures_total "));
        assert!(om.contains("smelter_config_last_load_successful 0"));
        assert!(om.contains("smelter_build_info{"));
        assert!(om.ends_with("# EOF\n"));
        let text = render(&[], Format::PrometheusText).expect("encodes");
        assert!(text.contains("# TYPE smelter_config_load_failures_total counter\n"));
        assert!(text.contains("# HELP smelter_config_load_failures_total Configuration"));
        assert!(!text.contains("# EOF"));
    }
}
