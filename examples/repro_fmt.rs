fn main() {
    let p = std::env::args().nth(1).unwrap();
    let b = std::fs::read(p).unwrap();
    let once = smelter::syntax::printer::format_source("a", &b);
    println!("{:?}", once);
    if let Ok(o) = once {
        println!(
            "{:?}",
            smelter::syntax::printer::format_source("a", o.as_bytes())
        );
    }
}
