//! A remote-write receiver for benchmarks: a hyper server on 127.0.0.1 that
//! decodes every body for real (`smelter_storage::remote_write`) and counts
//! the samples; it can be stopped (the port refuses connections, as a
//! receiver that is down) and started again on the same port.

// Each bench uses a part of it.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::task::JoinHandle;

/// The receiver; its counter survives stops and starts.
pub struct CountingReceiver {
    pub samples: Arc<AtomicU64>,
    pub addr: SocketAddr,
    server: Option<JoinHandle<()>>,
}

impl CountingReceiver {
    /// Starts on a free port.
    pub async fn start() -> CountingReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let samples = Arc::new(AtomicU64::new(0));
        let server = Some(tokio::spawn(serve(listener, samples.clone())));
        CountingReceiver {
            samples,
            addr,
            server,
        }
    }

    pub fn count(&self) -> u64 {
        self.samples.load(Ordering::Acquire)
    }

    /// Stops accepting; open connections are dropped with the server task.
    pub fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn resume(&mut self) {
        self.stop();
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("rebind");
        self.server = Some(tokio::spawn(serve(listener, self.samples.clone())));
    }
}

async fn serve(listener: tokio::net::TcpListener, count: Arc<AtomicU64>) {
    let mut connections = tokio::task::JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        let count = count.clone();
        connections.spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let count = count.clone();
                async move {
                    let body = req.into_body().collect().await.map(|b| b.to_bytes());
                    let status = match body
                        .ok()
                        .and_then(|b| smelter_storage::remote_write::decode(&b, 32 << 20).ok())
                    {
                        Some(batch) => {
                            count.fetch_add(batch.sample_count() as u64, Ordering::AcqRel);
                            StatusCode::NO_CONTENT
                        }
                        None => StatusCode::BAD_REQUEST,
                    };
                    Ok::<_, Infallible>(
                        Response::builder()
                            .status(status)
                            .body(Full::new(Bytes::new()))
                            .expect("response"),
                    )
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
