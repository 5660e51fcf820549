//! vmagent (Debian's `victoria-metrics` package) as a collector: the same
//! Prometheus-format scrape configuration, remote write to the benchmark's
//! receiver, and for ingest its own `/api/v1/write` endpoint.

use super::{prometheus_scrape_yaml, write_config, Launch, Role, Setup};
use crate::bench::BenchError;

pub(super) fn launch(s: &Setup<'_>) -> Result<Launch, BenchError> {
    let listen = format!("127.0.0.1:{}", s.http_port);
    let mut args = vec![
        format!("-httpListenAddr={listen}"),
        format!("-remoteWrite.url={}", s.receiver_url),
        format!("-remoteWrite.tmpDataPath={}", s.data_dir.display()),
    ];
    let push_url = match s.role {
        Role::Scrape { targets, interval } => {
            let config = s.dir.join("scrape.yml");
            write_config(&config, &prometheus_scrape_yaml(targets, *interval))?;
            args.push(format!("-promscrape.config={}", config.display()));
            None
        }
        Role::Ingest => Some(format!("http://{listen}/api/v1/write")),
    };
    Ok(Launch {
        args,
        ready_port: s.http_port,
        push_url,
    })
}
