//! How `smelter run` asks the allocator and the kernel for memory.
//!
//! Place in the data flow: none — this runs once, before the async runtime,
//! the control plane and the data plane start, and decides how much of what
//! they free stays resident. Every setting here was measured with `smelter
//! bench` (figures and commands in `benches/MEMORY.md`); an operator needs to
//! know none of them. mimalloc's own `MIMALLOC_*` environment variables still
//! win, for experiments: mimalloc reads them at process load, before `main`,
//! so a setting here is applied only where the variable is absent.
//!
//! - **Purge delay 10 ms** (mimalloc v3's default is 1 s, × `arena_purge_mult`):
//!   mimalloc keeps freed pages resident that long before it returns them with
//!   `MADV_DONTNEED`. smelter's working set comes in bursts — a scrape page
//!   and its label sets, a remote-write request, a WAL batch — each freed
//!   within milliseconds, so a one-second delay keeps the previous bursts
//!   resident on top of the current one, and the peak RSS is decided by how
//!   many bursts fall into one second. 0 (purge at once) saved as much memory
//!   but cost more CPU per sample in `ingest` (pages returned and faulted in
//!   again between requests); 10 ms batches the purges.
//! - **No transparent huge pages**: mimalloc (v3) asks for THP on its arenas
//!   (its `allow_thp` option is read at process load, too early for code),
//!   so every first touch of an arena region faults in and zeroes 2 MiB, and
//!   a pipeline that uses a few hundred KiB per thread holds tens of MiB it
//!   never reads (peak RSS 239 MB → 131 MB in `steady`, 61 MB → 16 MB idle).
//!   `PR_SET_THP_DISABLE` is per process, checked at fault time (so it covers
//!   the arena mimalloc reserved before `main`, though not the regions
//!   already touched: the `smelter` binary therefore sets it from a load-time
//!   constructor, `main.rs`, and this sets it again for the benches that link
//!   the library), and inherited by children, which `smelter run` has none
//!   of — `smelter bench` clears it in the processes it starts, whose peers
//!   must keep their own defaults.

/// See the module documentation; figures in `benches/MEMORY.md`.
#[cfg(not(feature = "system-allocator"))]
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// mimalloc's option numbers (`mi_option_t` in mimalloc v3's `mimalloc.h`,
/// the version `libmimalloc-sys` 0.1.49 builds).
#[cfg(not(feature = "system-allocator"))]
mod mi {
    pub const PURGE_DELAY: i32 = 15;

    extern "C" {
        /// Sets an option; read by mimalloc each time it decides to purge.
        pub fn mi_option_set(option: i32, value: std::ffi::c_long);
    }

    /// Sets `option` to `value` unless the environment variable `env` set it.
    pub fn set_unless_env(env: &str, option: i32, value: std::ffi::c_long) {
        if std::env::var_os(env).is_some() {
            return;
        }
        // SAFETY: a plain setter of mimalloc's option table, with an option
        // number of the linked mimalloc version; no pointers are passed.
        unsafe { mi_option_set(option, value) }
    }
}

/// Applies the settings of this module's documentation. Call once, first
/// thing in `smelter run`, before other threads exist.
pub fn configure() {
    #[cfg(not(feature = "system-allocator"))]
    {
        mi::set_unless_env("MIMALLOC_PURGE_DELAY", mi::PURGE_DELAY, PURGE_DELAY_MS);
    }
    disable_transparent_huge_pages();
}

fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and touches no memory
        // of ours.
        let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        if rc != 0 {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                "could not disable transparent huge pages; RSS will be higher"
            );
        }
    }
}
