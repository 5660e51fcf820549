//! The `smelter` binary: everything happens in [`smelter::cli`].

/// mimalloc instead of the system allocator: parsing a large configuration and
/// the data plane's many small, short-lived buffers spend a fifth of their time
/// in glibc's malloc and in returning pages to the kernel; mimalloc keeps
/// freed pages for reuse. Its options are set in [`smelter::cli::memory`].
/// The `system-allocator` feature (heap profiling only) leaves it out.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off from the first instruction, before the Rust
/// runtime's first allocation: mimalloc reserves its arena at load and the
/// first regions it touches before `main` would otherwise be faulted in as
/// 2 MiB pages and stay so (6 MB of `AnonHugePages` in `steady`, peak RSS
/// 86.2 → 81.3 MB once they are gone: `benches/MEMORY.md`, "session 11").
/// [`smelter::cli::memory::configure`] sets the same flag again (for the
/// benches that link the library) and says why; `smelter bench` clears it
/// in the processes it starts. A constructor in `.init_array` by hand, as
/// the `ctor` crate would emit it, for one `prctl` call.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static THP_OFF_AT_LOAD: extern "C" fn() = thp_off_at_load;

#[cfg(target_os = "linux")]
extern "C" fn thp_off_at_load() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and touches no
    // memory of ours; a failure is reported by `memory::configure` later.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> std::process::ExitCode {
    smelter::cli::main()
}
