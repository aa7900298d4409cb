//! A loopback HTTP server on hyper that answers each request with a function of the test's:
//! the stand-in for AppSync Events' publish endpoint, and how a handler of ours is put where
//! the emulator's Event Grid deliveries can reach it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// A request the stub received: its target (path and query), headers (lower-cased names) and
/// body.
pub struct Received {
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// What the stub answers a request with: a status and a JSON body.
pub type Respond =
    Arc<dyn Fn(Received) -> Pin<Box<dyn Future<Output = (u16, String)> + Send>> + Send + Sync>;

/// A running stub; it serves until the test's runtime ends.
pub struct Stub {
    pub addr: SocketAddr,
}

impl Stub {
    pub async fn start(respond: Respond) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let respond = respond.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(respond.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr }
    }

    /// The stub's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn answer(
    respond: Respond,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
    let (status, text) = respond(Received {
        target,
        headers,
        body,
    })
    .await;
    let response = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(text)))
        .unwrap();
    Ok(response)
}
