//! The arguments of `prometheus.remote_write`, decoded from the evaluated
//! block into typed structs with Alloy's defaults and validated once, so the
//! queue and the senders never look at a [`Value`] again.
//!
//! Place in the data flow: the control plane evaluates the block; [`Arguments::from_value`]
//! turns it into one [`EndpointConfig`] per `endpoint` block (what a
//! [`super::Queue`] is opened with) plus the component-wide settings (`wal`,
//! `external_labels`, and smelter's own `ttl` and `max_wal_size`).
//!
//! Accepted but not acted upon yet (documented so a config using them is
//! not refused): `wal { truncate_frequency, min_keepalive_time,
//! max_keepalive_time }` — smelter truncates continuously below the lowest
//! shard position instead of on a timer — and `queue_config.capacity`, which
//! here bounds the samples in flight per shard. Refused with a clear error:
//! TLS (`https`, `tls_config`), `oauth2`, `sigv4`, `azuread`, `google_iam`,
//! proxies, and remote write 2.0.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Uri;

use crate::component::{Args, ComponentError};
use crate::components::common::http_client::parse_http_url;
use crate::components::common::relabel::Rule;
use crate::syntax::decode::Secret;
use crate::syntax::Value;

/// The whole component's arguments.
#[derive(Debug, Clone)]
pub struct Arguments {
    pub external_labels: BTreeMap<String, String>,
    pub endpoints: Vec<EndpointConfig>,
    pub wal: WalArgs,
    /// Samples older than this at append time are dropped (reason `ttl`);
    /// zero disables the check.
    pub ttl: Duration,
    /// Cap on the logical WAL backlog per endpoint, in bytes; the oldest
    /// entries are dropped beyond it (reason `wal_size_cap`).
    pub max_wal_size: Option<u64>,
}

/// The `wal` block (Alloy's keep-alive settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalArgs {
    pub truncate_frequency: Duration,
    pub min_keepalive_time: Duration,
    pub max_keepalive_time: Duration,
}

impl Default for WalArgs {
    fn default() -> Self {
        WalArgs {
            truncate_frequency: Duration::from_secs(2 * 3600),
            min_keepalive_time: Duration::from_secs(300),
            max_keepalive_time: Duration::from_secs(8 * 3600),
        }
    }
}

/// How requests authenticate.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: Secret,
    },
    /// `Authorization: <kind> <credentials>` (also what `bearer_token` is).
    Authorization {
        kind: String,
        credentials: Secret,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => write!(f, "Basic({username:?}, (secret))"),
            Auth::Authorization { kind, .. } => write!(f, "Authorization({kind:?}, (secret))"),
        }
    }
}

impl Auth {
    /// The `Authorization` header value, if any.
    pub fn header(&self) -> Result<Option<HeaderValue>, ComponentError> {
        let raw = match self {
            Auth::None => return Ok(None),
            Auth::Basic { username, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()))
            ),
            Auth::Authorization { kind, credentials } => {
                format!("{kind} {}", credentials.expose())
            }
        };
        let mut v = HeaderValue::from_str(&raw)
            .map_err(|_| ComponentError::args("credentials contain invalid header characters"))?;
        v.set_sensitive(true);
        Ok(Some(v))
    }
}

/// The `queue_config` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Samples in flight per shard (read from the WAL, not yet delivered).
    pub capacity: usize,
    pub min_shards: usize,
    pub max_shards: usize,
    pub max_samples_per_send: usize,
    pub batch_send_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub retry_on_http_429: bool,
    /// Samples older than this when sent are dropped (reason `too_old`);
    /// zero disables the check.
    pub sample_age_limit: Duration,
    /// How often the shard count is reconsidered (`scaling.rs`). Not an
    /// Alloy argument: fixed at 5 s in configurations; tests shorten it.
    pub reshard_interval: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            min_shards: 1,
            max_shards: 50,
            max_samples_per_send: 2000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            retry_on_http_429: true,
            sample_age_limit: Duration::ZERO,
            reshard_interval: Duration::from_secs(5),
        }
    }
}

/// Shards used when the configuration leaves the choice open:
/// `clamp(DEFAULT_SHARDS, min_shards, max_shards)`; more run while an
/// endpoint is behind (`scaling.rs`).
pub const DEFAULT_SHARDS: usize = 4;

impl QueueConfig {
    /// The number of shards this configuration runs while keeping up.
    pub fn shards(&self) -> usize {
        DEFAULT_SHARDS.clamp(self.min_shards, self.max_shards)
    }

    fn validate(&self) -> Result<(), ComponentError> {
        let err = |m: &str| Err(ComponentError::args(format!("queue_config: {m}")));
        if self.min_shards == 0 {
            return err("min_shards must be at least 1");
        }
        if self.max_shards < self.min_shards {
            return err("max_shards must not be less than min_shards");
        }
        if self.max_samples_per_send == 0 {
            return err("max_samples_per_send must be at least 1");
        }
        if self.capacity == 0 {
            return err("capacity must be at least 1");
        }
        if self.batch_send_deadline.is_zero() {
            return err("batch_send_deadline must be greater than 0");
        }
        if self.min_backoff > self.max_backoff {
            return err("min_backoff must not be greater than max_backoff");
        }
        Ok(())
    }
}

/// One `endpoint` block: what one [`super::Queue`] sends to.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// `remote_name` in metrics and the WAL queue's name.
    pub name: String,
    pub url: String,
    pub uri: Uri,
    pub remote_timeout: Duration,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub auth: Auth,
    pub queue: QueueConfig,
    pub write_relabel: Vec<Rule>,
    /// Copied from the component's `external_labels`: added to every series
    /// unless the series already has the label.
    pub external_labels: BTreeMap<String, String>,
    /// `send_exemplars` (Alloy's default: true).
    pub send_exemplars: bool,
}

impl EndpointConfig {
    /// An endpoint with every default, for `url` (tests, benches, tools).
    pub fn new(name: &str, url: &str) -> Result<EndpointConfig, ComponentError> {
        Ok(EndpointConfig {
            name: name.to_owned(),
            url: url.to_owned(),
            uri: parse_url(url)?,
            remote_timeout: Duration::from_secs(30),
            headers: Vec::new(),
            auth: Auth::None,
            queue: QueueConfig::default(),
            write_relabel: Vec::new(),
            external_labels: BTreeMap::new(),
            send_exemplars: true,
        })
    }
}

fn unsupported(what: &str) -> ComponentError {
    ComponentError::unsupported("prometheus.remote_write", what)
}

impl Arguments {
    /// Decodes and validates the evaluated block.
    pub fn from_value(v: &Value) -> Result<Arguments, ComponentError> {
        let args = Args::new(v)?;
        let external_labels: BTreeMap<String, String> =
            args.or("external_labels", BTreeMap::new())?;
        for name in external_labels.keys() {
            if name.is_empty() || name.starts_with("__") {
                return Err(ComponentError::args(format!(
                    "external_labels: invalid label name {name:?}"
                )));
            }
        }
        let wal = match args.block("wal")? {
            None => WalArgs::default(),
            Some(w) => {
                let d = WalArgs::default();
                let wal = WalArgs {
                    truncate_frequency: w.or("truncate_frequency", d.truncate_frequency)?,
                    min_keepalive_time: w.or("min_keepalive_time", d.min_keepalive_time)?,
                    max_keepalive_time: w.or("max_keepalive_time", d.max_keepalive_time)?,
                };
                if wal.truncate_frequency.is_zero() {
                    return Err(ComponentError::args(
                        "wal: truncate_frequency must be greater than 0",
                    ));
                }
                if wal.min_keepalive_time > wal.max_keepalive_time {
                    return Err(ComponentError::args(
                        "wal: min_keepalive_time must be smaller than max_keepalive_time",
                    ));
                }
                wal
            }
        };
        let ttl = args.or("ttl", Duration::ZERO)?;
        let max_wal_size = match args.opt::<Value>("max_wal_size")? {
            None => None,
            Some(v) => Some(parse_size(&v)?),
        };
        let mut endpoints = Vec::new();
        for e in args.blocks("endpoint") {
            endpoints.push(endpoint(e, &external_labels)?);
        }
        let mut names: Vec<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(ComponentError::args(format!(
                "endpoint name {:?} is used more than once",
                w[0]
            )));
        }
        Ok(Arguments {
            external_labels,
            endpoints,
            wal,
            ttl,
            max_wal_size,
        })
    }
}

fn endpoint(
    e: Args<'_>,
    external_labels: &BTreeMap<String, String>,
) -> Result<EndpointConfig, ComponentError> {
    let url: String = e.required("url")?;
    let uri = parse_url(&url)?;
    for block in ["oauth2", "sigv4", "azuread", "google_iam", "tls_config"] {
        if e.block(block)?.is_some() {
            return Err(unsupported(block));
        }
    }
    for attr in [
        "proxy_url",
        "no_proxy",
        "proxy_connect_header",
        "bearer_token_file",
    ] {
        if e.opt::<Value>(attr)?.is_some() {
            return Err(unsupported(attr));
        }
    }
    if e.or("proxy_from_environment", false)? {
        return Err(unsupported("proxy_from_environment"));
    }
    let message: String = e.or("protobuf_message", "prometheus.WriteRequest".to_string())?;
    if message != "prometheus.WriteRequest" {
        return Err(unsupported(&format!("protobuf_message {message:?}")));
    }
    let name = match e.opt::<String>("name")? {
        Some(n) if !n.is_empty() => n,
        // Alloy derives a short hash of the endpoint's config; the URL is
        // what identifies an endpoint across reloads here.
        _ => format!("{:06x}", fnv1a(url.as_bytes()) & 0xff_ffff),
    };
    let remote_timeout = e.or("remote_timeout", Duration::from_secs(30))?;
    if remote_timeout.is_zero() {
        return Err(ComponentError::args(
            "remote_timeout must be greater than 0",
        ));
    }

    let mut headers = Vec::new();
    let plain: BTreeMap<String, String> = e.or("headers", BTreeMap::new())?;
    let secret: BTreeMap<String, Vec<Secret>> = e.or("http_headers", BTreeMap::new())?;
    let all = plain
        .into_iter()
        .map(|(k, v)| (k, vec![Secret(v)]))
        .chain(secret);
    for (name, values) in all {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
            ComponentError::args(format!("headers: invalid header name {name:?}: {e}"))
        })?;
        for value in values {
            let value = HeaderValue::from_str(value.expose()).map_err(|e| {
                ComponentError::args(format!("headers: invalid value for {name:?}: {e}"))
            })?;
            headers.push((header.clone(), value));
        }
    }

    let bearer: Option<Secret> = e.opt("bearer_token")?;
    let basic = e.block("basic_auth")?;
    let authorization = e.block("authorization")?;
    let configured = [bearer.is_some(), basic.is_some(), authorization.is_some()];
    if configured.iter().filter(|b| **b).count() > 1 {
        return Err(ComponentError::args(
            "at most one of basic_auth, authorization & bearer_token must be configured",
        ));
    }
    let auth = if let Some(b) = basic {
        if b.opt::<Value>("password_file")?.is_some() {
            return Err(unsupported("basic_auth password_file"));
        }
        Auth::Basic {
            username: b.or("username", String::new())?,
            password: b.or("password", Secret::default())?,
        }
    } else if let Some(a) = authorization {
        if a.opt::<Value>("credentials_file")?.is_some() {
            return Err(unsupported("authorization credentials_file"));
        }
        let kind: String = a.or("type", String::new())?;
        let kind = match kind.trim() {
            "" => "Bearer".to_string(),
            k if k.eq_ignore_ascii_case("basic") => {
                return Err(ComponentError::args(
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
                ))
            }
            k => k.to_string(),
        };
        Auth::Authorization {
            kind,
            credentials: a.or("credentials", Secret::default())?,
        }
    } else if let Some(token) = bearer {
        Auth::Authorization {
            kind: "Bearer".into(),
            credentials: token,
        }
    } else {
        Auth::None
    };
    auth.header()?;

    let d = QueueConfig::default();
    let queue = match e.block("queue_config")? {
        None => d,
        Some(q) => QueueConfig {
            capacity: q.or("capacity", d.capacity)?,
            min_shards: q.or("min_shards", d.min_shards)?,
            max_shards: q.or("max_shards", d.max_shards)?,
            max_samples_per_send: q.or("max_samples_per_send", d.max_samples_per_send)?,
            batch_send_deadline: q.or("batch_send_deadline", d.batch_send_deadline)?,
            min_backoff: q.or("min_backoff", d.min_backoff)?,
            max_backoff: q.or("max_backoff", d.max_backoff)?,
            retry_on_http_429: q.or("retry_on_http_429", d.retry_on_http_429)?,
            sample_age_limit: q.or("sample_age_limit", d.sample_age_limit)?,
            reshard_interval: d.reshard_interval,
        },
    };
    queue.validate()?;

    let write_relabel: Vec<Rule> = match e.opt::<Value>("write_relabel_config")? {
        None => Vec::new(),
        Some(v) => {
            <Vec<Rule> as crate::syntax::decode::FromValue>::from_value(&v).map_err(|err| {
                ComponentError::args(format!("write_relabel_config {}", err.message()))
            })?
        }
    };
    for rule in &write_relabel {
        rule.validate()
            .map_err(|m| ComponentError::args(format!("write_relabel_config: {m}")))?;
    }
    Ok(EndpointConfig {
        name,
        url,
        uri,
        remote_timeout,
        headers,
        auth,
        queue,
        write_relabel,
        external_labels: external_labels.clone(),
        send_exemplars: e.opt("send_exemplars")?.unwrap_or(true),
    })
}

/// FNV-1a: a stable, dependency-free hash for default endpoint names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn parse_url(url: &str) -> Result<Uri, ComponentError> {
    parse_http_url(url, "prometheus.remote_write")
}

/// `max_wal_size`: a number of bytes, or a string with a unit
/// (`"512MiB"`, `"2GB"`, `"100KB"`, `"1024"`).
pub fn parse_size(v: &Value) -> Result<u64, ComponentError> {
    let bad = |s: &str| ComponentError::args(format!("max_wal_size {s:?} is not a size"));
    let s = match v {
        Value::Number(_) => {
            return <u64 as crate::syntax::decode::FromValue>::from_value(v)
                .map_err(|e| ComponentError::args(format!("max_wal_size {}", e.message())))
        }
        Value::String(s) => s.trim(),
        other => {
            return Err(ComponentError::args(format!(
                "max_wal_size must be a number or a string, got {}",
                other.value_type()
            )))
        }
    };
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().map_err(|_| bad(s))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return Err(bad(s)),
    };
    Ok((num * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(fields: Vec<(&str, Value)>) -> Value {
        Value::Array(vec![Value::object(fields)])
    }

    #[test]
    fn defaults_and_validation() {
        let v = Value::object([(
            "endpoint",
            block(vec![(
                "url",
                Value::string("http://127.0.0.1:9090/api/v1/write"),
            )]),
        )]);
        let a = Arguments::from_value(&v).expect("valid");
        let e = &a.endpoints[0];
        assert_eq!(e.queue, QueueConfig::default());
        assert_eq!(e.queue.shards(), 4);
        assert_eq!(e.remote_timeout, Duration::from_secs(30));
        assert_eq!(e.name.len(), 6);
        assert_eq!(a.wal, WalArgs::default());

        let v = Value::object([
            ("ttl", Value::string("1h")),
            ("max_wal_size", Value::string("512MiB")),
            (
                "external_labels",
                Value::object([("cluster", Value::string("a"))]),
            ),
            (
                "endpoint",
                block(vec![
                    ("url", Value::string("http://x/w")),
                    ("name", Value::string("primary")),
                    ("bearer_token", Value::secret("t")),
                    (
                        "queue_config",
                        block(vec![
                            ("max_shards", Value::int(2)),
                            ("min_backoff", Value::string("10ms")),
                            ("retry_on_http_429", Value::Bool(false)),
                        ]),
                    ),
                    (
                        "write_relabel_config",
                        Value::Array(vec![Value::object([
                            ("action", Value::string("drop")),
                            ("source_labels", Value::Array(vec![Value::string("job")])),
                            ("regex", Value::string("x")),
                        ])]),
                    ),
                ]),
            ),
        ]);
        let a = Arguments::from_value(&v).expect("valid");
        assert_eq!(a.ttl, Duration::from_secs(3600));
        assert_eq!(a.max_wal_size, Some(512 << 20));
        let e = &a.endpoints[0];
        assert_eq!(e.name, "primary");
        assert_eq!(e.queue.shards(), 2);
        assert!(!e.queue.retry_on_http_429);
        assert_eq!(e.write_relabel.len(), 1);
        assert_eq!(
            e.external_labels.get("cluster").map(String::as_str),
            Some("a")
        );
        assert!(format!("{:?}", e.auth).contains("(secret)"));

        for bad in [
            vec![("url", Value::string("https://x/w"))],
            vec![("url", Value::string("nope"))],
            vec![
                ("url", Value::string("http://x/w")),
                ("queue_config", block(vec![("min_shards", Value::int(0))])),
            ],
            vec![
                ("url", Value::string("http://x/w")),
                (
                    "queue_config",
                    block(vec![
                        ("min_backoff", Value::string("10s")),
                        ("max_backoff", Value::string("1s")),
                    ]),
                ),
            ],
            vec![
                ("url", Value::string("http://x/w")),
                ("bearer_token", Value::secret("t")),
                ("basic_auth", block(vec![("username", Value::string("u"))])),
            ],
        ] {
            let v = Value::object([("endpoint", block(bad))]);
            assert!(Arguments::from_value(&v).is_err(), "{v:?}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size(&Value::int(10)).ok(), Some(10));
        assert_eq!(parse_size(&Value::string("2GB")).ok(), Some(2_000_000_000));
        assert_eq!(parse_size(&Value::string("1.5KiB")).ok(), Some(1536));
        assert!(parse_size(&Value::string("lots")).is_err());
    }
}
