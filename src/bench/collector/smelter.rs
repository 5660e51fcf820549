//! smelter itself as a collector: `smelter run` on a generated `.alloy`
//! configuration — `prometheus.scrape` → `prometheus.relabel` →
//! `prometheus.remote_write` for the scrape role, `prometheus.receive_http`
//! → `prometheus.remote_write` for ingest.

use super::{free_port, write_config, Launch, Role, Setup, RELABEL_LABEL};
use crate::bench::BenchError;

pub(super) fn launch(s: &Setup<'_>) -> Result<Launch, BenchError> {
    let sink = format!(
        "prometheus.remote_write \"bench\" {{\n  endpoint {{\n    url = {:?}\n  }}\n}}\n",
        s.receiver_url
    );
    let (pipeline, ready_port, push_url) = match s.role {
        Role::Scrape { targets, interval } => {
            let secs = interval.as_secs().max(1);
            let list: Vec<String> = targets
                .iter()
                .map(|a| format!("{{\"__address__\" = \"{a}\"}}"))
                .collect();
            let text = format!(
                "prometheus.scrape \"bench\" {{\n  targets = [{}]\n  scrape_interval = \"{secs}s\"\n  \
                 scrape_timeout = \"{}s\"\n  forward_to = [prometheus.relabel.bench.receiver]\n}}\n\n\
                 prometheus.relabel \"bench\" {{\n  forward_to = [prometheus.remote_write.bench.receiver]\n  \
                 rule {{\n    target_label = {:?}\n    replacement = {:?}\n  }}\n}}\n\n",
                list.join(", "),
                secs.min(10),
                RELABEL_LABEL.0,
                RELABEL_LABEL.1
            );
            (text, s.http_port, None)
        }
        Role::Ingest => {
            let port = free_port()?;
            let text = format!(
                "prometheus.receive_http \"bench\" {{\n  http {{\n    listen_address = \"127.0.0.1\"\n    \
                 listen_port = {port}\n  }}\n  forward_to = [prometheus.remote_write.bench.receiver]\n}}\n\n"
            );
            (
                text,
                port,
                Some(format!("http://127.0.0.1:{port}/api/v1/metrics/write")),
            )
        }
    };
    let config = s.dir.join("bench.alloy");
    write_config(&config, &format!("{pipeline}{sink}"))?;
    Ok(Launch {
        args: vec![
            "run".to_string(),
            format!("--server.http.listen-addr=127.0.0.1:{}", s.http_port),
            format!("--storage.path={}", s.data_dir.display()),
            config.display().to_string(),
        ],
        ready_port,
        push_url,
    })
}
