//! The accept loop shared by the benchmark's own HTTP servers (scrape
//! targets and the remote-write receiver): serve one loopback listener until
//! cancelled, then drop every open connection with it.
//!
//! Place in the data flow: [`super::targets`] and [`super::receiver`] hand it
//! a listener and a request handler; cancelling is how a target stops and
//! how the receiver becomes unreachable during an outage.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::BenchError;

/// Binds a listener on `addr` (port 0: one the kernel picks).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, BenchError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| BenchError::io(format!("listening on {addr}"), e))
}

/// A plain-text response.
pub fn reply(status: StatusCode, message: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(message.into()));
    *response.status_mut() = status;
    response
}

/// Serves `listener` with `handler` until `cancel` fires; open connections
/// are aborted when it returns, so a client sees its connection reset.
pub async fn serve<H, F>(listener: TcpListener, cancel: CancellationToken, handler: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let builder = auto::Builder::new(TokioExecutor::new());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors or similar: back off, keep serving.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                let handler = handler.clone();
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                connections.spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "bench connection ended with an error");
                    }
                });
            }
        }
    }
    connections.shutdown().await;
}
