//! Signed calls from the edge to the origin's edge API (docs/EDGE_API.md).

use crate::config::{now_ms, EdgeConfig};
use futures_util::future::{select, Either};
use std::future::Future;
use tollgate_core::edge_auth::{sign_edge_request, EDGE_SIGNATURE_HEADER};
use tollgate_core::snapshot::etag_for_version;
use tollgate_core::{KeyHash, KeyRecord};
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit, Response};

/// What the origin said about the snapshot.
pub enum SnapshotAnswer {
    Unchanged,
    /// The snapshot JSON and its version.
    Changed(String, u64),
}

/// Runs `fut`, giving up after `ms` milliseconds.
pub async fn with_timeout<T>(ms: u64, fut: impl Future<Output = T>) -> Option<T> {
    let fut = std::pin::pin!(fut);
    let delay = Delay::from(std::time::Duration::from_millis(ms));
    match select(fut, delay).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(_) => None,
    }
}

async fn signed_get(
    cfg: &EdgeConfig,
    path: &str,
    extra: &[(&str, &str)],
) -> Result<Response, String> {
    let headers = Headers::new();
    let sig = sign_edge_request(cfg.edge_secret.as_bytes(), now_ms() / 1_000, "GET", path);
    headers
        .set(EDGE_SIGNATURE_HEADER, &sig)
        .map_err(|e| e.to_string())?;
    for (k, v) in extra {
        headers.set(k, v).map_err(|e| e.to_string())?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = Request::new_with_init(&format!("{}{path}", cfg.origin_url), &init)
        .map_err(|e| e.to_string())?;
    match with_timeout(cfg.origin_timeout_ms, Fetch::Request(req).send()).await {
        Some(Ok(resp)) => Ok(resp),
        Some(Err(e)) => Err(format!("origin unreachable: {e}")),
        None => Err("origin timed out".into()),
    }
}

/// Asks the origin for the snapshot unless it still has `have_version`.
pub async fn fetch_snapshot(
    cfg: &EdgeConfig,
    have_version: Option<u64>,
) -> Result<SnapshotAnswer, String> {
    let etag = have_version.map(etag_for_version);
    let extra: Vec<(&str, &str)> = etag.iter().map(|e| ("if-none-match", e.as_str())).collect();
    let mut resp = signed_get(cfg, "/edge/v1/snapshot", &extra).await?;
    match resp.status_code() {
        304 => Ok(SnapshotAnswer::Unchanged),
        200 => {
            let body = resp.text().await.map_err(|e| e.to_string())?;
            let snapshot: tollgate_core::ConfigSnapshot = serde_json::from_str(&body)
                .map_err(|e| format!("origin sent an unreadable snapshot: {e}"))?;
            Ok(SnapshotAnswer::Changed(body, snapshot.version))
        }
        s => Err(format!("origin answered the snapshot request with {s}")),
    }
}

/// Looks a key up by hash: `Ok(None)` when the origin does not know it.
pub async fn lookup_key(cfg: &EdgeConfig, hash: &KeyHash) -> Result<Option<KeyRecord>, String> {
    let mut resp = signed_get(cfg, &format!("/edge/v1/keys/{hash}"), &[]).await?;
    match resp.status_code() {
        200 => {
            let record: KeyRecord = resp
                .json()
                .await
                .map_err(|e| format!("unreadable key record: {e}"))?;
            // The origin found it by this hash; check anyway, in constant time.
            Ok(record.key_hash.ct_eq(hash).then_some(record))
        }
        404 => Ok(None),
        s => Err(format!("origin answered the key look-up with {s}")),
    }
}
