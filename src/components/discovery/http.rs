//! `discovery.http`: targets from a Prometheus HTTP-SD endpoint
//! (`http_sd_config`).
//!
//! In the data flow it is a control-plane source: every `refresh_interval`
//! it GETs `url` and exports the target groups of the response as `targets`
//! (each target with `__meta_url` = the configured URL), waking only the
//! components that read them. As Prometheus, the response must be `200`
//! with `Content-Type: application/json` (optionally `; charset=utf-8`) and
//! a JSON list of `{"targets": [...], "labels": {...}}`. Anything else — a
//! connection error, another status, another content type, bad JSON, a body
//! over 10 MiB — makes the component unhealthy and keeps the last targets.
//! Each request also carries Prometheus' `X-Prometheus-Refresh-Interval-Seconds`
//! header and times out after `refresh_interval`.
//!
//! The client is hyper 1 over plain HTTP/1.1. Not supported yet (refused by
//! validation with a message saying so rather than silently ignored):
//! `https` URLs and `tls_config` (TLS is out of scope for now), `oauth2`,
//! and the proxy settings. Supported: `basic_auth` (`password` or
//! `password_file`), `bearer_token`, `bearer_token_file`, `authorization`
//! (`type`, `credentials` or `credentials_file`; files are read on each
//! request, as Prometheus does), `http_headers`, and `follow_redirects`
//! (up to 10 redirects; credentials are only sent to the original host).
//! `enable_http2` is accepted and has no effect (HTTP/1.1 only).
//!
//! New arguments apply at once while running: a new URL or interval
//! re-fetches immediately, abandoning a request still in flight.

use std::collections::BTreeMap;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, LOCATION, USER_AGENT};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::time::{sleep_until, Instant};

use super::{parse_json_groups, targets_value};
use crate::component::args::replace_if_changed;
use crate::component::{
    Args, Build, BuildContext, Component, ComponentError, Exports, Health, Registration,
    RunContext, RunFuture,
};
use crate::components::common::http_client::parse_http_url;
use crate::controller::schema::{http_client_config, Schema};
use crate::syntax::decode::Secret;
use crate::syntax::Value;

/// The label naming the endpoint a target came from.
pub const URL_LABEL: &str = "__meta_url";

/// The largest response body accepted.
pub const MAX_BODY: usize = 10 << 20;

const MAX_REDIRECTS: usize = 10;

pub fn registration() -> Registration {
    Registration {
        name: "discovery.http",
        schema,
        validate,
        build: Build::Task(build),
    }
}

fn schema() -> Schema {
    Schema::new()
        .attr("url", true)
        .attr("refresh_interval", false)
        .squash(http_client_config())
}

use crate::components::common::http_client::Auth;
pub use crate::components::common::http_client::{authorization_header, parse_auth};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arguments {
    pub url: String,
    pub uri: Uri,
    pub refresh_interval: Duration,
    pub auth: Auth,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub follow_redirects: bool,
}

fn unsupported(what: &str) -> ComponentError {
    ComponentError::unsupported("discovery.http", what)
}

impl Arguments {
    pub fn from_value(v: &Value) -> Result<Self, ComponentError> {
        let args = Args::new(v)?;
        let url: String = args.required("url")?;
        let uri = parse_url(&url)?;
        let refresh_interval = args.or("refresh_interval", Duration::from_secs(60))?;
        if refresh_interval.is_zero() {
            return Err(ComponentError::args(
                "refresh_interval must be greater than 0",
            ));
        }
        if args.block("oauth2")?.is_some() {
            return Err(unsupported("oauth2"));
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
        let _enable_http2: bool = args.or("enable_http2", true)?;
        let follow_redirects = args.or("follow_redirects", true)?;

        let auth = parse_auth(&args)?;

        let mut headers = Vec::new();
        let http_headers: BTreeMap<String, Vec<Secret>> =
            args.or("http_headers", BTreeMap::new())?;
        for (name, values) in http_headers {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                ComponentError::args(format!("http_headers: invalid header name {name:?}: {e}"))
            })?;
            for value in values {
                let value = HeaderValue::from_str(value.expose()).map_err(|e| {
                    ComponentError::args(format!("http_headers: invalid value for {name:?}: {e}"))
                })?;
                headers.push((header.clone(), value));
            }
        }
        Ok(Arguments {
            url,
            uri,
            refresh_interval,
            auth,
            headers,
            follow_redirects,
        })
    }
}

fn parse_url(url: &str) -> Result<Uri, ComponentError> {
    parse_http_url(url, "discovery.http")
}

fn validate(v: &Value) -> Result<(), ComponentError> {
    Arguments::from_value(v).map(|_| ())
}

fn build(ctx: BuildContext, v: &Value) -> Result<Box<dyn Component>, ComponentError> {
    let args = Arguments::from_value(v)?;
    // Dependants can evaluate before the first response arrives.
    ctx.exports
        .publish(Value::object([("targets", Value::Array(Vec::new()))]));
    Ok(Box::new(HttpSd {
        id: ctx.id,
        exports: ctx.exports,
        health: ctx.health,
        args,
        client: Client::builder(TokioExecutor::new()).build_http(),
    }))
}

struct HttpSd {
    id: String,
    exports: Exports,
    health: Health,
    args: Arguments,
    client: Client<HttpConnector, Empty<Bytes>>,
}

/// `Content-Type` as Prometheus accepts it:
/// `application/json` with at most a UTF-8 charset parameter.
fn json_content_type(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    let mut parts = value.splitn(2, ';');
    if parts.next() != Some("application/json") {
        return false;
    }
    match parts.next() {
        None => true,
        Some(param) => matches!(param.trim_start(), "charset=utf-8" | "charset=\"utf-8\""),
    }
}

/// Resolve a redirect's `Location` against the URI it came from.
fn resolve(base: &Uri, location: &str) -> Result<Uri, String> {
    let loc: Uri = location
        .parse()
        .map_err(|e| format!("bad redirect location {location:?}: {e}"))?;
    if loc.scheme().is_some() {
        return Ok(loc);
    }
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    let target = if location.starts_with('/') {
        location.to_string()
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{dir}{location}")
    };
    format!("{scheme}://{authority}{target}")
        .parse()
        .map_err(|e| format!("bad redirect location {location:?}: {e}"))
}

impl HttpSd {
    async fn authorization(&self) -> Result<Option<HeaderValue>, String> {
        authorization_header(&self.args.auth).await
    }

    fn request(
        &self,
        uri: &Uri,
        auth: Option<&HeaderValue>,
    ) -> Result<Request<Empty<Bytes>>, String> {
        let mut req = Request::get(uri.clone())
            .header(USER_AGENT, concat!("smelter/", env!("CARGO_PKG_VERSION")))
            .header(
                "X-Prometheus-Refresh-Interval-Seconds",
                self.args.refresh_interval.as_secs_f64().to_string(),
            )
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let headers = req.headers_mut();
        for (name, value) in &self.args.headers {
            headers.append(name.clone(), value.clone());
        }
        if let Some(auth) = auth {
            headers.insert(AUTHORIZATION, auth.clone());
        }
        Ok(req)
    }

    /// One GET, following redirects; the target groups as a `targets` value.
    async fn fetch(&self) -> Result<Value, String> {
        let auth = self.authorization().await?;
        let origin = self.args.uri.authority().cloned();
        let mut uri = self.args.uri.clone();
        let mut redirects = 0;
        let resp = loop {
            let same_host = uri.authority() == origin.as_ref();
            let req = self.request(&uri, if same_host { auth.as_ref() } else { None })?;
            let resp = self.client.request(req).await.map_err(|e| {
                let mut msg = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    msg = format!("{msg}: {s}");
                    source = s.source();
                }
                msg
            })?;
            let status = resp.status();
            if self.args.follow_redirects && status.is_redirection() {
                if let Some(location) = resp.headers().get(LOCATION) {
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        return Err(format!("stopped after {MAX_REDIRECTS} redirects"));
                    }
                    let location = location
                        .to_str()
                        .map_err(|_| "redirect location is not text".to_string())?;
                    uri = resolve(&uri, location)?;
                    if uri.scheme_str() != Some("http") {
                        return Err(format!("redirect to {uri}: only http is supported"));
                    }
                    continue;
                }
            }
            break resp;
        };
        if resp.status() != StatusCode::OK {
            return Err(format!("server returned HTTP status {}", resp.status()));
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if !json_content_type(&content_type) {
            return Err(format!("unsupported content type {content_type:?}"));
        }
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| format!("reading response body: {e}"))?
            .to_bytes();
        let groups = parse_json_groups(&body)?;
        Ok(targets_value(&groups, &[(URL_LABEL, &self.args.url)]))
    }

    async fn refresh(&self) {
        let result = tokio::time::timeout(self.args.refresh_interval, self.fetch()).await;
        match result {
            Ok(Ok(targets)) => {
                let count = match &targets {
                    Value::Array(items) => items.len(),
                    _ => 0,
                };
                self.exports.publish(Value::object([("targets", targets)]));
                self.health.healthy(format!("discovered {count} targets"));
            }
            Ok(Err(err)) => self.fail(err),
            Err(_) => self.fail(format!(
                "request timed out after {:?}",
                self.args.refresh_interval
            )),
        }
    }

    fn fail(&self, err: String) {
        tracing::warn!(component = %self.id, url = %self.args.url, %err, "HTTP service discovery failed");
        self.health
            .unhealthy(format!("refreshing targets from {}: {err}", self.args.url));
    }

    /// Take new arguments; true when they differ from the current ones.
    fn apply(&mut self, v: &Value) -> bool {
        replace_if_changed(&self.id, &mut self.args, Arguments::from_value(v))
    }

    async fn run(mut self, ctx: RunContext) -> Result<(), ComponentError> {
        let RunContext { mut args, cancel } = ctx;
        let latest = args.borrow_and_update().clone();
        self.apply(&latest);
        let mut next = Instant::now();
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
                        next = Instant::now();
                    }
                }
                _ = sleep_until(next) => {
                    // A fetch in flight is abandoned on cancel, and on new
                    // arguments (which are then applied and fetched at once).
                    let fetched = tokio::select! {
                        _ = cancel.cancelled() => break,
                        changed = args.changed(), if args_open => {
                            if changed.is_err() {
                                args_open = false;
                            }
                            false
                        }
                        _ = self.refresh() => true,
                    };
                    if fetched {
                        next = Instant::now() + self.args.refresh_interval;
                    } else if args_open {
                        let latest = args.borrow_and_update().clone();
                        self.apply(&latest);
                    }
                }
            }
        }
        tracing::debug!(component = %self.id, "stopped");
        Ok(())
    }
}

impl Component for HttpSd {
    fn run(self: Box<Self>, ctx: RunContext) -> RunFuture {
        Box::pin((*self).run(ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(json_content_type("application/json"));
        assert!(json_content_type(" Application/JSON; charset=utf-8"));
        assert!(json_content_type("application/json;charset=\"utf-8\""));
        assert!(!json_content_type("text/plain"));
        assert!(!json_content_type("application/json; charset=latin1"));
        assert!(!json_content_type(""));
    }

    #[test]
    fn redirects() {
        let base: Uri = "http://h:1/a/b?x=1".parse().expect("uri");
        assert_eq!(
            resolve(&base, "/c").expect("ok").to_string(),
            "http://h:1/c"
        );
        assert_eq!(
            resolve(&base, "c").expect("ok").to_string(),
            "http://h:1/a/c"
        );
        assert_eq!(
            resolve(&base, "http://o/x").expect("ok").to_string(),
            "http://o/x"
        );
    }

    fn args(fields: Vec<(&str, Value)>) -> Result<Arguments, ComponentError> {
        Arguments::from_value(&Value::object(fields))
    }

    #[test]
    fn arguments() {
        let a = args(vec![("url", Value::string("http://127.0.0.1:1/sd"))]).expect("ok");
        assert_eq!(a.refresh_interval, Duration::from_secs(60));
        assert_eq!(a.auth, Auth::None);
        assert!(args(vec![("url", Value::string("https://x/sd"))]).is_err());
        assert!(args(vec![("url", Value::string("ftp://x/sd"))]).is_err());
        assert!(args(vec![]).is_err());
        let a = args(vec![
            ("url", Value::string("http://x/sd")),
            ("bearer_token", Value::secret("t")),
        ])
        .expect("ok");
        assert_eq!(
            a.auth,
            Auth::Authorization {
                kind: "Bearer".into(),
                credentials: Some(Secret("t".into())),
                credentials_file: None
            }
        );
        assert!(args(vec![
            ("url", Value::string("http://x/sd")),
            ("bearer_token", Value::secret("t")),
            (
                "basic_auth",
                Value::Array(vec![Value::object([("username", Value::string("u"))])])
            ),
        ])
        .is_err());
    }
}
