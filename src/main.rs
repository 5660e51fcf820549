//! The `smelter` binary: everything happens in [`smelter::cli`].

fn main() -> std::process::ExitCode {
    smelter::cli::main()
}
