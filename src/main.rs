//! The `smelter` binary: everything happens in [`smelter::cli`].

/// mimalloc instead of the system allocator: parsing a large configuration and
/// the data plane's many small, short-lived buffers spend a fifth of their time
/// in glibc's malloc and in returning pages to the kernel; mimalloc keeps
/// freed pages for reuse. Its options are set in [`smelter::cli::memory`].
/// The `system-allocator` feature (heap profiling only) leaves it out.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    smelter::cli::main()
}
