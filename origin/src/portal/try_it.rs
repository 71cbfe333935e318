//! The try-it console, server-side: the origin calls the edge with the developer's key and
//! shows the answer. Server-side rather than a browser `fetch` because it needs no CORS
//! policy on the API and no `connect-src` hole in the CSP, works without JavaScript, and
//! the edge still authenticates, limits and meters the call exactly like any client's.

use super::accounts::page;
use super::catalog::{published_api, ApiCard};
use super::pages::{render, Chrome, PortalError};
use super::session;
use super::PortalSettings;
use crate::routes::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use url::Url;

/// Most of an answer's body shown.
const MAX_SHOWN_BYTES: usize = 64 * 1024;

/// The edge URL for `path` under an API's base path: only paths that stay on the edge
/// (no scheme, authority, `..`, backslash or control characters).
pub fn edge_target(edge_url: &str, base_path: &str, path: &str) -> Result<Url, String> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err("The path must start with a single `/`.".into());
    }
    if path.len() > 2000
        || path
            .chars()
            .any(|c| c.is_control() || c == '\\' || c == ' ')
    {
        return Err("The path must be at most 2000 characters, without spaces, backslashes or control characters.".into());
    }
    let route = path.split(['?', '#']).next().unwrap_or("");
    if route.split('/').any(|seg| {
        let lower = seg.to_ascii_lowercase();
        seg == ".." || seg == "." || lower.contains("%2e") || lower.contains("%2f")
    }) {
        return Err(
            "The path must not contain `.` or `..` segments or encoded dots and slashes.".into(),
        );
    }
    let edge = Url::parse(edge_url).map_err(|e| format!("TOLLGATE_EDGE_URL is not a URL: {e}"))?;
    let url = Url::parse(&format!(
        "{}{base_path}{path}",
        edge_url.trim_end_matches('/')
    ))
    .map_err(|e| format!("That path does not make a URL: {e}"))?;
    let same = url.scheme() == edge.scheme()
        && url.host() == edge.host()
        && url.port_or_known_default() == edge.port_or_known_default();
    if !same {
        return Err("The path must stay on the edge.".into());
    }
    Ok(url)
}

#[derive(Template)]
#[template(path = "try_result.html")]
struct TryResultPage {
    chrome: Chrome,
    api: ApiCard,
    url: String,
    status: String,
    success: bool,
    elapsed_ms: u128,
    body: String,
    edge_url: String,
    try_key: String,
    try_path: String,
}

fn pretty(body: &[u8]) -> String {
    let shown = &body[..body.len().min(MAX_SHOWN_BYTES)];
    match serde_json::from_slice::<serde_json::Value>(shown) {
        Ok(json) => serde_json::to_string_pretty(&json).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(shown).into_owned(),
    }
}

/// `POST /portal/try`: calls `GET {edge}{base_path}{path}` with the key and shows the answer.
pub async fn try_call(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    session.user()?;
    let get = |n: &str| form.get(n).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (api_id, key, path) = (get("api_id"), get("key"), get("path"));
    let api = published_api(&state.db, &api_id).await?;
    let url =
        edge_target(&settings.edge_url, &api.base_path, &path).map_err(PortalError::BadRequest)?;
    if key.is_empty() || key.len() > 512 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(PortalError::BadRequest(
            "Paste one of your keys (it starts with `tg_`).".into(),
        ));
    }
    let started = Instant::now();
    let answer = settings
        .client
        .get(url.clone())
        .bearer_auth(&key)
        .send()
        .await;
    let (status, success, body) = match answer {
        Ok(response) => {
            let status = response.status();
            let text = format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            );
            let bytes = response.bytes().await.unwrap_or_default();
            (text, status.is_success(), pretty(&bytes))
        }
        Err(e) => {
            tracing::warn!(error = %e, "try-it call to the edge failed");
            (
                "The edge did not answer".to_owned(),
                false,
                format!("Is the edge running at {}?", settings.edge_url),
            )
        }
    };
    let elapsed_ms = started.elapsed().as_millis();
    let html = render(&TryResultPage {
        chrome: session.chrome(),
        api,
        url: url.to_string(),
        status,
        success,
        elapsed_ms,
        body,
        edge_url: settings.edge_url.clone(),
        try_key: key,
        try_path: path,
    })?;
    Ok(page(StatusCode::OK, None, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_on_the_edge_under_the_base_path() {
        let edge = "http://127.0.0.1:8787";
        let url = edge_target(edge, "/demo", "/hello?name=x").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8787/demo/hello?name=x");
        for hostile in [
            "hello",
            "//evil.example/x",
            "/../admin",
            "/a/%2e%2e/b",
            "/a%2fb",
            "/a\\b",
            "/a b",
            "/@evil.example",
            "/a\r\nHost: x",
        ] {
            let r = edge_target(edge, "/demo", hostile);
            if let Ok(url) = &r {
                assert_eq!(url.host_str(), Some("127.0.0.1"), "{hostile}");
                assert!(url.path().starts_with("/demo/"), "{hostile} -> {url}");
            }
        }
        assert!(edge_target(edge, "/demo", "/../x").is_err());
        assert!(edge_target(edge, "/demo", "//evil.example").is_err());
    }
}
