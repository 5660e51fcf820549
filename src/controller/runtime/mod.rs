//! The runtime: runs a configuration's components and keeps them in step with
//! the configuration and with each other.
//!
//! A [`Runtime`] owns the control-plane thread ([`engine`]): loads and reloads
//! are checked by the [loader](crate::controller::loader) on the caller's side
//! (so a bad config never reaches the running graph), then handed over; export
//! changes published by components flow in through a channel. Readers (the HTTP
//! server) see the state through [`SharedState`].

mod data_plane;
mod engine;
mod lifecycle;
mod shared_value;
pub mod state;
mod view;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use self::engine::{Command, Engine};
use self::lifecycle::Lifecycle;
pub use self::state::{ComponentSnapshot, SharedState};
use super::incremental::{LoadCache, Reload};
use super::loader::LoadError;
use super::validate::Options;
use crate::controller::Stability;
use crate::syntax::StabilityLevel;

/// How the runtime is set up (from `smelter run`'s flags).
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// The configuration file or directory.
    pub config_path: PathBuf,
    /// `--storage.path`: components keep their state under `<path>/<id>/`.
    pub storage_path: PathBuf,
    /// `--stability.level`.
    pub stability: Stability,
    /// Where the HTTP server listens (`--server.http.listen-addr`, as bound),
    /// for components that point at smelter itself
    /// (`prometheus.exporter.self`); `None` when no server runs.
    pub http_listen_addr: Option<std::net::SocketAddr>,
}

/// Why a (re)load did not fully succeed.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The configuration was rejected; the running graph is unchanged.
    #[error("{0}")]
    Rejected(LoadError),
    /// The graph was installed, but some blocks failed to evaluate; those
    /// components keep their last good arguments.
    #[error("error during the load: {0}")]
    Evaluation(String),
    #[error("the runtime has stopped")]
    Stopped,
}

/// A running configuration.
pub struct Runtime {
    config: RuntimeConfig,
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<SharedState>,
    thread: Option<JoinHandle<()>>,
    /// The last configuration planned, for incremental reloads. Held while
    /// a reload is planned *and* handed over, so that the control plane
    /// gets patches in the order the cache saw them.
    cache: Arc<Mutex<LoadCache>>,
}

impl Runtime {
    /// Start the control-plane thread; components run on `tokio`, the data
    /// plane (built when the first data-plane component appears) on as many
    /// worker threads as the machine has cores.
    pub fn start(config: RuntimeConfig, tokio: tokio::runtime::Handle) -> std::io::Result<Self> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::start_with_workers(config, tokio, workers)
    }

    /// [`Runtime::start`] with `workers` data-plane worker threads
    /// (`--workers`). Kept apart from [`RuntimeConfig`] so existing callers
    /// that build it field by field keep compiling.
    pub fn start_with_workers(
        config: RuntimeConfig,
        tokio: tokio::runtime::Handle,
        workers: usize,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(SharedState::default());
        let (commands, rx) = mpsc::unbounded_channel();
        // Export changes go straight to the control-plane thread.
        let (exports_tx, exports_rx) = mpsc::unbounded_channel();
        let stability = match config.stability {
            Stability::Experimental => StabilityLevel::Experimental,
            Stability::PublicPreview => StabilityLevel::PublicPreview,
            Stability::GenerallyAvailable => StabilityLevel::GenerallyAvailable,
        };
        let lifecycle = Lifecycle::new(
            tokio,
            config.storage_path.clone(),
            config.http_listen_addr,
            exports_tx,
        );
        let engine_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("control-plane".into())
            .spawn(move || {
                Engine::new(lifecycle, engine_shared, stability, workers).run(rx, exports_rx)
            })?;
        Ok(Runtime {
            config,
            commands,
            shared,
            thread: Some(thread),
            cache: Arc::default(),
        })
    }

    pub fn shared(&self) -> Arc<SharedState> {
        self.shared.clone()
    }

    /// Read, check and install the configuration (first load or reload).
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let result = self.reload_inner().await;
        let ok = result.is_ok();
        self.shared.record_load(ok);
        crate::metrics::config().record_load(ok);
        result
    }

    async fn reload_inner(&self) -> Result<(), ReloadError> {
        let opts = Options {
            min_stability: self.config.stability,
            ..Options::default()
        };
        let path = self.config.config_path.clone();
        let cache = self.cache.clone();
        let commands = self.commands.clone();
        // Reading and checking is plain CPU and file work: keep it off the
        // async workers.
        let answer = tokio::task::spawn_blocking(move || {
            let mut cache = match cache.lock() {
                Ok(c) => c,
                Err(poisoned) => poisoned.into_inner(),
            };
            // Files certainly unchanged since the last reload are not read.
            let reload = cache
                .read_and_plan(std::slice::from_ref(&path), &opts)
                .map_err(ReloadError::Rejected)?;
            let (reply, answer) = oneshot::channel();
            let command = match reload {
                Reload::Full(plan) => Command::Load { plan, reply },
                Reload::Patch(patch) => Command::Patch { patch, reply },
            };
            commands.send(command).map_err(|_| ReloadError::Stopped)?;
            Ok(answer)
        })
        .await
        .map_err(|_| ReloadError::Stopped)??;
        answer
            .await
            .map_err(|_| ReloadError::Stopped)?
            .map_err(ReloadError::Evaluation)
    }

    /// Stop every component and the control-plane thread.
    pub async fn shutdown(mut self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).is_ok() {
            let _ = wait.await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}
