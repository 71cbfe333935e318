//! `tollgate demo-upstream`: a tiny echo server standing in for a real upstream in the
//! tour and in tests. For any method and path it answers 200 with what it received, so a
//! test can see exactly what the edge forwarded (headers, query, body digest).

use crate::error::problem_response;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::future::Future;
use tokio::net::TcpListener;
use tollgate_core::{Problem, ProblemKind};

/// Largest body echoed (bodies of 10 MB must pass).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Bodies below this size that are UTF-8 are echoed as text too.
pub const ECHO_TEXT_BELOW: usize = 64 * 1024;

/// The echo service.
pub fn router() -> Router {
    Router::new()
        .fallback(echo)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn echo(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            let mut response =
                Json(describe(&parts.method, &parts.uri, &parts.headers, &bytes)).into_response();
            response
                .headers_mut()
                .insert("x-upstream", HeaderValue::from_static("demo"));
            response
        }
        Err(_) => problem_response(&Problem::new(
            ProblemKind::PayloadTooLarge,
            format!("the demo upstream echoes bodies up to {MAX_BODY_BYTES} bytes"),
        )),
    }
}

/// The echo document for one request.
pub fn describe(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Value {
    let mut echoed = Map::new();
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        echoed.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
    }
    let text = (body.len() < ECHO_TEXT_BELOW)
        .then(|| std::str::from_utf8(body).ok())
        .flatten();
    json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query().unwrap_or(""),
        "headers": echoed,
        "body_bytes": body.len(),
        "body_sha256": hex::encode(Sha256::digest(body)),
        "body": text,
    })
}

/// Serves the echo on an already bound listener until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds `addr`, announces it on stdout and serves until `shutdown`.
pub async fn run(
    addr: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("binding the demo upstream to {addr}: {e}"))?;
    println!(
        "tollgate demo upstream listening on http://{}",
        listener.local_addr()?
    );
    serve(listener, shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_method_path_query_headers_and_body() {
        let mut headers = HeaderMap::new();
        headers.insert("X-Thing", HeaderValue::from_static("1"));
        headers.append("x-thing", HeaderValue::from_static("2"));
        let uri: Uri = "/a/b?c=d".parse().unwrap();
        let v = describe(&Method::POST, &uri, &headers, &Bytes::from_static(b"hi"));
        assert_eq!(v["method"], "POST");
        assert_eq!(v["path"], "/a/b");
        assert_eq!(v["query"], "c=d");
        assert_eq!(v["headers"]["x-thing"], "1, 2");
        assert_eq!(v["body_bytes"], 2);
        assert_eq!(v["body"], "hi");
        assert_eq!(
            v["body_sha256"],
            "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"
        );
    }

    #[test]
    fn binary_or_large_bodies_are_not_echoed_as_text() {
        let uri: Uri = "/".parse().unwrap();
        let binary = describe(
            &Method::PUT,
            &uri,
            &HeaderMap::new(),
            &Bytes::from_static(&[0xff, 0xfe]),
        );
        assert!(binary["body"].is_null());
        let large = Bytes::from(vec![b'a'; ECHO_TEXT_BELOW]);
        let v = describe(&Method::PUT, &uri, &HeaderMap::new(), &large);
        assert!(v["body"].is_null());
        assert_eq!(v["body_bytes"], ECHO_TEXT_BELOW);
    }
}
