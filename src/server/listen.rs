//! Turning `--server.http.listen-addr` into a listening socket.
//!
//! The CLI hands the flag's text here before the controller loads anything,
//! so that a typo or a port already taken fails at once with a message that
//! names the flag, instead of a bare OS error later.

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Why [`bind`] failed.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("invalid --server.http.listen-addr {addr:?}: {reason} (expected host:port, e.g. 127.0.0.1:12345)")]
    Invalid { addr: String, reason: String },
    #[error(
        "cannot listen on {addr}: address already in use (is another smelter or Alloy running?)"
    )]
    InUse { addr: String },
    #[error("cannot listen on {addr}: {source}")]
    Io {
        addr: String,
        #[source]
        source: io::Error,
    },
}

/// Listen on `addr` as Alloy's `--server.http.listen-addr` takes it:
/// `host:port`, `[v6]:port`, or `:port` for every interface. A host name is
/// resolved and the first address that binds is used.
pub async fn bind(addr: &str) -> Result<TcpListener, BindError> {
    let invalid = |reason: &str| BindError::Invalid {
        addr: addr.to_string(),
        reason: reason.to_string(),
    };
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| invalid("missing port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| invalid(&format!("port {port:?} is not a number from 0 to 65535")))?;
    let host = match host {
        "" => "0.0.0.0",
        h if h.starts_with('[') => h
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .ok_or_else(|| invalid("unbalanced brackets around the IPv6 address"))?,
        h if h.contains(':') => return Err(invalid("an IPv6 address must be in brackets")),
        h => h,
    };
    let candidates: Vec<SocketAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| invalid(&format!("cannot resolve host {host:?}: {e}")))?
            .collect(),
    };
    let mut last = None;
    for candidate in candidates {
        match TcpListener::bind(candidate).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some((candidate, e)),
        }
    }
    match last {
        Some((a, e)) if e.kind() == io::ErrorKind::AddrInUse => Err(BindError::InUse {
            addr: a.to_string(),
        }),
        Some((a, e)) => Err(BindError::Io {
            addr: a.to_string(),
            source: e,
        }),
        None => Err(invalid(&format!("host {host:?} has no addresses"))),
    }
}
