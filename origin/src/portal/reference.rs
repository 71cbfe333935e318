//! The interactive reference of a version: Swagger UI (npm `swagger-ui-dist`, served from
//! /portal/static) started by a static script, whose try-it calls go through a same-origin
//! proxy of the portal to the edge with the key the developer pastes (keys are stored only
//! as hashes, so the portal cannot fill it in later).
//!
//! Why a proxy and not the browser calling the edge: a `connect-src` to the edge in the
//! portal's CSP plus a CORS policy on every API at the edge would open each API to
//! browser calls from the portal's origin, and change the edge for a portal concern. The
//! proxy keeps the CSP at `connect-src 'self'`, reuses the try-it console's path checks
//! (only paths under the API's base path on the edge), and the edge still authenticates,
//! limits and meters the call like any client's. It answers only signed-in developers and
//! only requests carrying `X-Tollgate-Try: 1` — a header no form or link can send, and one
//! a cross-site script could send only after a CORS preflight the portal never grants.

use super::accounts::page;
use super::pages::{render, Chrome, PortalError};
use super::session;
use super::try_it::edge_target;
use super::versions::live_version;
use super::PortalSettings;
use crate::routes::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use std::collections::HashMap;
use std::sync::Arc;

/// The header every proxied call must carry.
pub const TRY_HEADER: &str = "x-tollgate-try";
/// Request headers passed on to the edge.
const FORWARDED: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT,
    HeaderName::from_static("x-api-key"),
];
/// Most of an answer passed back (the reference shows it; larger bodies are cut).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

#[derive(Template)]
#[template(path = "reference.html")]
struct ReferencePage {
    chrome: Chrome,
    api_id: String,
    api_name: String,
    version: String,
    proxy_url: String,
}

/// `GET /portal/apis/{id}/versions/{version}/reference`.
pub async fn reference_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    Path((id, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let live = live_version(&state.db, &id, &version).await?;
    let html = render(&ReferencePage {
        chrome: session.chrome(),
        proxy_url: format!("/portal/apis/{}/proxy/v{}", live.api.id, live.row.major),
        api_id: live.api.id,
        api_name: live.api.name,
        version: live.row.version,
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

fn refuse(status: StatusCode, detail: &str) -> Response {
    (status, Json(HashMap::from([("detail", detail)]))).into_response()
}

/// `/portal/apis/{id}/proxy/{*path}` (any method): forwards to `{edge}{base_path}/{path}`.
pub async fn proxy(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    Path((id, _)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PortalError> {
    if headers.get(TRY_HEADER).and_then(|v| v.to_str().ok()) != Some("1") {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "Try-it calls come from the portal's interactive reference (X-Tollgate-Try: 1).",
        ));
    }
    let signed_in = session::current(&state.db, &headers)
        .await?
        .is_some_and(|s| s.user.is_some());
    if !signed_in {
        return Ok(refuse(
            StatusCode::UNAUTHORIZED,
            "Log in to the portal to try calls from the reference.",
        ));
    }
    let api = super::catalog::published_api(&state.db, &id).await?;
    // The raw (still percent-encoded) path after the prefix, so the checks see what the
    // edge will see.
    let prefix = format!("/portal/apis/{id}/proxy");
    let Some(rest) = uri.path().strip_prefix(&prefix) else {
        return Err(PortalError::NotFound("API"));
    };
    let path = match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_owned(),
    };
    let url = match edge_target(&settings.edge_url, &api.base_path, &path) {
        Ok(url) => url,
        Err(why) => return Ok(refuse(StatusCode::BAD_REQUEST, &why)),
    };
    let mut request = settings.client.request(method, url);
    for name in FORWARDED {
        if let Some(v) = headers.get(&name) {
            request = request.header(name, v);
        }
    }
    let answer = match request.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!(error = %e, "reference try-it call to the edge failed");
            return Ok(refuse(
                StatusCode::BAD_GATEWAY,
                &format!(
                    "The edge did not answer; is it running at {}?",
                    settings.edge_url
                ),
            ));
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let kind = answer.headers().get(header::CONTENT_TYPE).cloned();
    let mut bytes = answer.bytes().await.unwrap_or_default();
    bytes.truncate(MAX_ANSWER_BYTES);
    let mut response = (status, bytes).into_response();
    if let Some(kind) = kind {
        response.headers_mut().insert(header::CONTENT_TYPE, kind);
    }
    Ok(response)
}
