//! CPU time for benchmarks on a shared machine, where wall clock includes
//! the time a thread waits for a core.

/// The calling thread's CPU time in ns (`/proc/thread-self/schedstat`,
/// first field).
pub fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Millions of `n` per CPU-second of `cpu_ns`.
pub fn m_per_cpu_s(n: usize, cpu_ns: u64) -> f64 {
    n as f64 / (cpu_ns.max(1) as f64 / 1e9) / 1e6
}
