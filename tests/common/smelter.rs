//! `smelter run` as a child process: the built binary started on a
//! configuration in a test's directory, driven over plain HTTP/1.1 on
//! 127.0.0.1 and with real signals, killed if the test fails. Every wait is
//! bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::free_port;

/// Generous: two loaded cores shared by several builds.
pub const WAIT: Duration = Duration::from_secs(30);

/// One HTTP/1.1 request with `Connection: close`; `None` if nothing answers.
pub fn request(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_write_timeout(Some(WAIT)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

pub fn get(port: u16, path: &str) -> (u16, String) {
    request(port, "GET", path).unwrap_or_else(|| panic!("GET {path}: no answer"))
}

pub fn get_json(port: u16, path: &str) -> Json {
    let (status, body) = get(port, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub fn wait_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `smelter run`; killed if the test fails before stopping it.
pub struct Smelter {
    pub child: Child,
    pub port: u16,
    pub stderr: PathBuf,
}

impl Smelter {
    pub fn start(dir: &Path) -> Smelter {
        let port = free_port();
        let stderr = dir.join("stderr.log");
        let child = Command::new(env!("CARGO_BIN_EXE_smelter"))
            .arg("run")
            .arg("--server.http.listen-addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--storage.path")
            .arg(dir.join("data"))
            .arg(dir.join("config.alloy"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("smelter starts");
        Smelter {
            child,
            port,
            stderr,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn signal(&self, sig: libc::c_int) {
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill({sig})");
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("smelter exited early ({status}):\n{}", self.log());
            }
            if request(self.port, "GET", "/-/ready").is_some_and(|(s, _)| s == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not ready in time:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn components(&self) -> Vec<Json> {
        get_json(self.port, "/api/v0/web/components")
            .as_array()
            .expect("a JSON list")
            .clone()
    }

    pub fn ids(&self) -> Vec<String> {
        self.components()
            .iter()
            .map(|c| c["localID"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn component(&self, id: &str) -> Json {
        get_json(self.port, &format!("/api/v0/web/components/{id}"))
    }

    /// (arguments, updates) of every component, by ID.
    pub fn running_state(&self) -> Vec<(String, Json, u64)> {
        self.ids()
            .into_iter()
            .map(|id| {
                let c = self.component(&id);
                let updates = c["updates"].as_u64().unwrap();
                (id, c["arguments"].clone(), updates)
            })
            .collect()
    }

    pub fn metric(&self, name: &str) -> Option<f64> {
        let (status, body) = get(self.port, "/metrics");
        assert_eq!(status, 200);
        body.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
            let (n, v) = l.split_once(' ')?;
            (n == name).then(|| v.trim().parse().ok())?
        })
    }

    pub fn wait_all_healthy(&self, expected: &[&str]) {
        wait_until("every component to be healthy", || {
            let list = self.components();
            let mut ids: Vec<&str> = list.iter().filter_map(|c| c["localID"].as_str()).collect();
            ids.sort_unstable();
            let mut want = expected.to_vec();
            want.sort_unstable();
            ids == want && list.iter().all(|c| c["health"]["state"] == "healthy")
        });
    }

    /// SIGTERM, then the process must exit 0 promptly.
    pub fn terminate(mut self) {
        let sent = Instant::now();
        self.signal(libc::SIGTERM);
        let status = wait_exit(&mut self.child, Duration::from_secs(5));
        eprintln!("exited {:?} after SIGTERM", sent.elapsed());
        let log = self.log();
        let status = status.unwrap_or_else(|| panic!("no exit within 5 s of SIGTERM:\n{log}"));
        assert!(status.success(), "exit status {status}:\n{log}");
        assert!(
            request(self.port, "GET", "/-/ready").is_none(),
            "still listening after exit"
        );
    }
}

impl Drop for Smelter {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
