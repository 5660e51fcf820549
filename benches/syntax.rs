//! Parse (and format) throughput of the Alloy syntax, in bytes per second:
//! on the real configurations of the corpus and on a generated 100 000-block
//! configuration. Run: `cargo bench --bench syntax`.

/// The same allocator as the `smelter` binary, so figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fmt::Write as _;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smelter::controller::arguments::evaluate_body;
use smelter::syntax::ast::Stmt;
use smelter::syntax::{parse_file, printer, EvalContext, Scope, SourceFile};

/// Every `full` config of `../shared/alloy-corpus`, concatenated with blank
/// lines (each is a valid body, so the whole is one valid file).
fn corpus_text() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/alloy-corpus/configs");
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("corpus INDEX.tsv");
    let mut out = String::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.get(2) == Some(&"full") {
            out.push_str(&std::fs::read_to_string(dir.join(cols[0])).expect("corpus file"));
            out.push_str("\n\n");
        }
    }
    out
}

/// `n` components shaped like a scrape pipeline: literals, arrays, objects,
/// references and stdlib calls.
pub fn generated_config(n: usize) -> String {
    let mut s = String::with_capacity(n * 260);
    for i in 0..n {
        let _ = write!(
            s,
            "prometheus.scrape \"job_{i}\" {{\n\
             \ttargets         = [{{\"__address__\" = \"10.0.{}.{}:9100\", job = \"node\"}}]\n\
             \tforward_to      = [\"relabel_{i}\"]\n\
             \tscrape_interval = \"15s\"\n\
             \tparams          = {{ \"collect[]\" = [\"cpu\", \"meminfo\"] }}\n\
             \tsample_limit    = 1000 * {} + 5\n\
             \tjob_name        = string.format(\"job-%d\", {i})\n\
             }}\n\n",
            i / 256 % 256,
            i % 256,
            i % 7,
        );
    }
    s
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("syntax");
    for (name, text) in [
        ("corpus", corpus_text()),
        ("generated_100k_blocks", generated_config(100_000)),
    ] {
        let file = SourceFile::new(name, text.clone().into_bytes());
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.sample_size(10);
        group.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| {
                let (ast, diags) = parse_file(&file);
                assert!(diags.is_empty());
                ast
            })
        });
        let (ast, _) = parse_file(&file);
        let ast = ast.expect("benchmark input parses");
        if name.starts_with("generated") {
            group.bench_function(format!("parse_and_evaluate/{name}"), |b| {
                b.iter(|| {
                    let (ast, _) = parse_file(&file);
                    let ast = ast.expect("parses");
                    let scope = Scope::new();
                    let ctx = EvalContext::new(&file, &scope);
                    let mut evaluated = 0usize;
                    for stmt in &ast.body {
                        if let Stmt::Block(block) = stmt {
                            evaluate_body(&ctx, &block.body).expect("evaluates");
                            evaluated += 1;
                        }
                    }
                    evaluated
                })
            });
        }
        group.bench_function(format!("format/{name}"), |b| {
            b.iter(|| printer::format_file(&ast, text.as_bytes()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
