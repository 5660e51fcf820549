//! `prometheus.scrape` as a data-plane source, driven by the runtime against
//! Debian's `prometheus-node-exporter`: scrape → `prometheus.relabel`
//! (dropping `go_.*`) → `prometheus.echo`. One scrape delivers exactly the
//! page's non-`go_` sample lines plus the 5 report series.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use smelter::components::prometheus::echo;
use smelter::components::prometheus::scrape::Arguments;
use smelter::controller::runtime::{Runtime, RuntimeConfig};
use smelter::controller::Stability;

const LIMIT: Duration = Duration::from_secs(20);
/// `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
/// `scrape_samples_post_metric_relabeling`, `scrape_series_added`.
const REPORT_SERIES: u64 = 5;

/// Kills the child process when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Sample lines of a text or OpenMetrics page whose metric is not `go_*`.
fn non_go_samples(page: &str) -> u64 {
    page.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("go_"))
        .count() as u64
}

async fn get_page(addr: SocketAddr, accept: &str) -> String {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let req = hyper::Request::get(format!("http://{addr}/metrics"))
        .header("Accept", accept)
        .body(Empty::new())
        .expect("request");
    let resp = tokio::time::timeout(LIMIT, client.request(req))
        .await
        .expect("answered in time")
        .expect("request sent");
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(body.to_vec()).expect("utf-8 page")
}

fn echoed(id: &str) -> u64 {
    echo::samples_echoed(id).unwrap_or(0)
}

/// Waits until the echo's count moves past `from`; returns the new count.
async fn next_delivery(id: &str, from: u64) -> u64 {
    let start = Instant::now();
    loop {
        let n = echoed(id);
        if n > from {
            return n;
        }
        assert!(start.elapsed() < LIMIT, "no delivery to {id} after {from}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_exporter_scrape_relabel_echo() {
    let bin = "/usr/bin/prometheus-node-exporter";
    if !Path::new(bin).exists() {
        eprintln!("SKIPPED: {bin} is missing (apt-get install prometheus-node-exporter)");
        return;
    }
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let _exporter = Child(
        std::process::Command::new(bin)
            .arg(format!("--web.listen-address={addr}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start node exporter"),
    );
    let start = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(start.elapsed() < LIMIT, "node exporter did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The scrape's own Accept header (default scrape_protocols).
    let accept = Arguments::new("x").accept_header();

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("config.alloy"),
        format!(
            r#"prometheus.scrape "ne" {{
	targets         = [{{"__address__" = "{addr}"}}]
	scrape_interval = "1s"
	scrape_timeout  = "900ms"
	forward_to      = [prometheus.relabel.ne_r.receiver]
}}

prometheus.relabel "ne_r" {{
	forward_to = [prometheus.echo.ne_out.receiver]

	rule {{
		source_labels = ["__name__"]
		regex         = "go_.*"
		action        = "drop"
	}}
}}

prometheus.echo "ne_out" {{ }}
"#
        ),
    )
    .expect("write config");
    let echo_id = "prometheus.echo.ne_out";
    let before = non_go_samples(&get_page(addr, &accept).await);
    let rt = Runtime::start_with_workers(
        RuntimeConfig {
            config_path: dir.path().join("config.alloy"),
            storage_path: dir.path().join("data"),
            stability: Stability::GenerallyAvailable,
            http_listen_addr: None,
        },
        tokio::runtime::Handle::current(),
        2,
    )
    .expect("start");
    rt.reload().await.expect("load");

    // The first scrape arrives as one batch (a jump from 0); the next one is
    // a second later. The page is fetched again right after it arrived: if
    // node_exporter's page did not change in between, the delivery is exact.
    let mut exact = None;
    let mut seen = 0;
    for scrape in 1..=5 {
        let page_before = if scrape == 1 {
            before
        } else {
            non_go_samples(&get_page(addr, &accept).await)
        };
        let from = echoed(echo_id);
        let now = next_delivery(echo_id, from).await;
        let after = non_go_samples(&get_page(addr, &accept).await);
        let delivered = now - from;
        eprintln!(
            "scrape {scrape}: delivered {delivered} samples; page non-go samples {page_before} before, {after} after (+{REPORT_SERIES} report series)"
        );
        if scrape == 1 {
            assert_eq!(from, 0, "nothing delivered before the first scrape");
            assert!(
                delivered >= after.min(page_before) + REPORT_SERIES,
                "the first delivery is at least one full scrape"
            );
        }
        seen = now;
        if page_before == after {
            assert_eq!(
                delivered,
                after + REPORT_SERIES,
                "scrape {scrape}: non-go sample lines + report series"
            );
            exact = Some((scrape, delivered));
            break;
        }
    }
    let (scrape, delivered) = exact.expect("node_exporter's page never held still across a scrape");
    eprintln!(
        "scrape pipeline: scrape {scrape} delivered exactly {delivered} samples ({} echoed in all)",
        seen
    );
    rt.shutdown().await;
}
