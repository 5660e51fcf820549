//! Prometheus in agent mode (Debian's `prometheus`, `--enable-feature=agent`)
//! as a collector: the scrape configuration in YAML, remote write to the
//! benchmark's receiver, and for ingest its remote-write receiver endpoint.

use super::{prometheus_scrape_yaml, write_config, Launch, Role, Setup};
use crate::bench::BenchError;

pub(super) fn launch(s: &Setup<'_>) -> Result<Launch, BenchError> {
    let scrape = match s.role {
        Role::Scrape { targets, interval } => prometheus_scrape_yaml(targets, *interval),
        Role::Ingest => String::new(),
    };
    let config = s.dir.join("prometheus.yml");
    write_config(
        &config,
        &format!("{scrape}remote_write:\n  - url: {}\n", s.receiver_url),
    )?;
    let listen = format!("127.0.0.1:{}", s.http_port);
    let mut args = vec![
        "--enable-feature=agent".to_string(),
        format!("--config.file={}", config.display()),
        format!("--storage.agent.path={}", s.data_dir.display()),
        format!("--web.listen-address={listen}"),
    ];
    let push_url = match s.role {
        Role::Scrape { .. } => None,
        Role::Ingest => {
            args.push("--web.enable-remote-write-receiver".to_string());
            Some(format!("http://{listen}/api/v1/write"))
        }
    };
    Ok(Launch {
        args,
        ready_port: s.http_port,
        push_url,
    })
}
