//! `smelter fmt` as a user runs it: the built binary on a file with `-w`, on
//! standard input, and on a file that does not parse.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const UNFORMATTED: &str = "a = 1\nlonger_name = [1,2,\n3]\nblock \"x\" {}\n";
const FORMATTED: &str = "a           = 1\nlonger_name = [1, 2,\n\t3]\n\nblock \"x\" { }\n";

fn smelter() -> Command {
    Command::new(env!("CARGO_BIN_EXE_smelter"))
}

fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smelter-cli-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn fmt_write_rewrites_the_file_in_place() {
    let path = temp_file("write.alloy", UNFORMATTED);
    let out = smelter().args(["fmt", "-w"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FORMATTED);

    // Without -w the file is printed and left alone.
    let path = temp_file("print.alloy", UNFORMATTED);
    let out = smelter().arg("fmt").arg(&path).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), FORMATTED);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), UNFORMATTED);
}

#[test]
fn fmt_reads_standard_input() {
    let mut child = smelter()
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(UNFORMATTED.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), FORMATTED);
}

#[test]
fn fmt_reports_parse_errors_and_fails() {
    let path = temp_file("broken.alloy", "a = ]\nb = 2\n");
    let out = smelter().arg("fmt").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let header = format!("{}:1:5: ", path.display());
    assert!(stderr.contains(&header), "{stderr}");
    assert!(stderr.contains("1 | a = ]"), "{stderr}");
}
