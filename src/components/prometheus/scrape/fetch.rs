//! The HTTP side of a scrape: one GET of a target's page.
//!
//! In the data flow this is the first step of every scrape loop iteration,
//! on tokio with hyper 1 (plain HTTP/1.1, a pooled client shared by the
//! component's loops). As Prometheus' `targetScraper`: `Accept` lists the
//! negotiated formats (OpenMetrics preferred, text fallback),
//! `Accept-Encoding: gzip` unless compression is disabled,
//! `X-Prometheus-Scrape-Timeout-Seconds` tells the target its budget, any
//! status but 200 fails the scrape, a gzip body is decompressed with
//! `flate2`, and a body over `body_size_limit` (after decompression) fails
//! the scrape. The format comes from `Content-Type`, falling back to the
//! configured fallback format. The caller applies the timeout.

use std::io::Read;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{
    HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT,
};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use smelter_storage::exposition::Format;

use super::arguments::HARD_BODY_LIMIT;

/// The HTTP client all loops of one engine share.
pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// A new pooled HTTP/1.1 client.
///
/// Each pooled connection keeps its read buffer, and hyper's adaptive buffer
/// grows towards ~400 KiB while a large page streams in: with 100 targets of
/// ≈ 200 KiB pages that was 26 MB held by idle connections (heaptrack, see
/// `benches/MEMORY.md`). Capped at [`READ_BUF_MAX`] (a 64 KiB cap still
/// left 6.5 MB there); a page is read in more, smaller reads, and a
/// response head must fit in the cap.
pub fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new())
        .http1_max_buf_size(READ_BUF_MAX)
        .build_http()
}

/// Upper bound of a scrape connection's read buffer (and so of a response head).
pub const READ_BUF_MAX: usize = 16 << 10;

/// What one GET needs.
#[derive(Debug, Clone)]
pub struct FetchRequest<'a> {
    pub url: &'a Uri,
    pub accept: &'a HeaderValue,
    pub compression: bool,
    pub timeout_seconds: f64,
    pub authorization: Option<HeaderValue>,
    pub headers: &'a [(hyper::header::HeaderName, HeaderValue)],
    /// 0 = no limit (then [`HARD_BODY_LIMIT`]).
    pub body_size_limit: u64,
    pub fallback_format: Format,
}

/// A fetched page.
#[derive(Debug)]
pub struct Page {
    /// The (decompressed) body; the received buffer itself when the body
    /// came uncompressed in one piece, not a copy of it.
    pub body: Bytes,
    pub format: Format,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Request(String),
    #[error("server returned HTTP status {0}")]
    Status(StatusCode),
    #[error("body size limit exceeded: more than {0} bytes")]
    BodySizeLimit(u64),
    #[error("decompressing gzip body: {0}")]
    Gzip(String),
    #[error("unsupported content encoding {0:?}")]
    Encoding(String),
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

/// GETs one page.
pub async fn fetch(client: &HttpClient, req: FetchRequest<'_>) -> Result<Page, FetchError> {
    let limit = match req.body_size_limit {
        0 => HARD_BODY_LIMIT,
        l => l.min(HARD_BODY_LIMIT),
    };
    let mut builder = Request::get(req.url.clone())
        .header(ACCEPT, req.accept.clone())
        .header(USER_AGENT, concat!("smelter/", env!("CARGO_PKG_VERSION")))
        .header(
            "X-Prometheus-Scrape-Timeout-Seconds",
            req.timeout_seconds.to_string(),
        );
    builder = builder.header(
        ACCEPT_ENCODING,
        if req.compression { "gzip" } else { "identity" },
    );
    let mut request = builder
        .body(Empty::new())
        .map_err(|e| FetchError::Request(e.to_string()))?;
    let headers = request.headers_mut();
    for (name, value) in req.headers {
        headers.append(name.clone(), value.clone());
    }
    if let Some(auth) = req.authorization {
        headers.insert(AUTHORIZATION, auth);
    }
    let resp = client
        .request(request)
        .await
        .map_err(|e| FetchError::Request(error_chain(&e)))?;
    if resp.status() != StatusCode::OK {
        return Err(FetchError::Status(resp.status()));
    }
    let format = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Format::from_content_type)
        .unwrap_or(req.fallback_format);
    let encoding = resp
        .headers()
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let gzip = match encoding.as_str() {
        "" | "identity" => false,
        "gzip" | "x-gzip" => true,
        other => return Err(FetchError::Encoding(other.to_string())),
    };
    // The wire body is capped too: a compressed body is rarely larger than
    // its content, so allow some slack over the limit before decompressing.
    let wire_cap = if gzip {
        limit.saturating_add(limit / 8 + 4096)
    } else {
        limit.saturating_add(1)
    };
    let wire = Limited::new(
        resp.into_body(),
        usize::try_from(wire_cap).unwrap_or(usize::MAX),
    )
    .collect()
    .await
    .map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            FetchError::BodySizeLimit(limit)
        } else {
            FetchError::Request(format!("reading body: {}", error_chain(&*e)))
        }
    })?
    .to_bytes();
    let body = if gzip {
        let mut out = Vec::with_capacity(wire.len().saturating_mul(4).min(limit as usize + 1));
        flate2::read::MultiGzDecoder::new(&wire[..])
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| FetchError::Gzip(e.to_string()))?;
        Bytes::from(out)
    } else {
        wire
    };
    if body.len() as u64 > limit {
        return Err(FetchError::BodySizeLimit(limit));
    }
    Ok(Page { body, format })
}
