//! Versions of an API (`/admin/v1/apis/{id}/versions`): importing an OpenAPI document as
//! a new draft version, listing and reading them. Importing stores the changelog against
//! the previous version (and refreshes the next version's, if one was inserted between),
//! and bumps the config version because the edge reserves `/v{major}` for every version.

use crate::admin::fields;
use crate::admin::spec_upload::{read_upload, CreateVersion, UploadQuery, MAX_SPEC_BYTES};
use crate::admin::version_store::{
    diff_specs, find_api, find_version, list_versions, spec_text, ApiVersion,
};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Path, Query};
use crate::routes::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Extension;
use sha2::Digest;
use tollgate_core::openapi::SourceFormat;
use tollgate_core::version::parse_version;

fn text_of(spec: &serde_json::Value, pointer: &str) -> String {
    spec.pointer(pointer)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Imports an OpenAPI 3.0/3.1 document as a new draft version.
#[utoipa::path(
    post,
    path = "/admin/v1/apis/{id}/versions",
    tag = "versions",
    params(("id" = String, Path, description = "API id"), UploadQuery),
    request_body(
        description = "The document as `application/yaml` (also `application/x-yaml`, `text/yaml`) or `application/json` \
                       (version from the query or `info.version`), or a JSON wrapper `CreateVersion`. At most 10 MiB.",
        content(
            (CreateVersion = "application/json"),
            (String = "application/yaml"),
        )
    ),
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created as a draft", body = ApiVersion),
        (status = 400, description = "The JSON wrapper is not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "This version already exists", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 10 MiB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor YAML", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid document (every error in `errors`, with JSON pointer and line/column) or member", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_version(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(api_id): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, axum::Json<ApiVersion>), AppError> {
    let (api_name, base_path) = find_api(&state.db, &api_id).await?;
    let body = Bytes::from_request(request, &()).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge {
                limit: MAX_SPEC_BYTES,
            }
        } else {
            AppError::Malformed(r.body_text())
        }
    })?;
    let upload = tokio::task::spawn_blocking(move || read_upload(&headers, &body, query))
        .await
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("reading upload")))??;
    let raw_version = upload
        .version
        .clone()
        .unwrap_or_else(|| text_of(&upload.spec, "/info/version"));
    let number = parse_version(&raw_version).map_err(|e| {
        let hint = if upload.version.is_none() {
            " (taken from info.version; pass `version` to override)"
        } else {
            ""
        };
        AppError::invalid("version", format!("{e}{hint}"))
    })?;
    let version = number.to_string();
    let upstream_url = upload
        .upstream_url
        .as_deref()
        .map(|u| fields::http_url("upstream_url", u))
        .transpose()?;
    let spec_json = serde_json::to_string(&upload.spec)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding spec")))?;
    let existing = list_versions(&state.db, &api_id).await?;
    if existing.iter().any(|v| v.version == version) {
        return Err(AppError::Conflict(format!(
            "API `{api_id}` already has version {version}"
        )));
    }
    let position = |v: &str| parse_version(v).ok();
    let previous = existing
        .iter()
        .rev()
        .find(|v| position(&v.version) < Some(number.clone()))
        .map(|v| v.version.clone());
    let next = existing
        .iter()
        .find(|v| position(&v.version) > Some(number.clone()))
        .map(|v| v.version.clone());
    let mine = match &previous {
        Some(prev) => {
            let text = spec_text(&state.db, &api_id, prev).await?;
            Some(
                diff_specs(
                    api_name.clone(),
                    (prev.clone(), text),
                    (version.clone(), spec_json.clone()),
                )
                .await?,
            )
        }
        None => None,
    };
    let theirs = match &next {
        Some(next) => {
            let text = spec_text(&state.db, &api_id, next).await?;
            Some(
                diff_specs(
                    api_name.clone(),
                    (version.clone(), spec_json.clone()),
                    (next.clone(), text),
                )
                .await?,
            )
        }
        None => None,
    };
    let now = now_ms();
    let format = match upload.format {
        SourceFormat::Json => "json",
        SourceFormat::Yaml => "yaml",
    };
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query(
        "INSERT INTO api_versions (api_id, version, major, status, upstream_url, openapi, title, spec_format, spec, \
         changelog_from, changelog_json, migration_guide, created_at, updated_at) \
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&api_id)
    .bind(&version)
    .bind(i64::try_from(number.major).unwrap_or(i64::MAX))
    .bind(&upstream_url)
    .bind(text_of(&upload.spec, "/openapi"))
    .bind(text_of(&upload.spec, "/info/title"))
    .bind(format)
    .bind(&spec_json)
    .bind(mine.as_ref().and(previous.as_ref()))
    .bind(mine.as_ref().map(|d| d.json.clone()))
    .bind(mine.as_ref().map(|d| d.guide.clone()))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if fields::is_unique_violation(&e) {
            AppError::Conflict(format!("API `{api_id}` already has version {version}"))
        } else {
            e.into()
        }
    })?;
    if let (Some(next), Some(diffed)) = (&next, &theirs) {
        sqlx::query(
            "UPDATE api_versions SET changelog_from = $1, changelog_json = $2, migration_guide = $3 \
             WHERE api_id = $4 AND version = $5",
        )
        .bind(&version)
        .bind(&diffed.json)
        .bind(&diffed.guide)
        .bind(&api_id)
        .bind(next)
        .execute(&mut *tx)
        .await?;
    }
    config_version::bump(&mut *tx).await?;
    // The spec itself can be megabytes: the trail records its digest, not its text.
    let target = format!("{api_id}@{version}");
    let after = serde_json::json!({
        "version": version, "status": "draft", "upstream_url": upstream_url,
        "spec_sha256": hex::encode(sha2::Sha256::digest(spec_json.as_bytes())),
    });
    let change = audit::Change {
        action: "version.create",
        target_type: "api_version",
        target_id: &target,
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(%api_id, %version, "api version imported");
    let row = find_version(&state.db, &api_id, &version).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(row.into_version(&base_path)?),
    ))
}

/// Every version of an API, oldest first (by semantic version).
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/versions",
    tag = "versions",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The versions", body = Vec<ApiVersion>),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_api_versions(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
) -> Result<axum::Json<Vec<ApiVersion>>, AppError> {
    let (_, base_path) = find_api(&state.db, &api_id).await?;
    let rows = list_versions(&state.db, &api_id).await?;
    let versions = rows
        .into_iter()
        .map(|r| r.into_version(&base_path))
        .collect::<Result<_, _>>()?;
    Ok(axum::Json(versions))
}

/// One version of an API.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/versions/{version}",
    tag = "versions",
    params(("id" = String, Path, description = "API id"), ("version" = String, Path, description = "Semantic version, e.g. `1.2.0`")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The version", body = ApiVersion),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such API or version", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_api_version(
    State(state): State<AppState>,
    Path((api_id, version)): Path<(String, String)>,
) -> Result<axum::Json<ApiVersion>, AppError> {
    let (_, base_path) = find_api(&state.db, &api_id).await?;
    let row = find_version(&state.db, &api_id, &version).await?;
    Ok(axum::Json(row.into_version(&base_path)?))
}
