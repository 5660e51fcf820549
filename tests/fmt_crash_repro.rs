//! Replays saved fuzzer inputs through the formatter's idempotence check.
//! `FMT_CRASH_DIR=dir cargo test --test fmt_crash_repro -- --ignored --nocapture`

use smelter::syntax::printer::{format_file, format_source};
use smelter::syntax::{parse_file, SourceFile};

#[test]
#[ignore]
fn replay_crash_dir() {
    let Ok(dir) = std::env::var("FMT_CRASH_DIR") else {
        return;
    };
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut bad = 0;
    for p in paths {
        let input = std::fs::read(&p).unwrap();
        let sf = SourceFile::new("fuzz.alloy", input.clone());
        let Some(ast) = parse_file(&sf).0 else {
            println!("=== {}: does not parse", p.display());
            continue;
        };
        let once = format_file(&ast, &input);
        match format_source("fuzz.alloy", once.as_bytes()) {
            Ok(twice) if twice == once => println!("=== {}: ok", p.display()),
            Ok(twice) => {
                bad += 1;
                println!(
                    "=== {}: not idempotent\n--- input\n{:?}\n--- once\n{:?}\n--- twice\n{:?}",
                    p.display(),
                    String::from_utf8_lossy(&input),
                    once,
                    twice
                );
            }
            Err(e) => {
                bad += 1;
                println!(
                    "=== {}: reparse failed {:?}\n--- input\n{:?}\n--- once\n{:?}",
                    p.display(),
                    e.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                    String::from_utf8_lossy(&input),
                    once
                );
            }
        }
    }
    println!("{bad} bad");
}
