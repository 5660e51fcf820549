//! `smelter run [flags] PATH`: load a configuration and run it until stopped.
//!
//! The first load must succeed, or the diagnostics are printed and nothing
//! runs. After that, SIGHUP and `POST /-/reload` reload the configuration; a
//! bad reload is refused whole and the running graph stays as it was.
//! SIGINT/SIGTERM stop every component (releasing what they hold) and exit.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::controller::runtime::{ReloadError, Runtime, RuntimeConfig};
use crate::controller::Stability;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The configuration file, or a directory whose top-level `*.alloy` files
    /// are loaded together (sorted by name).
    pub path: PathBuf,

    /// Address the HTTP server listens on.
    #[arg(long = "server.http.listen-addr", default_value = "127.0.0.1:12345")]
    pub listen_addr: String,

    /// Where components keep their state (WALs, positions), one directory each.
    #[arg(long = "storage.path", default_value = "data-smelter/")]
    pub storage_path: PathBuf,

    /// The lowest stability level of features allowed.
    #[arg(long = "stability.level", default_value = "generally-available", value_parser = super::validate::parse_stability)]
    pub stability: Stability,

    /// Worker threads of the data plane (timely); default: the number of cores.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,
}

pub fn run(args: &RunArgs) -> ExitCode {
    super::memory::configure();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("smelter")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run_async(args))
}

async fn run_async(args: &RunArgs) -> ExitCode {
    // Bound before the first load so components that scrape smelter itself
    // (`prometheus.exporter.self`) are built with the real address (port 0
    // resolved); connections wait in the backlog until the server serves.
    let listener = match crate::server::bind(&args.listen_addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = RuntimeConfig {
        config_path: args.path.clone(),
        storage_path: args.storage_path.clone(),
        stability: args.stability,
        http_listen_addr: listener.local_addr().ok(),
    };
    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let controller =
        match Runtime::start_with_workers(config, tokio::runtime::Handle::current(), workers) {
            Ok(r) => Arc::new(r),
            Err(e) => {
                eprintln!("Error: starting the controller: {e}");
                return ExitCode::FAILURE;
            }
        };
    match controller.reload().await {
        Ok(()) => tracing::info!(path = %args.path.display(), "configuration loaded"),
        Err(ReloadError::Rejected(e)) => {
            eprintln!("{}", e.render());
            eprintln!("Error: could not perform the initial load successfully");
            shutdown(controller).await;
            return ExitCode::FAILURE;
        }
        // As Alloy (`applyLoaderConfig`): a first load with evaluation errors
        // fails too; stop what was started and exit.
        Err(ReloadError::Evaluation(errors)) => {
            for line in errors.lines() {
                eprintln!("Error: {line}");
            }
            eprintln!("Error: could not perform the initial load successfully");
            shutdown(controller).await;
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("Error: {e}");
            shutdown(controller).await;
            return ExitCode::FAILURE;
        }
    }

    let stop = CancellationToken::new();
    let view: Arc<dyn crate::server::Controller> = controller.clone();
    let server = tokio::spawn(crate::server::serve(listener, view, stop.clone()));

    wait_for_signals(&controller).await;
    stop.cancel();
    let _ = server.await;
    shutdown(controller).await;
    ExitCode::SUCCESS
}

async fn shutdown(controller: Arc<Runtime>) {
    match Arc::try_unwrap(controller) {
        Ok(runtime) => runtime.shutdown().await,
        Err(_) => tracing::warn!("controller still shared at shutdown"),
    }
}

/// Reload on SIGHUP; return on SIGINT or SIGTERM.
#[cfg(unix)]
async fn wait_for_signals(controller: &Runtime) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut hup), Ok(mut term)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => match controller.reload().await {
                Ok(()) => tracing::info!("configuration reloaded"),
                Err(e) => tracing::error!(error = %e, "failed to reload config"),
            },
            _ = term.recv() => return,
            _ = tokio::signal::ctrl_c() => return,
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signals(_controller: &Runtime) {
    let _ = tokio::signal::ctrl_c().await;
}
