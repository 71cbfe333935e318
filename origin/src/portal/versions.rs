//! A version of an API in the portal: its status, changelog, every operation with code
//! snippets (a key placeholder here; the real key on the key-created page), and the
//! downloads — the OpenAPI document with `servers` set to the version's URL at the edge,
//! and a Postman v2.1 collection generated from it (core's `postman`).

use super::accounts::page;
use super::catalog::{published_api, ApiCard};
use super::pages::{render, Chrome, PortalError};
use super::session;
use super::PortalSettings;
use crate::admin::version_store::{find_version, spec_text, VersionRow};
use crate::clock::format_rfc3339;
use crate::db::Db;
use crate::routes::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::Value;
use std::sync::Arc;
use tollgate_core::openapi::served::served_document;
use tollgate_core::snippets::{example_request, operations, render_all, KEY_PLACEHOLDER};

/// One snippet as a page shows it.
pub struct SnippetView {
    pub id: String,
    pub label: &'static str,
    pub code: String,
}

/// An operation with its snippets.
pub struct OperationView {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub snippets: Vec<SnippetView>,
}

/// A change in the version's changelog.
pub struct ChangeLine {
    pub breaking: bool,
    pub operation: String,
    pub detail: String,
}

/// A published or deprecated version of a published API, and its document.
pub struct LiveVersion {
    pub api: ApiCard,
    pub row: VersionRow,
    pub doc: Value,
}

impl LiveVersion {
    /// Where the version answers at the edge: `{edge}{base_path}/v{major}`.
    pub fn server_url(&self, edge_url: &str) -> String {
        format!("{edge_url}{}/v{}", self.api.base_path, self.row.major)
    }
}

/// The version, or 404 when the API or version is not public.
pub async fn live_version(
    db: &Db,
    api_id: &str,
    version: &str,
) -> Result<LiveVersion, PortalError> {
    let api = published_api(db, api_id).await?;
    let row = find_version(db, api_id, version)
        .await
        .map_err(|_| PortalError::NotFound("version"))?;
    if !matches!(row.status.as_str(), "published" | "deprecated") {
        return Err(PortalError::NotFound("version"));
    }
    let doc = serde_json::from_str(&spec_text(db, api_id, version).await?).map_err(|e| {
        PortalError::App(crate::error::AppError::Unexpected(
            anyhow::Error::new(e).context("a stored document is not JSON"),
        ))
    })?;
    Ok(LiveVersion { api, row, doc })
}

/// The newest published (else deprecated) version of a published API.
pub async fn newest_version(db: &Db, api: &ApiCard) -> Result<Option<LiveVersion>, PortalError> {
    let newest = api
        .versions
        .iter()
        .rev()
        .find(|v| v.status == "published")
        .or_else(|| api.versions.last());
    match newest {
        Some(v) => Ok(Some(live_version(db, &api.id, &v.version).await?)),
        None => Ok(None),
    }
}

/// Snippets of the API's newest version with `key` filled in (none without a version).
pub async fn key_snippets(
    db: &Db,
    api: &ApiCard,
    edge_url: &str,
    key: &str,
) -> Result<Vec<OperationView>, PortalError> {
    Ok(match newest_version(db, api).await? {
        Some(live) => operation_views(&live.doc, &live.server_url(edge_url), key),
        None => Vec::new(),
    })
}

/// Every operation of `doc` with its snippets against `server_url` with `key`.
pub fn operation_views(doc: &Value, server_url: &str, key: &str) -> Vec<OperationView> {
    operations(doc)
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let request = example_request(doc, server_url, op, key);
            OperationView {
                anchor: format!("op-{i}"),
                method: op.method.clone(),
                path: op.path.clone(),
                summary: op
                    .summary
                    .clone()
                    .or_else(|| op.operation_id.clone())
                    .unwrap_or_default(),
                snippets: render_all(&request)
                    .into_iter()
                    .map(|s| SnippetView {
                        id: format!("op-{i}-{}", s.language.id()),
                        label: s.language.label(),
                        code: s.code,
                    })
                    .collect(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "version.html")]
struct VersionPage {
    chrome: Chrome,
    api: ApiCard,
    version: String,
    status: String,
    title: String,
    server_url: String,
    published_at: Option<String>,
    sunset_at: Option<String>,
    migration_url: Option<String>,
    changelog_from: Option<String>,
    changes: Vec<ChangeLine>,
    operations: Vec<OperationView>,
}

/// `GET /portal/apis/{id}/versions/{version}`.
pub async fn version_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    Path((id, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let live = live_version(&state.db, &id, &version).await?;
    let server_url = live.server_url(&settings.edge_url);
    let changes = live
        .row
        .changelog()?
        .map(|log| {
            log.changes
                .into_iter()
                .map(|c| ChangeLine {
                    breaking: c.breaking,
                    operation: c.operation.unwrap_or_default(),
                    detail: c.detail,
                })
                .collect()
        })
        .unwrap_or_default();
    let operations = operation_views(&live.doc, &server_url, KEY_PLACEHOLDER);
    let LiveVersion { api, row, .. } = live;
    let html = render(&VersionPage {
        chrome: session.chrome(),
        api,
        version: row.version,
        status: row.status,
        title: row.title,
        server_url,
        published_at: row.published_at.map(format_rfc3339),
        sunset_at: row.sunset_at.map(format_rfc3339),
        migration_url: row.migration_url,
        changelog_from: row.changelog_from,
        changes,
        operations,
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

fn download(body: Value, filename: String) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        serde_json::to_string_pretty(&body).unwrap_or_default(),
    )
        .into_response()
}

/// A file name made of the API name and version, letters, digits, `-` and `.` only.
pub fn file_name(name: &str, version: &str, suffix: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("{}-{}{suffix}", clean(name), clean(version))
}

/// `GET /portal/apis/{id}/versions/{version}/openapi.json`: the document, served at the edge.
pub async fn openapi_download(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, PortalError> {
    let live = live_version(&state.db, &id, &version).await?;
    let server_url = live.server_url(&settings.edge_url);
    let doc = served_document(live.doc, &server_url);
    Ok(download(
        doc,
        file_name(&live.api.name, &live.row.version, ".openapi.json"),
    ))
}

/// `GET /portal/apis/{id}/versions/{version}/postman.json`: a Postman v2.1 collection.
pub async fn postman_download(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, PortalError> {
    let live = live_version(&state.db, &id, &version).await?;
    let name = format!("{} {}", live.api.name, live.row.version);
    let collection =
        tollgate_core::postman::collection(&live.doc, &name, &live.server_url(&settings.edge_url));
    Ok(download(
        collection,
        file_name(
            &live.api.name,
            &live.row.version,
            ".postman_collection.json",
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_cannot_break_the_header() {
        assert_eq!(
            file_name("Demo pets", "1.0.0", ".json"),
            "demo-pets-1.0.0.json"
        );
        assert_eq!(file_name("a\"b\r\n;c/..", "1", ".x"), "a-b---c-..-1.x");
    }
}
