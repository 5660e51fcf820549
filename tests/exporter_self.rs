//! `prometheus.exporter.self` end to end: the runtime with its HTTP server
//! started, the exporter's target scraped by `prometheus.scrape`, filtered
//! by `prometheus.relabel` down to two of smelter's own families and the
//! `up` report series — kept only if they carry the exporter's `job` and
//! `instance` — and counted by `prometheus.echo`: exactly 3 samples a scrape.

use std::sync::Arc;
use std::time::{Duration, Instant};

use smelter::components::prometheus::echo;
use smelter::components::prometheus::exporter::self_;
use smelter::controller::runtime::{Runtime, RuntimeConfig};
use smelter::controller::Stability;
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(20);

async fn wait_for(id: &str, at_least: u64) -> u64 {
    let start = Instant::now();
    loop {
        let n = echo::samples_echoed(id).unwrap_or(0);
        if n >= at_least {
            return n;
        }
        assert!(
            start.elapsed() < LIMIT,
            "{id}: {n} samples, waited for {at_least}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_self_scrape_relabel_echo() {
    let listener = smelter::server::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let dir = tempfile::tempdir().expect("tempdir");
    let keep = format!(
        "(smelter_build_info|smelter_config_last_load_successful|up);integrations/self;{}",
        regex::escape(&self_::instance())
    );
    std::fs::write(
        dir.path().join("config.alloy"),
        format!(
            r#"prometheus.exporter.self "default" {{ }}

prometheus.scrape "own" {{
	targets         = prometheus.exporter.self.default.targets
	scrape_interval = "1s"
	scrape_timeout  = "900ms"
	forward_to      = [prometheus.relabel.own.receiver]
}}

prometheus.relabel "own" {{
	forward_to = [prometheus.echo.own.receiver]

	rule {{
		source_labels = ["__name__", "job", "instance"]
		regex         = {keep:?}
		action        = "keep"
	}}
}}

prometheus.echo "own" {{ }}
"#
        ),
    )
    .expect("write config");
    let rt = Arc::new(
        Runtime::start_with_workers(
            RuntimeConfig {
                config_path: dir.path().join("config.alloy"),
                storage_path: dir.path().join("data"),
                stability: Stability::GenerallyAvailable,
                http_listen_addr: Some(addr),
            },
            tokio::runtime::Handle::current(),
            2,
        )
        .expect("start"),
    );
    rt.reload().await.expect("load");
    let stop = CancellationToken::new();
    let view: Arc<dyn smelter::server::Controller> = rt.clone();
    let server = tokio::spawn(smelter::server::serve(listener, view, stop.clone()));

    // One batch per scrape, so the count moves in steps of exactly 3.
    let id = "prometheus.echo.own";
    let first = wait_for(id, 1).await;
    assert_eq!(first, 3, "build info, last load, up from the first scrape");
    let second = wait_for(id, first + 1).await;
    assert_eq!(second, 6, "the second scrape delivers the same 3 series");

    stop.cancel();
    server.await.expect("server task").expect("server");
    let rt = Arc::try_unwrap(rt).unwrap_or_else(|_| panic!("runtime still shared"));
    rt.shutdown().await;
}
