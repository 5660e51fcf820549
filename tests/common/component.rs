//! A component run by hand, the way the controller runs it: built through
//! its registration, run as a tokio task, its exports read from the channel
//! the controller would read, new arguments sent through the watch channel.

use std::path::Path;
use std::time::Duration;

use smelter::component::{
    registry, Build, BuildContext, ComponentError, Exports, ExportsChange, Health, HealthState,
    RunContext,
};
use smelter::syntax::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

/// The bound of every wait.
pub const WAIT: Duration = Duration::from_secs(5);

pub struct Running {
    pub exports: mpsc::UnboundedReceiver<ExportsChange>,
    pub args: ArgsSender,
    pub cancel: CancellationToken,
    pub task: JoinHandle<Result<(), ComponentError>>,
    pub health: Health,
}

/// Build `kind` (as `<kind>.test`, state under `dir/data`) and run it.
/// The controller's end of a component's arguments channel.
pub struct ArgsSender(pub watch::Sender<std::sync::Arc<Value>>);

impl ArgsSender {
    /// New arguments for the running component, as the controller sends them.
    pub fn send_replace(&self, args: Value) {
        self.0.send_replace(std::sync::Arc::new(args));
    }
}

pub fn start(kind: &str, dir: &Path, args: Value) -> Running {
    let reg = registry::find(kind).expect("registered");
    (reg.validate)(&args).expect("valid arguments");
    let (tx, exports) = mpsc::unbounded_channel();
    let health = Health::default();
    let id = format!("{kind}.test");
    let Build::Task(build) = reg.build else {
        panic!("{kind} runs no task");
    };
    let component = build(
        BuildContext {
            id: id.clone(),
            storage_path: dir.join("data").into(),
            http_listen_addr: None,
            exports: Exports::new(id, tx),
            health: health.clone(),
            data_plane: Default::default(),
        },
        &args,
    )
    .expect("build");
    let (args_tx, args_rx) = watch::channel(std::sync::Arc::new(args));
    let cancel = CancellationToken::new();
    let task = tokio::spawn(component.run(RunContext {
        args: args_rx,
        cancel: cancel.clone(),
    }));
    Running {
        exports,
        args: ArgsSender(args_tx),
        cancel,
        task,
        health,
    }
}

impl Running {
    /// Wait (bounded) until exports equal to `want` are published.
    pub async fn wait_exports(&mut self, want: &Value) {
        let mut last = None;
        let got = timeout(WAIT, async {
            loop {
                match self.exports.recv().await {
                    Some(change) if *change.exports == *want => return,
                    Some(change) => last = Some(change.exports),
                    None => panic!("exports channel closed"),
                }
            }
        })
        .await;
        assert!(
            got.is_ok(),
            "timed out waiting for {want}\nlast exports: {last:?}"
        );
    }

    /// Wait (bounded) for a health state; returns its message.
    pub async fn wait_health(&self, state: HealthState) -> String {
        let got = timeout(WAIT, async {
            loop {
                let h = self.health.get();
                if h.state == state {
                    return h.message;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        got.unwrap_or_else(|_| panic!("timed out waiting for {state:?}: {:?}", self.health.get()))
    }

    /// No exports change arrives for a while.
    pub async fn quiet(&mut self, for_: Duration) {
        if let Ok(Some(change)) = timeout(for_, self.exports.recv()).await {
            panic!("unexpected exports {}", change.exports);
        }
    }

    /// Cancel and check the task ends with `Ok`.
    pub async fn stop(self) {
        self.cancel.cancel();
        let ended = timeout(WAIT, self.task).await.expect("task ends on cancel");
        ended.expect("task not panicked").expect("run returns Ok");
    }
}
