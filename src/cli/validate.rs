//! `smelter validate PATH…`: check configuration files without running them.
//!
//! Reads the files (a directory stands for its top-level `*.alloy` files,
//! sorted), runs the controller's static validator and prints the
//! diagnostics the way `alloy validate` does, followed by any suggestions.

use std::path::PathBuf;

use std::process::ExitCode;

use clap::Args;

use crate::controller::loader::read_sources;
use crate::controller::{check, Options, Stability};
use crate::syntax::diag;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files, or directories whose top-level `*.alloy` files are read.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// The lowest stability level of features allowed.
    #[arg(long = "stability.level", default_value = "generally-available", value_parser = parse_stability)]
    pub stability: Stability,

    /// Allow community components.
    #[arg(long = "feature.community-components.enabled")]
    pub community_components: bool,
}

pub(crate) fn parse_stability(s: &str) -> Result<Stability, String> {
    match s {
        "experimental" => Ok(Stability::Experimental),
        "public-preview" => Ok(Stability::PublicPreview),
        "generally-available" => Ok(Stability::GenerallyAvailable),
        other => Err(format!(
            "unknown stability level {other:?}: use experimental, public-preview or generally-available"
        )),
    }
}

/// Run `smelter validate` from its command-line arguments.
pub fn run_args(args: &ValidateArgs) -> ExitCode {
    let opts = Options {
        min_stability: args.stability,
        community_components: args.community_components,
        ..Options::default()
    };
    match run_with(&args.paths, &opts) {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// Validate `paths` with the default options; returns the exit code:
/// 0 when there is nothing to report, 1 otherwise.
pub fn run(paths: &[PathBuf]) -> i32 {
    run_with(paths, &Options::default())
}

/// [`run`] with explicit options (stability level, registry).
pub fn run_with(paths: &[PathBuf], opts: &Options<'_>) -> i32 {
    let sources = match read_sources(paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}", e.render());
            return 1;
        }
    };
    if sources.is_empty() {
        eprintln!("Error: no .alloy files to validate");
        return 1;
    }
    let result = check(&sources, opts);
    if result.diagnostics.is_empty() {
        return 0;
    }
    let text = diag::render(&result.diagnostics, |name| {
        sources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, src)| src.as_slice())
    });
    eprintln!("{text}");
    for hint in &result.hints {
        if let Some(d) = result.diagnostics.0.get(hint.diagnostic) {
            eprintln!("hint: {}: {}", d.start, hint.message);
        }
    }
    1
}
