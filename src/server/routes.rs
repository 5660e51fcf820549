//! The server's endpoints, one small function each, and the router.
//!
//! | Path | Methods | Answer |
//! |---|---|---|
//! | `/-/ready` | GET, HEAD | 200 `smelter is ready.` / 503 `smelter is not ready.` |
//! | `/-/healthy` | GET, HEAD | 200 `All smelter components are healthy.` / 500 `unhealthy components: a, b` |
//! | `/-/reload` | GET, POST | 200 `config reloaded` / 400 + the diagnostics |
//! | `/metrics` | GET, HEAD | [`crate::metrics`] + per-component counters; OpenMetrics if asked for, else Prometheus text |
//! | `/api/v0/web/components` | GET, HEAD | JSON array of components, without arguments/exports |
//! | `/api/v0/web/components/{id}` | GET, HEAD | one component with arguments/exports; 404 if unknown |
//!
//! Text answers end with a newline, as Alloy's do. A known path with another
//! method gets 405 with `Allow` (as Alloy's router); any other path gets 404.
//! No endpoint uses a request body; one is drained (so the connection can be
//! kept alive) up to [`MAX_REQUEST_BODY_BYTES`], beyond which the answer is 413.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use tracing::{error, info, warn};

use super::{ComponentInfo, Controller};
use crate::component::HealthState;
use crate::metrics::Format;

/// The largest request body the server accepts (and throws away).
pub const MAX_REQUEST_BODY_BYTES: usize = 64 * 1024;

const COMPONENTS_PATH: &str = "/api/v0/web/components";
const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

type Resp = Response<Full<Bytes>>;

/// Answer one request.
pub(super) async fn handle<B>(req: Request<B>, ctl: &dyn Controller) -> Resp
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (parts, body) = req.into_parts();
    if let Err(resp) = drain_body(&parts.headers, body).await {
        return resp;
    }
    let path = parts.uri.path();
    let Some(allowed) = allowed_methods(path) else {
        return text(StatusCode::NOT_FOUND, "404 page not found");
    };
    if !allowed.contains(&parts.method) {
        return method_not_allowed(allowed);
    }
    match path {
        "/-/ready" => ready(ctl),
        "/-/healthy" => healthy(ctl),
        "/-/reload" => reload(ctl).await,
        "/metrics" => metrics(ctl, &parts.headers),
        COMPONENTS_PATH => components(ctl),
        p => component(ctl, &p[COMPONENTS_PATH.len() + 1..]),
    }
}

const READ: &[Method] = &[Method::GET, Method::HEAD];
const RELOAD: &[Method] = &[Method::GET, Method::POST];

/// The methods a known path answers; `None` for an unknown path.
fn allowed_methods(path: &str) -> Option<&'static [Method]> {
    match path {
        "/-/ready" | "/-/healthy" | "/metrics" | COMPONENTS_PATH => Some(READ),
        "/-/reload" => Some(RELOAD),
        p => match p.strip_prefix(COMPONENTS_PATH)?.strip_prefix('/') {
            Some(id) if !id.is_empty() => Some(READ),
            _ => None,
        },
    }
}

fn ready(ctl: &dyn Controller) -> Resp {
    if ctl.ready() {
        text(StatusCode::OK, "smelter is ready.")
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "smelter is not ready.")
    }
}

/// Components whose state is `unhealthy` fail the check; `exited` ones do
/// not (as in Alloy).
fn healthy(ctl: &dyn Controller) -> Resp {
    let unhealthy: Vec<String> = ctl
        .components()
        .into_iter()
        .filter(|c| c.health.state == HealthState::Unhealthy)
        .map(|c| c.local_id)
        .collect();
    if unhealthy.is_empty() {
        text(StatusCode::OK, "All smelter components are healthy.")
    } else {
        text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("unhealthy components: {}", unhealthy.join(", ")),
        )
    }
}

async fn reload(ctl: &dyn Controller) -> Resp {
    info!("reloading the configuration (requested over HTTP)");
    match ctl.reload().await {
        Ok(()) => text(StatusCode::OK, "config reloaded"),
        Err(diagnostics) => {
            warn!(error = %diagnostics, "failed to reload config");
            text(StatusCode::BAD_REQUEST, &diagnostics)
        }
    }
}

fn metrics(ctl: &dyn Controller, headers: &hyper::HeaderMap) -> Resp {
    let wants_openmetrics = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let (format, content_type) = if wants_openmetrics {
        (Format::OpenMetrics, OPENMETRICS)
    } else {
        (Format::PrometheusText, PROMETHEUS_TEXT)
    };
    match crate::metrics::render(&ctl.components(), format) {
        Ok(body) => respond(StatusCode::OK, content_type, body.into()),
        Err(e) => {
            error!(error = %e, "encoding metrics failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "encoding metrics failed")
        }
    }
}

fn components(ctl: &dyn Controller) -> Resp {
    let list: Vec<ComponentInfo> = ctl
        .components()
        .into_iter()
        .map(|mut c| {
            c.arguments = None;
            c.exports = None;
            c
        })
        .collect();
    json(&list)
}

fn component(ctl: &dyn Controller, raw_id: &str) -> Resp {
    let id = percent_decode_str(raw_id).decode_utf8_lossy();
    match ctl.component(&id) {
        Some(c) => json(&c),
        None => text(
            StatusCode::NOT_FOUND,
            &format!("component {id:?} does not exist"),
        ),
    }
}

/// Read and discard the request body, refusing one over the cap.
async fn drain_body<B>(headers: &hyper::HeaderMap, body: B) -> Result<(), Resp>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body larger than {MAX_REQUEST_BODY_BYTES} bytes"),
        )
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BODY_BYTES as u64) {
        return Err(too_large());
    }
    match Limited::new(body, MAX_REQUEST_BODY_BYTES).collect().await {
        Ok(_) => Ok(()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) => Err(text(
            StatusCode::BAD_REQUEST,
            &format!("reading request body: {e}"),
        )),
    }
}

fn method_not_allowed(allowed: &[Method]) -> Resp {
    let list = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    if let Ok(v) = HeaderValue::from_str(&list) {
        resp.headers_mut().insert(ALLOW, v);
    }
    resp
}

fn json<T: serde::Serialize>(value: &T) -> Resp {
    match serde_json::to_vec(value) {
        Ok(body) => respond(StatusCode::OK, JSON, body.into()),
        Err(e) => {
            error!(error = %e, "encoding JSON failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "encoding JSON failed")
        }
    }
}

fn text(status: StatusCode, body: &str) -> Resp {
    let mut s = String::with_capacity(body.len() + 1);
    s.push_str(body);
    if !s.ends_with('\n') {
        s.push('\n');
    }
    respond(status, TEXT, s.into())
}

fn respond(status: StatusCode, content_type: &'static str, body: Bytes) -> Resp {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
