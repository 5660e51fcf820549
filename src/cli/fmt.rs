//! `smelter fmt`: read a configuration file (or stdin), run it through the
//! parser and the canonical [printer](crate::syntax::printer), and print the
//! result or write it back. Mirrors `alloy fmt`, including its refusal to
//! `-w` standard input and its habit of leaving an unchanged file untouched.

use std::fs;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::syntax::diag::render;
use crate::syntax::printer::format_source;

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Write the result to the source file instead of stdout.
    #[arg(short, long)]
    pub write: bool,

    /// The file to format; `-` (the default) reads standard input.
    #[arg(default_value = "-")]
    pub path: PathBuf,
}

/// Run `fmt`; errors are reported on stderr and turned into exit code 1.
pub fn run(args: &FmtArgs) -> ExitCode {
    match format(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("Error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn format(args: &FmtArgs) -> Result<(), String> {
    let stdin = args.path.as_os_str() == "-";
    if stdin && args.write {
        return Err("cannot use -w with standard input".into());
    }
    let (name, src) = if stdin {
        let mut src = Vec::new();
        io::stdin()
            .read_to_end(&mut src)
            .map_err(|e| format!("reading standard input: {e}"))?;
        ("<stdin>".to_string(), src)
    } else {
        if args.path.is_dir() {
            return Err("cannot format a directory".into());
        }
        let src = fs::read(&args.path).map_err(|e| format!("{}: {e}", args.path.display()))?;
        (args.path.display().to_string(), src)
    };

    let formatted = match format_source(&name, &src) {
        Ok(text) => text,
        Err(diags) => {
            let pretty = render(&diags, |n| (n == name).then_some(src.as_slice()));
            eprintln!("{pretty}");
            return Err("encountered errors during formatting".into());
        }
    };

    if !args.write {
        let mut out = io::stdout().lock();
        return out
            .write_all(formatted.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing standard output: {e}"));
    }
    if formatted.as_bytes() == src.as_slice() {
        return Ok(());
    }
    fs::write(&args.path, formatted).map_err(|e| format!("{}: {e}", args.path.display()))
}
