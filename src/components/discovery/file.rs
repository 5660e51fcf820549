//! `discovery.file`: targets from Prometheus file-SD files (`file_sd_config`).
//!
//! In the data flow it is a control-plane source: its `targets` export is
//! read by `discovery.relabel`, `prometheus.scrape`, … and a change wakes
//! only those. Each element of `files` is a path whose last segment may
//! hold a `*` (matched with the `glob` crate); every matching `.json`,
//! `.yml` or `.yaml` file is read as a list of target groups, and each
//! target gets `__meta_filepath` = the path the glob produced (as Prometheus:
//! absolute when the pattern is).
//!
//! Refreshes every `refresh_interval` and, as Prometheus, also on changes: an
//! inotify watch on the patterns' directories re-reads 30 ms after a change.
//! Files are read in path order, groups and targets in file order, so the
//! export is deterministic (Alloy's order follows a Go map). A malformed or
//! unreadable file is reported (unhealthy, naming the file) and, as in
//! Prometheus, keeps serving the targets last read from it; the other files
//! are served normally. A file that no longer matches drops its targets.
//!
//! New arguments (`files`, `refresh_interval`) apply at once while running.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::{sleep_until, Instant};

use super::{parse_json_groups, parse_yaml_groups, targets_value, TargetGroup};
use crate::component::args::replace_if_changed;
use crate::component::{
    Args, Build, BuildContext, Component, ComponentError, Exports, Health, Registration,
    RunContext, RunFuture,
};
use crate::components::local::watch::{self, DirWatcher};
use crate::controller::schema::Schema;
use crate::syntax::Value;

/// The label naming the file a target came from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

pub fn registration() -> Registration {
    Registration {
        name: "discovery.file",
        schema,
        validate,
        build: Build::Task(build),
    }
}

fn schema() -> Schema {
    Schema::new()
        .attr("files", true)
        .attr("refresh_interval", false)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arguments {
    pub files: Vec<String>,
    pub refresh_interval: Duration,
}

impl Arguments {
    pub fn from_value(v: &Value) -> Result<Self, ComponentError> {
        let args = Args::new(v)?;
        let files: Vec<String> = args.required("files")?;
        let refresh_interval = args.or("refresh_interval", Duration::from_secs(300))?;
        if files.is_empty() {
            return Err(ComponentError::args(
                "file service discovery config must contain at least one path name",
            ));
        }
        for f in &files {
            check_pattern(f)?;
        }
        if refresh_interval.is_zero() {
            return Err(ComponentError::args(
                "refresh_interval must be greater than 0",
            ));
        }
        Ok(Arguments {
            files,
            refresh_interval,
        })
    }
}

/// Prometheus' rule for file-SD paths: at most one `*`, only in the last
/// segment, and a `.json`, `.yml` or `.yaml` extension.
fn check_pattern(pattern: &str) -> Result<(), ComponentError> {
    let invalid = || {
        ComponentError::args(format!(
            "path name {pattern:?} is not valid for file discovery"
        ))
    };
    if let Some(star) = pattern.find('*') {
        let rest = &pattern[star + 1..];
        if rest.contains('*') || rest.contains('/') {
            return Err(invalid());
        }
    }
    let ok_ext = [".json", ".yml", ".yaml", ".JSON", ".YML", ".YAML"]
        .iter()
        .any(|ext| pattern.ends_with(ext) && pattern.len() > ext.len());
    if !ok_ext {
        return Err(invalid());
    }
    glob::Pattern::new(pattern).map_err(|e| {
        ComponentError::args(format!("path name {pattern:?} is not a valid glob: {e}"))
    })?;
    Ok(())
}

fn validate(v: &Value) -> Result<(), ComponentError> {
    Arguments::from_value(v).map(|_| ())
}

fn build(ctx: BuildContext, v: &Value) -> Result<Box<dyn Component>, ComponentError> {
    let args = Arguments::from_value(v)?;
    let mut sd = FileSd {
        id: ctx.id,
        exports: ctx.exports,
        health: ctx.health,
        args,
        last_good: BTreeMap::new(),
    };
    // Discover once now so dependants evaluated after the build see targets.
    let (last_good, errors) = refresh(&sd.args.files, &sd.last_good);
    sd.finish(last_good, errors);
    Ok(Box::new(sd))
}

struct FileSd {
    id: String,
    exports: Exports,
    health: Health,
    args: Arguments,
    /// The groups last read successfully from each file still matched.
    last_good: BTreeMap<PathBuf, Vec<TargetGroup>>,
}

/// Expand the patterns and read every file; a file that fails keeps its
/// previous groups. Blocking (globbing, reading): run off the runtime.
fn refresh(
    patterns: &[String],
    previous: &BTreeMap<PathBuf, Vec<TargetGroup>>,
) -> (BTreeMap<PathBuf, Vec<TargetGroup>>, Vec<String>) {
    let mut errors = Vec::new();
    let mut paths = BTreeSet::new();
    for pattern in patterns {
        match glob::glob(pattern) {
            Ok(entries) => {
                for entry in entries {
                    match entry {
                        Ok(path) => {
                            paths.insert(path);
                        }
                        Err(err) => errors.push(format!("{pattern}: {err}")),
                    }
                }
            }
            Err(err) => errors.push(format!("{pattern}: {err}")),
        }
    }
    let mut groups = BTreeMap::new();
    for path in paths {
        match read_groups(&path) {
            Ok(g) => {
                groups.insert(path, g);
            }
            Err(err) => {
                errors.push(format!("{}: {err}", path.display()));
                if let Some(g) = previous.get(&path) {
                    groups.insert(path, g.clone());
                }
            }
        }
    }
    (groups, errors)
}

fn read_groups(path: &Path) -> Result<Vec<TargetGroup>, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    match ext.as_str() {
        "json" => parse_json_groups(&bytes),
        "yml" | "yaml" => parse_yaml_groups(&bytes),
        _ => Err("not a .json, .yml or .yaml file".to_string()),
    }
}

impl FileSd {
    fn finish(&mut self, groups: BTreeMap<PathBuf, Vec<TargetGroup>>, errors: Vec<String>) {
        let mut targets = Vec::new();
        for (path, groups) in &groups {
            let path = path.to_string_lossy();
            if let Value::Array(items) = targets_value(groups, &[(FILEPATH_LABEL, &path)]) {
                targets.extend(items);
            }
        }
        let count = targets.len();
        self.last_good = groups;
        self.exports
            .publish(Value::object([("targets", Value::Array(targets))]));
        if errors.is_empty() {
            self.health.healthy(format!("discovered {count} targets"));
        } else {
            for err in &errors {
                tracing::warn!(component = %self.id, %err, "failed to read file-SD file");
            }
            self.health.unhealthy(format!(
                "failed to read {} file(s): {}",
                errors.len(),
                errors.join("; ")
            ));
        }
    }

    async fn refresh(&mut self) {
        let patterns = self.args.files.clone();
        let previous = self.last_good.clone();
        match tokio::task::spawn_blocking(move || refresh(&patterns, &previous)).await {
            Ok((groups, errors)) => self.finish(groups, errors),
            Err(err) => self.health.unhealthy(format!("refresh failed: {err}")),
        }
    }

    fn watcher(&self) -> Option<DirWatcher> {
        let dirs: BTreeSet<PathBuf> = self
            .args
            .files
            .iter()
            .map(|f| watch::parent_dir(Path::new(f)))
            .collect();
        match DirWatcher::new(dirs) {
            Ok(w) => Some(w),
            Err(err) => {
                tracing::warn!(component = %self.id, %err, "no file watcher; refreshing on the interval only");
                None
            }
        }
    }

    /// Take new arguments; true when they differ from the current ones.
    fn apply(&mut self, v: &Value) -> bool {
        replace_if_changed(&self.id, &mut self.args, Arguments::from_value(v))
    }

    async fn run(mut self, ctx: RunContext) -> Result<(), ComponentError> {
        let RunContext { mut args, cancel } = ctx;
        let latest = args.borrow_and_update().clone();
        self.apply(&latest);
        let mut watcher = self.watcher();
        // Catch changes between the build's read and the watch.
        self.refresh().await;
        let mut next = Instant::now() + self.args.refresh_interval;
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
                        watcher = self.watcher();
                        self.refresh().await;
                        next = Instant::now() + self.args.refresh_interval;
                    }
                }
                _ = watch::changed(&mut watcher) => self.refresh().await,
                _ = sleep_until(next) => {
                    self.refresh().await;
                    next = Instant::now() + self.args.refresh_interval;
                }
            }
        }
        tracing::debug!(component = %self.id, "stopped");
        Ok(())
    }
}

impl Component for FileSd {
    fn run(self: Box<Self>, ctx: RunContext) -> RunFuture {
        Box::pin((*self).run(ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(check_pattern("/etc/sd/*.json").is_ok());
        assert!(check_pattern("sd/tg_*.yaml").is_ok());
        assert!(check_pattern("a.YML").is_ok());
        assert!(check_pattern("/etc/*/x.json").is_err());
        assert!(check_pattern("/etc/**.json").is_err());
        assert!(check_pattern("/etc/sd/x.txt").is_err());
        assert!(check_pattern(".json").is_err());
    }
}
