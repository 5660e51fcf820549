//! The collectors under test: smelter itself and its peers, each started
//! from a generated configuration that scrapes the benchmark's targets (or
//! accepts its ingest clients) and remote-writes to its receiver.
//!
//! Place in the data flow: targets / ingest clients → **collector** →
//! receiver. One file per collector writes its configuration and command
//! line ([`smelter`], [`prometheus`], [`vmagent`]); this file starts the
//! process, waits until it listens, and restarts it for the restart
//! scenario. Peers run with their defaults: only what the benchmark needs
//! (addresses, paths, the interval) is set.

mod prometheus;
mod smelter;
mod vmagent;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::process::Child;
use super::BenchError;

/// How long a collector may take to start listening.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A kind of collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Smelter,
    PrometheusAgent,
    Vmagent,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Smelter => "smelter",
            Kind::PrometheusAgent => "prometheus-agent",
            Kind::Vmagent => "vmagent",
        }
    }

    /// The peer named on the command line (`--peer NAME`).
    pub fn peer(name: &str) -> Result<Kind, String> {
        match name {
            "prometheus-agent" | "prometheus" => Ok(Kind::PrometheusAgent),
            "vmagent" => Ok(Kind::Vmagent),
            other => Err(format!(
                "unknown peer {other:?}; expected prometheus-agent or vmagent"
            )),
        }
    }

    /// The peer's executable, found on `PATH`, or an error naming the
    /// Debian package that provides it.
    fn peer_binary(self) -> Result<PathBuf, BenchError> {
        let (binary, package) = match self {
            Kind::Smelter => {
                // A profiler's wrapper script or another build in place of
                // this binary: how a heap profile or an A/B comparison runs
                // the collector under the bench's exact load.
                if let Some(path) = std::env::var_os("SMELTER_BENCH_COLLECTOR") {
                    return Ok(PathBuf::from(path));
                }
                return std::env::current_exe()
                    .map_err(|e| BenchError::io("finding the smelter binary", e));
            }
            Kind::PrometheusAgent => ("prometheus", "prometheus"),
            Kind::Vmagent => ("vmagent", "victoria-metrics"),
        };
        find_on_path(binary).ok_or_else(|| BenchError::MissingPeer {
            peer: self.name(),
            binary,
            package,
        })
    }
}

fn find_on_path(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary))
        .find(|candidate| candidate.is_file())
}

/// What the collector does in a scenario.
#[derive(Debug, Clone)]
pub enum Role {
    /// Scrape these targets every `interval`, add a label by relabelling,
    /// remote-write the result.
    Scrape {
        targets: Vec<SocketAddr>,
        interval: Duration,
    },
    /// Accept remote-write pushes and forward them.
    Ingest,
}

/// A generated configuration: the command line and where to push (ingest).
struct Launch {
    args: Vec<String>,
    /// The collector's port that must accept connections before it is ready.
    ready_port: u16,
    /// Where ingest clients push, for [`Role::Ingest`].
    push_url: Option<String>,
}

/// Everything a collector's configuration generator needs.
struct Setup<'a> {
    role: &'a Role,
    receiver_url: &'a str,
    /// The run's own directory: configuration files and the data directory.
    dir: &'a Path,
    data_dir: &'a Path,
    http_port: u16,
}

/// A running collector.
pub struct Collector {
    pub kind: Kind,
    binary: PathBuf,
    launch: Launch,
    log: PathBuf,
    data_dir: PathBuf,
    child: Child,
}

impl Collector {
    /// Checks that the collector's binary exists before anything starts.
    pub fn check(kind: Kind) -> Result<(), BenchError> {
        kind.peer_binary().map(|_| ())
    }

    /// Writes the configuration under `dir`, starts the collector and waits
    /// until it listens.
    pub async fn start(
        kind: Kind,
        role: &Role,
        receiver_url: &str,
        dir: &Path,
    ) -> Result<Collector, BenchError> {
        let binary = kind.peer_binary()?;
        std::fs::create_dir_all(dir)
            .map_err(|e| BenchError::io(format!("creating {}", dir.display()), e))?;
        let data_dir = dir.join("data");
        let setup = Setup {
            role,
            receiver_url,
            dir,
            data_dir: &data_dir,
            http_port: free_port()?,
        };
        let launch = match kind {
            Kind::Smelter => smelter::launch(&setup)?,
            Kind::PrometheusAgent => prometheus::launch(&setup)?,
            Kind::Vmagent => vmagent::launch(&setup)?,
        };
        let log = dir.join(format!("{}.log", kind.name()));
        let child = Child::spawn(kind.name(), &binary, &launch.args, &log)?;
        let mut collector = Collector {
            kind,
            binary,
            launch,
            log,
            data_dir,
            child,
        };
        collector.wait_ready().await?;
        Ok(collector)
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where ingest clients push.
    pub fn push_url(&self) -> Option<&str> {
        self.launch.push_url.as_deref()
    }

    /// An error if the collector has exited on its own.
    pub fn check_alive(&mut self) -> Result<(), BenchError> {
        match self.child.exited() {
            Some(status) => Err(self.child.died(status)),
            None => Ok(()),
        }
    }

    /// SIGKILL, then the same command again with the same data directory.
    pub async fn kill_and_restart(&mut self) -> Result<(), BenchError> {
        self.child.kill().await;
        self.child = Child::spawn(self.kind.name(), &self.binary, &self.launch.args, &self.log)?;
        self.wait_ready().await
    }

    /// SIGTERM (SIGKILL after a grace period).
    pub async fn stop(&mut self) {
        self.child.stop().await;
    }

    async fn wait_ready(&mut self) -> Result<(), BenchError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.launch.ready_port));
        loop {
            self.check_alive()?;
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(BenchError::Collector(format!(
                    "{} did not listen on {addr} within {READY_TIMEOUT:?}; see {}",
                    self.kind.name(),
                    self.log.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A loopback port free at the moment of asking, for a collector to bind.
pub fn free_port() -> Result<u16, BenchError> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| BenchError::io("picking a free port", e))
}

/// Writes a generated configuration file.
fn write_config(path: &Path, text: &str) -> Result<(), BenchError> {
    std::fs::write(path, text).map_err(|e| BenchError::io(format!("writing {}", path.display()), e))
}

/// The label every collector adds by relabelling in the scrape role, so the
/// relabel step costs the same work everywhere.
const RELABEL_LABEL: (&str, &str) = ("bench", "steady");

/// The Prometheus-format scrape configuration that both peers read.
fn prometheus_scrape_yaml(targets: &[SocketAddr], interval: Duration) -> String {
    let secs = interval.as_secs().max(1);
    let timeout = secs.min(10);
    let list: Vec<String> = targets.iter().map(|a| format!("'{a}'")).collect();
    format!(
        "global:\n  scrape_interval: {secs}s\n  scrape_timeout: {timeout}s\n\
         scrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [{}]\n\
         \x20   metric_relabel_configs:\n      - target_label: {}\n        replacement: {}\n",
        list.join(", "),
        RELABEL_LABEL.0,
        RELABEL_LABEL.1
    )
}
