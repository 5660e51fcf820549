//! HTTP client settings shared by the components that make requests
//! (`discovery.http`, `prometheus.scrape`, `prometheus.remote_write`): the
//! endpoint URL, and `basic_auth`, `bearer_token`, `bearer_token_file` and
//! `authorization` as in Prometheus' `HTTPClientConfig`.
//!
//! In the data flow the settings are read once from a component's arguments
//! (conflicts are refused with Prometheus' messages) and turned into an
//! `Authorization` header before each request. Credential files are read on
//! every request, as Prometheus does, so rotated tokens are picked up.

use base64::Engine as _;
use hyper::header::HeaderValue;
use hyper::Uri;

use crate::component::{Args, ComponentError};
use crate::syntax::decode::Secret;

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic {
        username: String,
        password: Option<Secret>,
        password_file: Option<String>,
    },
    /// `authorization`, `bearer_token` or `bearer_token_file`.
    Authorization {
        kind: String,
        credentials: Option<Secret>,
        credentials_file: Option<String>,
    },
}

/// Reads the authentication settings of a block body.
pub fn parse_auth(args: &Args<'_>) -> Result<Auth, ComponentError> {
    let bearer_token: Option<Secret> = args.opt("bearer_token")?;
    let bearer_token_file: Option<String> = args.opt("bearer_token_file")?;
    let basic = args.block("basic_auth")?;
    let authorization = args.block("authorization")?;
    if bearer_token.is_some() && bearer_token_file.is_some() {
        return Err(ComponentError::args(
            "at most one of bearer_token & bearer_token_file must be configured",
        ));
    }
    let bearer = bearer_token.is_some() || bearer_token_file.is_some();
    if basic.is_some() && bearer {
        return Err(ComponentError::args(
            "at most one of basic_auth, bearer_token & bearer_token_file must be configured",
        ));
    }
    if authorization.is_some() && bearer {
        return Err(ComponentError::args(
            "at most one of bearer_token, bearer_token_file & authorization must be configured",
        ));
    }
    if authorization.is_some() && basic.is_some() {
        return Err(ComponentError::args(
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ));
    }
    let auth = if let Some(b) = basic {
        let password: Option<Secret> = b.opt("password")?;
        let password_file: Option<String> = b.opt("password_file")?;
        if password.is_some() && password_file.is_some() {
            return Err(ComponentError::args(
                "at most one of basic_auth password & password_file must be configured",
            ));
        }
        Auth::Basic {
            username: b.or("username", String::new())?,
            password,
            password_file,
        }
    } else if let Some(a) = authorization {
        let kind = a.or("type", String::new())?;
        let kind = if kind.trim().is_empty() {
            "Bearer".to_string()
        } else {
            kind.trim().to_string()
        };
        if kind.eq_ignore_ascii_case("basic") {
            return Err(ComponentError::args(
                "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
            ));
        }
        let credentials: Option<Secret> = a.opt("credentials")?;
        let credentials_file: Option<String> = a.opt("credentials_file")?;
        if credentials.is_some() && credentials_file.is_some() {
            return Err(ComponentError::args(
                "at most one of authorization credentials & credentials_file must be configured",
            ));
        }
        Auth::Authorization {
            kind,
            credentials,
            credentials_file,
        }
    } else if bearer {
        Auth::Authorization {
            kind: "Bearer".to_string(),
            credentials: bearer_token,
            credentials_file: bearer_token_file,
        }
    } else {
        Auth::None
    };
    Ok(auth)
}

async fn read_secret_file(path: &str) -> Result<String, String> {
    tokio::fs::read_to_string(path)
        .await
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("unable to read {path}: {e}"))
}

/// The `Authorization` header for `auth`, marked sensitive so it never
/// prints.
pub async fn authorization_header(auth: &Auth) -> Result<Option<HeaderValue>, String> {
    let value = match auth {
        Auth::None => return Ok(None),
        Auth::Basic {
            username,
            password,
            password_file,
        } => {
            let password = match (password, password_file) {
                (Some(p), _) => p.expose().to_string(),
                (None, Some(file)) => read_secret_file(file).await?,
                (None, None) => String::new(),
            };
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            format!("Basic {encoded}")
        }
        Auth::Authorization {
            kind,
            credentials,
            credentials_file,
        } => {
            let credentials = match (credentials, credentials_file) {
                (Some(c), _) => c.expose().to_string(),
                (None, Some(file)) => read_secret_file(file).await?,
                (None, None) => String::new(),
            };
            format!("{kind} {credentials}")
        }
    };
    let mut value = HeaderValue::from_str(&value)
        .map_err(|_| "credentials are not a valid header value".to_string())?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// An endpoint URL: plain `http` with a host (TLS is not implemented yet, so
/// `https` is refused naming `component`).
pub fn parse_http_url(url: &str, component: &str) -> Result<Uri, ComponentError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| ComponentError::args(format!("url {url:?} is not valid: {e}")))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => return Err(ComponentError::unsupported(component, "https (TLS)")),
        _ => {
            return Err(ComponentError::args(format!(
                "url {url:?} must be an http URL"
            )))
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(ComponentError::args(format!("url {url:?} has no host")));
    }
    Ok(uri)
}
