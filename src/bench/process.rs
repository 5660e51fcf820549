//! A collector's process, owned so that it dies with the benchmark on every
//! exit path: dropped (error, early return, Ctrl-C unwinding the run), or
//! the benchmark itself killed (the kernel's parent-death signal).
//!
//! Place in the data flow: [`super::collector`] starts collectors through
//! [`Child::spawn`]; the scenario measures them by [`Child::pid`] and stops,
//! kills or restarts them. Children stay in the benchmark's session and
//! process group (no `setsid`): this kernel schedules each session as its
//! own CPU group, and a collector alone in its session would get a skewed
//! share of the cores; a terminal's Ctrl-C reaches them too.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use super::BenchError;

/// How long a collector may take to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A running child process, killed when dropped.
pub struct Child {
    name: String,
    child: tokio::process::Child,
    pid: u32,
    log: PathBuf,
}

impl Child {
    /// Starts `program args…` with stdout and stderr appended to `log`.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[String],
        log: &Path,
    ) -> Result<Child, BenchError> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| BenchError::io(format!("opening {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| BenchError::io(format!("opening {}", log.display()), e))?;
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        // SAFETY: prctl is async-signal-safe and touches only the child's
        // own state between fork and exec.
        unsafe {
            command.pre_exec(|| {
                // If the benchmark is killed outright, take the child along.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The peers run with the kernel's default for transparent
                // huge pages, not with the flag smelter set on itself at
                // load (`main.rs`), which children inherit.
                if libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .map_err(|e| BenchError::io(format!("starting {}", program.display()), e))?;
        let pid = child
            .id()
            .ok_or_else(|| BenchError::Collector(format!("{name} exited at once")))?;
        Ok(Child {
            name: name.to_string(),
            child,
            pid,
            log: log.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status if the process has exited (without waiting).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// An error naming the process, its exit and the end of its log.
    pub fn died(&mut self, status: ExitStatus) -> BenchError {
        let tail = std::fs::read_to_string(&self.log)
            .map(|s| {
                let lines: Vec<&str> = s.lines().collect();
                lines[lines.len().saturating_sub(15)..].join("\n")
            })
            .unwrap_or_default();
        BenchError::Collector(format!(
            "{} exited ({status}); the end of {}:\n{tail}",
            self.name,
            self.log.display()
        ))
    }

    /// SIGKILL and reap.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// SIGTERM, then SIGKILL if it has not exited within the grace period.
    pub async fn stop(&mut self) {
        if let Ok(pid) = i32::try_from(self.pid) {
            // SAFETY: kill(2) on our own child's pid, which we have not reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        if tokio::time::timeout(STOP_GRACE, self.child.wait())
            .await
            .is_err()
        {
            tracing::warn!(name = %self.name, "did not stop after SIGTERM; killing it");
            self.kill().await;
        }
    }
}
