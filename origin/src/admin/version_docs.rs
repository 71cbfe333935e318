//! What a version documents: its OpenAPI document, its changelog against the previous
//! version (stored at import) or against any other version (`?from=`, computed on
//! demand), and the migration guide draft in Markdown.

use crate::admin::version_store::{bump_name, diff_specs, find_api, find_version, spec_text};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Path, Query};
use crate::routes::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tollgate_core::changelog::{Change, Changelog};
use utoipa::{IntoParams, ToSchema};

/// The changelog of a version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionChangelog {
    pub api_id: String,
    /// The version compared against; `null` for the first version (no changes).
    pub from: Option<String>,
    pub to: String,
    pub breaking: usize,
    pub non_breaking: usize,
    /// `major`, `minor` or `patch`.
    pub required_bump: String,
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<Change>,
    /// Markdown draft for callers; `null` for the first version.
    pub migration_guide: Option<String>,
}

/// Query of the changelog endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangelogQuery {
    /// Compare against this version instead of the previous one.
    pub from: Option<String>,
}

/// The version's OpenAPI document, as JSON.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/versions/{version}/spec",
    tag = "versions",
    params(("id" = String, Path, description = "API id"), ("version" = String, Path, description = "Semantic version")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such API or version", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_version_spec(
    State(state): State<AppState>,
    Path((api_id, version)): Path<(String, String)>,
) -> Result<Response, AppError> {
    find_api(&state.db, &api_id).await?;
    let text = spec_text(&state.db, &api_id, &version).await?;
    Ok(([(CONTENT_TYPE, "application/json")], text).into_response())
}

/// What changed since the previous version (or `from`), each change classified.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/versions/{version}/changelog",
    tag = "versions",
    params(("id" = String, Path, description = "API id"), ("version" = String, Path, description = "Semantic version"), ChangelogQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The changelog", body = VersionChangelog),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such API or version", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_version_changelog(
    State(state): State<AppState>,
    Path((api_id, version)): Path<(String, String)>,
    Query(query): Query<ChangelogQuery>,
) -> Result<axum::Json<VersionChangelog>, AppError> {
    Ok(axum::Json(
        changelog(&state, &api_id, &version, query.from).await?,
    ))
}

async fn changelog(
    state: &AppState,
    api_id: &str,
    version: &str,
    from: Option<String>,
) -> Result<VersionChangelog, AppError> {
    let (api_name, _) = find_api(&state.db, api_id).await?;
    let row = find_version(&state.db, api_id, version).await?;
    let (from, log, guide) = match from {
        Some(from) => {
            let old = spec_text(&state.db, api_id, &from).await?;
            let new = spec_text(&state.db, api_id, version).await?;
            let diffed =
                diff_specs(api_name, (from.clone(), old), (version.to_owned(), new)).await?;
            (Some(from), diffed.changelog, Some(diffed.guide))
        }
        None => {
            let guide: Option<(Option<String>,)> = sqlx::query_as(
                "SELECT migration_guide FROM api_versions WHERE api_id = $1 AND version = $2",
            )
            .bind(api_id)
            .bind(version)
            .fetch_optional(&state.db)
            .await?;
            let log = row.changelog()?.unwrap_or_default();
            (row.changelog_from.clone(), log, guide.and_then(|(g,)| g))
        }
    };
    let log: Changelog = log;
    Ok(VersionChangelog {
        api_id: api_id.to_owned(),
        from,
        to: version.to_owned(),
        breaking: log.breaking,
        non_breaking: log.non_breaking,
        required_bump: bump_name(log.required_bump()).into(),
        changes: log.changes,
        migration_guide: guide,
    })
}

/// The migration guide draft from the previous version (or `from`), as Markdown.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/versions/{version}/migration-guide",
    tag = "versions",
    params(("id" = String, Path, description = "API id"), ("version" = String, Path, description = "Semantic version"), ChangelogQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Markdown", content_type = "text/markdown", body = String),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such API or version, or it is the first version", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_migration_guide(
    State(state): State<AppState>,
    Path((api_id, version)): Path<(String, String)>,
    Query(query): Query<ChangelogQuery>,
) -> Result<Response, AppError> {
    let log = changelog(&state, &api_id, &version, query.from).await?;
    let guide = log.migration_guide.ok_or_else(|| AppError::NotFound {
        what: "migration guide (the first version has none) of version",
        id: version.clone(),
    })?;
    Ok(([(CONTENT_TYPE, "text/markdown; charset=utf-8")], guide).into_response())
}
