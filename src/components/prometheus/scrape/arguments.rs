//! The typed, validated arguments of `prometheus.scrape`.
//!
//! In the data flow the control plane evaluates the component's block into a
//! [`Value`]; [`Arguments::from_value`] reads it (Alloy's names and
//! defaults), rejects what smelter cannot do with a message saying so, and
//! hands the engine one immutable value per configuration. The engine
//! compares successive [`Arguments`] to decide which scrape loops to keep.

use std::collections::BTreeMap;
use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue};
use smelter_storage::exposition::Format;

use crate::component::{Args, ComponentError};
use crate::components::common::http_client::{parse_auth, Auth};
use crate::syntax::decode::Secret;
use crate::syntax::Value;

/// Largest decompressed body read when `body_size_limit` is 0 ("no limit"):
/// a hostile target must not exhaust memory (see DESIGN.md, "Bad input").
pub const HARD_BODY_LIMIT: u64 = 256 << 20;

/// A protocol of `scrape_protocols`, negotiated through `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    PrometheusProto,
    PrometheusText0_0_4,
    PrometheusText1_0_0,
    OpenMetricsText0_0_1,
    OpenMetricsText1_0_0,
}

impl Protocol {
    /// Parses Alloy's / Prometheus' name of a protocol.
    pub fn parse(s: &str) -> Option<Protocol> {
        Some(match s {
            "PrometheusProto" => Protocol::PrometheusProto,
            "PrometheusText0.0.4" => Protocol::PrometheusText0_0_4,
            "PrometheusText1.0.0" => Protocol::PrometheusText1_0_0,
            "OpenMetricsText0.0.1" => Protocol::OpenMetricsText0_0_1,
            "OpenMetricsText1.0.0" => Protocol::OpenMetricsText1_0_0,
            _ => return None,
        })
    }

    /// The media type sent in `Accept` (Prometheus' `ScrapeProtocolsHeaders`,
    /// without UTF-8 escaping: names are validated the legacy way).
    pub fn media_type(self) -> &'static str {
        match self {
            Protocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            Protocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            Protocol::PrometheusText1_0_0 => "text/plain;version=1.0.0",
            Protocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            Protocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
        }
    }

    /// The text format this protocol is parsed with; `None` for protobuf.
    pub fn format(self) -> Option<Format> {
        match self {
            Protocol::PrometheusProto => None,
            Protocol::PrometheusText0_0_4 | Protocol::PrometheusText1_0_0 => {
                Some(Format::PrometheusText)
            }
            Protocol::OpenMetricsText0_0_1 | Protocol::OpenMetricsText1_0_0 => {
                Some(Format::OpenMetrics)
            }
        }
    }
}

/// Alloy's default `scrape_protocols`.
pub const DEFAULT_PROTOCOLS: [Protocol; 4] = [
    Protocol::OpenMetricsText1_0_0,
    Protocol::OpenMetricsText0_0_1,
    Protocol::PrometheusText1_0_0,
    Protocol::PrometheusText0_0_4,
];

/// The `Accept` header for `protocols`, weighted in order of preference as
/// Prometheus does (`…;q=0.5,…,*/*;q=0.1`). Protobuf is not supported and
/// is left out, so such a preference falls back to the text formats.
pub fn accept_header(protocols: &[Protocol]) -> String {
    let text: Vec<Protocol> = protocols
        .iter()
        .copied()
        .filter(|p| p.format().is_some())
        .collect();
    let mut weight = text.len() + 1;
    let mut parts = Vec::with_capacity(text.len() + 1);
    for p in text {
        parts.push(format!("{};q=0.{weight}", p.media_type()));
        weight -= 1;
    }
    parts.push(format!("*/*;q=0.{weight}"));
    parts.join(",")
}

/// Settings that shape how a page becomes samples (shared by every target).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits {
    /// More samples than this fails the scrape; 0 = no limit.
    pub sample_limit: u64,
    /// More labels on one series than this fails the scrape; 0 = no limit.
    pub label_limit: u64,
    /// A longer label name fails the scrape; 0 = no limit.
    pub label_name_length_limit: u64,
    /// A longer label value fails the scrape; 0 = no limit.
    pub label_value_length_limit: u64,
    /// A larger decompressed body fails the scrape; 0 = no limit (capped at
    /// [`HARD_BODY_LIMIT`] anyway).
    pub body_size_limit: u64,
}

/// The arguments of `prometheus.scrape`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arguments {
    /// Discovered targets, each a label map (`__address__` required).
    pub targets: Vec<BTreeMap<String, String>>,
    pub job_name: String,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub metrics_path: String,
    pub scheme: String,
    pub params: BTreeMap<String, Vec<String>>,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    pub limits: Limits,
    pub auth: Auth,
    pub http_headers: Vec<(HeaderName, HeaderValue)>,
    /// Send `Accept-Encoding: gzip` (`enable_compression`).
    pub enable_compression: bool,
    /// In order of preference; protobuf entries are ignored.
    pub scrape_protocols: Vec<Protocol>,
    /// Format of a page without a usable `Content-Type`.
    pub fallback_format: Format,
}

fn unsupported(what: &str) -> ComponentError {
    ComponentError::unsupported("prometheus.scrape", what)
}

impl Arguments {
    /// Arguments with Alloy's defaults for job `job_name` and no targets.
    pub fn new(job_name: impl Into<String>) -> Self {
        Arguments {
            targets: Vec::new(),
            job_name: job_name.into(),
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            metrics_path: "/metrics".to_string(),
            scheme: "http".to_string(),
            params: BTreeMap::new(),
            honor_labels: false,
            honor_timestamps: true,
            track_timestamps_staleness: false,
            limits: Limits::default(),
            auth: Auth::None,
            http_headers: Vec::new(),
            enable_compression: true,
            scrape_protocols: DEFAULT_PROTOCOLS.to_vec(),
            fallback_format: Format::PrometheusText,
        }
    }

    /// Reads and validates the evaluated block of component `component_id`
    /// (the default `job_name`). `forward_to` is not read here: the data
    /// plane turns it into the [`Appender`](super::Appender).
    pub fn from_value(v: &Value, component_id: &str) -> Result<Self, ComponentError> {
        let args = Args::new(v)?;
        let d = Arguments::new(component_id);
        let targets: Vec<BTreeMap<String, String>> = args.required("targets")?;
        let job_name = args.or("job_name", d.job_name)?;
        let scrape_interval = args.or("scrape_interval", d.scrape_interval)?;
        let scrape_timeout = args.or("scrape_timeout", d.scrape_timeout)?;
        if scrape_interval.is_zero() {
            return Err(ComponentError::args(
                "scrape_interval must be greater than 0",
            ));
        }
        if scrape_timeout.is_zero() {
            return Err(ComponentError::args(
                "scrape_timeout must be greater than 0",
            ));
        }
        if scrape_timeout > scrape_interval {
            return Err(ComponentError::args(format!(
                "scrape_timeout ({scrape_timeout:?}) greater than scrape_interval ({scrape_interval:?})"
            )));
        }
        let metrics_path: String = args.or("metrics_path", d.metrics_path)?;
        if !metrics_path.starts_with('/') {
            return Err(ComponentError::args(format!(
                "metrics_path {metrics_path:?} must start with \"/\""
            )));
        }
        let scheme: String = args.or("scheme", d.scheme)?;
        match scheme.as_str() {
            "http" => {}
            "https" => return Err(unsupported("scheme \"https\" (TLS)")),
            other => {
                return Err(ComponentError::args(format!(
                    "scheme must be \"http\" or \"https\", got {other:?}"
                )))
            }
        }
        if args.block("tls_config")?.is_some() {
            return Err(unsupported("tls_config (TLS)"));
        }
        for proxy in ["proxy_url", "no_proxy", "proxy_connect_header"] {
            if args.opt::<Value>(proxy)?.is_some() {
                return Err(unsupported(proxy));
            }
        }
        if args.or("proxy_from_environment", false)? {
            return Err(unsupported("proxy_from_environment"));
        }
        if args
            .block("clustering")?
            .is_some_and(|c| c.opt::<bool>("enabled").ok().flatten().unwrap_or(false))
        {
            return Err(unsupported("clustering"));
        }
        if args.or("scrape_native_histograms", false)? {
            return Err(unsupported("scrape_native_histograms"));
        }
        let params = args.or("params", BTreeMap::new())?;
        let limits = Limits {
            sample_limit: args.or("sample_limit", 0)?,
            label_limit: args.or("label_limit", 0)?,
            label_name_length_limit: args.or("label_name_length_limit", 0)?,
            label_value_length_limit: args.or("label_value_length_limit", 0)?,
            body_size_limit: args.or("body_size_limit", 0)?,
        };
        if args.block("oauth2")?.is_some() {
            return Err(unsupported("oauth2"));
        }
        let auth = parse_auth(&args)?;
        let mut http_headers = Vec::new();
        let headers: BTreeMap<String, Vec<Secret>> = args.or("http_headers", BTreeMap::new())?;
        for (name, values) in headers {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                ComponentError::args(format!("http_headers: invalid header name {name:?}: {e}"))
            })?;
            for value in values {
                let mut value = HeaderValue::from_str(value.expose()).map_err(|e| {
                    ComponentError::args(format!("http_headers: invalid value for {name:?}: {e}"))
                })?;
                value.set_sensitive(true);
                http_headers.push((header.clone(), value));
            }
        }
        let protobuf: bool = args.or("enable_protobuf_negotiation", false)?;
        let scrape_protocols = match args.opt::<Vec<String>>("scrape_protocols")? {
            Some(names) => {
                if names.is_empty() {
                    return Err(ComponentError::args("scrape_protocols cannot be empty"));
                }
                let mut protocols = Vec::with_capacity(names.len());
                for name in names {
                    let p = Protocol::parse(&name).ok_or_else(|| {
                        ComponentError::args(format!("unknown scrape protocol {name:?}"))
                    })?;
                    if protocols.contains(&p) {
                        return Err(ComponentError::args(format!(
                            "duplicated protocol in scrape_protocols: {name:?}"
                        )));
                    }
                    protocols.push(p);
                }
                protocols
            }
            None if protobuf => {
                // Alloy's mapping of the deprecated flag; protobuf itself is
                // not spoken, so negotiation falls back to text.
                vec![
                    Protocol::PrometheusProto,
                    Protocol::OpenMetricsText1_0_0,
                    Protocol::OpenMetricsText0_0_1,
                    Protocol::PrometheusText0_0_4,
                ]
            }
            None => d.scrape_protocols,
        };
        if scrape_protocols.contains(&Protocol::PrometheusProto) {
            tracing::warn!(
                job = %job_name,
                "protobuf scrape protocol requested but not supported; negotiating text formats"
            );
        }
        let fallback_format = match args.opt::<String>("scrape_fallback_protocol")? {
            None => d.fallback_format,
            Some(name) => Protocol::parse(&name)
                .ok_or_else(|| {
                    ComponentError::args(format!("unknown scrape_fallback_protocol {name:?}"))
                })?
                .format()
                .ok_or_else(|| unsupported("scrape_fallback_protocol \"PrometheusProto\""))?,
        };
        Ok(Arguments {
            targets,
            job_name,
            scrape_interval,
            scrape_timeout,
            metrics_path,
            scheme,
            params,
            honor_labels: args.or("honor_labels", false)?,
            honor_timestamps: args.or("honor_timestamps", true)?,
            track_timestamps_staleness: args.or("track_timestamps_staleness", false)?,
            limits,
            auth,
            http_headers,
            enable_compression: args.or("enable_compression", true)?,
            scrape_protocols,
            fallback_format,
        })
    }

    /// The `Accept` header scrapes send.
    pub fn accept_header(&self) -> String {
        accept_header(&self.scrape_protocols)
    }
}
