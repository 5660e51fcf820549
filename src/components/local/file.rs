//! `local.file`: exports the content of a file on disk and keeps it current.
//!
//! In the data flow it is a source of the control plane only: its `content`
//! export (an `OptionalSecret`, secret when `is_secret = true`) is read by
//! other components' arguments (a password, a token, a whole config), and
//! each change re-evaluates just those dependants.
//!
//! Change detection, as Alloy's `detector`:
//! - `"poll"`: re-read every `poll_frequency`; a changed content is exported.
//! - `"fsnotify"` (default): an inotify watch (the `notify` crate) on the
//!   file's *directory* wakes a re-read 30 ms after any change there, plus the
//!   same fallback re-read every `poll_frequency` Alloy does. Alloy watches
//!   the file itself; watching the directory also catches a file created
//!   later or replaced by rename. If no watcher can be made at all, smelter
//!   falls back to polling every second (Alloy would fail to build).
//!
//! A file that cannot be read makes the component unhealthy with the error
//! (`failed to read file: …`) and leaves the exports at their last value;
//! the next change or poll retries. Unlike Alloy, which fails to build when
//! the file is unreadable at start, smelter builds the component (unhealthy,
//! no exports yet) and keeps retrying. Healthy is Alloy's `read file`.
//!
//! New arguments apply while running: a new `filename`, detector or
//! `poll_frequency` re-creates the detector and re-reads at once.

use std::path::PathBuf;
use std::time::Duration;

use tokio::time::{sleep_until, Instant};

use super::watch::{self, DirWatcher};
use crate::component::args::replace_if_changed;
use crate::component::{
    Args, Build, BuildContext, Component, ComponentError, Exports, Health, Registration,
    RunContext, RunFuture,
};
use crate::controller::schema::Schema;
use crate::syntax::{Capsule, Value};

/// Polling interval when `fsnotify` is asked for but no watcher can be made.
const FALLBACK_POLL: Duration = Duration::from_secs(1);

pub fn registration() -> Registration {
    Registration {
        name: "local.file",
        schema,
        validate,
        build: Build::Task(build),
    }
}

fn schema() -> Schema {
    Schema::new()
        .attr("filename", true)
        .attr("detector", false)
        .attr("poll_frequency", false)
        .attr("is_secret", false)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detector {
    FsNotify,
    Poll,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arguments {
    pub filename: PathBuf,
    pub detector: Detector,
    pub poll_frequency: Duration,
    pub is_secret: bool,
}

impl Arguments {
    pub fn from_value(v: &Value) -> Result<Self, ComponentError> {
        let args = Args::new(v)?;
        let filename: String = args.required("filename")?;
        let detector = match args.or("detector", String::new())?.as_str() {
            "" | "fsnotify" => Detector::FsNotify,
            "poll" => Detector::Poll,
            other => {
                return Err(ComponentError::args(format!(
                    "unrecognized detector {other:?}, expected fsnotify or poll"
                )))
            }
        };
        let poll_frequency = args.or("poll_frequency", Duration::from_secs(60))?;
        if poll_frequency.is_zero() {
            return Err(ComponentError::args(
                "poll_frequency must be greater than 0",
            ));
        }
        Ok(Arguments {
            filename: PathBuf::from(filename),
            detector,
            poll_frequency,
            is_secret: args.or("is_secret", false)?,
        })
    }
}

fn validate(v: &Value) -> Result<(), ComponentError> {
    Arguments::from_value(v).map(|_| ())
}

fn build(ctx: BuildContext, v: &Value) -> Result<Box<dyn Component>, ComponentError> {
    let args = Arguments::from_value(v)?;
    let file = LocalFile {
        id: ctx.id,
        exports: ctx.exports,
        health: ctx.health,
        args,
    };
    // Read once now, as Alloy does in `New`, so that dependants evaluated
    // right after the build already see `content`.
    file.read_blocking();
    Ok(Box::new(file))
}

struct LocalFile {
    id: String,
    exports: Exports,
    health: Health,
    args: Arguments,
}

impl LocalFile {
    fn publish(&self, result: std::io::Result<Vec<u8>>) {
        match result {
            Ok(bytes) => {
                let value = String::from_utf8_lossy(&bytes).into_owned();
                self.exports.publish(Value::object([(
                    "content",
                    Value::Capsule(Capsule::OptionalSecret {
                        value,
                        is_secret: self.args.is_secret,
                    }),
                )]));
                self.health.healthy("read file");
            }
            Err(err) => {
                tracing::warn!(component = %self.id, path = %self.args.filename.display(), %err, "failed to read file");
                self.health.unhealthy(format!("failed to read file: {err}"));
            }
        }
    }

    fn read_blocking(&self) {
        self.publish(std::fs::read(&self.args.filename));
    }

    async fn read(&self) {
        self.publish(tokio::fs::read(&self.args.filename).await);
    }

    /// The watcher for `fsnotify`, `None` for `poll` (or when none can be made).
    fn detector(&self) -> Option<DirWatcher> {
        match self.args.detector {
            Detector::Poll => None,
            Detector::FsNotify => match DirWatcher::new([watch::parent_dir(&self.args.filename)]) {
                Ok(w) => Some(w),
                Err(err) => {
                    tracing::warn!(component = %self.id, %err, "no file watcher; polling every second");
                    None
                }
            },
        }
    }

    fn poll_every(&self, watcher: &Option<DirWatcher>) -> Duration {
        match (self.args.detector, watcher) {
            (Detector::FsNotify, None) => FALLBACK_POLL.min(self.args.poll_frequency),
            _ => self.args.poll_frequency,
        }
    }

    async fn run(mut self, ctx: RunContext) -> Result<(), ComponentError> {
        let RunContext { mut args, cancel } = ctx;
        // The arguments may have moved on since the build.
        let latest = args.borrow_and_update().clone();
        self.apply(&latest);
        let mut watcher = self.detector();
        self.read().await;
        let mut next_poll = Instant::now() + self.poll_every(&watcher);
        let mut args_open = true;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                changed = args.changed(), if args_open => {
                    if changed.is_err() {
                        args_open = false;
                        continue;
                    }
                    let latest = args.borrow_and_update().clone();
                    if self.apply(&latest) {
                        watcher = self.detector();
                        self.read().await;
                        next_poll = Instant::now() + self.poll_every(&watcher);
                    }
                }
                _ = watch::changed(&mut watcher) => self.read().await,
                _ = sleep_until(next_poll) => {
                    self.read().await;
                    next_poll = Instant::now() + self.poll_every(&watcher);
                }
            }
        }
        tracing::debug!(component = %self.id, "stopped");
        Ok(())
    }

    /// Take new arguments; true when they differ from the current ones.
    fn apply(&mut self, v: &Value) -> bool {
        replace_if_changed(&self.id, &mut self.args, Arguments::from_value(v))
    }
}

impl Component for LocalFile {
    fn run(self: Box<Self>, ctx: RunContext) -> RunFuture {
        Box::pin((*self).run(ctx))
    }
}
