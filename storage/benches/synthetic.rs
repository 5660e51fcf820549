//! The synthetic scrape page shared by the benchmark and the throughput example.

/// 100 000 series of a histogram-like family, 5 labels each, ~200 bytes a line.
pub fn synthetic_page(series: usize) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::with_capacity(series * 210);
    s.push_str("# HELP http_server_request_duration_seconds Duration of HTTP server requests.\n");
    s.push_str("# TYPE http_server_request_duration_seconds histogram\n");
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
    ];
    let methods = ["GET", "POST", "PUT", "DELETE"];
    for i in 0..series {
        let _ = writeln!(
            s,
            "http_server_request_duration_seconds_bucket{{service=\"checkout-{}\",instance=\"ip-10-1-{}-{}.eu-west-1.compute.internal:8080\",method=\"{}\",route=\"/api/v1/orders/{}/items\",le=\"{}\"}} {} 1700000000{:03}",
            i % 50,
            (i / 256) % 256,
            i % 256,
            methods[i % 4],
            i / 10,
            les[i % 10],
            (i * 7919) % 1_000_000,
            i % 1000,
        );
    }
    s.into_bytes()
}
