//! Moving a version through its lifecycle: `POST …/versions/{v}/publish`, `…/deprecate`
//! (with a sunset date and a migration link or note) and `…/retire`. The rules are
//! `tollgate_core::version::transition`; a step the current status does not allow is a
//! 409. Each step bumps the config version in the same transaction, and the update only
//! applies if the status is still the one read, so two racing steps cannot both win.

use crate::admin::fields;
use crate::admin::version_store::{find_api, find_version, ApiVersion};
use crate::audit::{self, Actor};
use crate::clock::{now_ms, parse_rfc3339};
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::routes::AppState;
use axum::extract::State;
use axum::Extension;
use serde::Deserialize;
use tollgate_core::version::{transition, Transition};
use utoipa::ToSchema;

/// Longest migration note accepted.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// Body of `POST …/versions/{version}/deprecate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeprecateVersion {
    /// When the version may stop answering: RFC 3339 (`2027-01-31T00:00:00Z`) or a date
    /// (`2027-01-31`, midnight UTC); must be in the future. Sent as `Sunset`.
    pub sunset: String,
    /// The migration guide, sent as `Link: <…>; rel="deprecation"`.
    #[serde(default)]
    pub migration_url: Option<String>,
    /// What callers should do, in Markdown. A URL or a note (or both) is required.
    #[serde(default)]
    pub migration_note: Option<String>,
}

/// Changes made along with a status.
#[derive(Default)]
struct Extra {
    sunset_at: Option<i64>,
    migration_url: Option<String>,
    migration_note: Option<String>,
}

async fn step(
    state: &AppState,
    actor: &Actor,
    api_id: &str,
    version: &str,
    to: Transition,
    extra: Extra,
) -> Result<ApiVersion, AppError> {
    let (_, base_path) = find_api(&state.db, api_id).await?;
    let row = find_version(&state.db, api_id, version).await?;
    let from = row.status()?;
    let next =
        transition(from, to).map_err(|e| AppError::Conflict(format!("version {version}: {e}")))?;
    let stamp = match to {
        Transition::Publish => "published_at",
        Transition::Deprecate => "deprecated_at",
        Transition::Retire => "retired_at",
    };
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let done = sqlx::query(&format!(
        "UPDATE api_versions SET status = $1, {stamp} = $2, updated_at = $2, \
         sunset_at = COALESCE($3, sunset_at), migration_url = COALESCE($4, migration_url), \
         migration_note = COALESCE($5, migration_note) \
         WHERE api_id = $6 AND version = $7 AND status = $8"
    ))
    .bind(next.as_str())
    .bind(now)
    .bind(extra.sunset_at)
    .bind(&extra.migration_url)
    .bind(&extra.migration_note)
    .bind(api_id)
    .bind(version)
    .bind(from.as_str())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(AppError::Conflict(format!(
            "version {version} changed status meanwhile; read it and retry"
        )));
    }
    config_version::bump(&mut *tx).await?;
    let target = format!("{api_id}@{version}");
    let after = serde_json::json!({
        "status": next.as_str(), "sunset_at": extra.sunset_at,
        "migration_url": extra.migration_url, "migration_note": extra.migration_note,
    });
    let change = audit::Change {
        action: match to {
            Transition::Publish => "version.publish",
            Transition::Deprecate => "version.deprecate",
            Transition::Retire => "version.retire",
        },
        target_type: "api_version",
        target_id: &target,
        before: Some(serde_json::json!({ "status": from.as_str() })),
        after: Some(after),
    };
    audit::record(&mut tx, actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(%api_id, %version, status = next.as_str(), "api version status changed");
    find_version(&state.db, api_id, version)
        .await?
        .into_version(&base_path)
}

/// Parses a sunset date: RFC 3339 or `YYYY-MM-DD` (midnight UTC).
fn parse_sunset(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    parse_rfc3339(raw).or_else(|| parse_rfc3339(&format!("{raw}T00:00:00Z")))
}

/// Publishes a draft version.
#[utoipa::path(
    post,
    path = "/admin/v1/apis/{id}/versions/{version}/publish",
    tag = "versions",
    params(("id" = String, Path, description = "API id"), ("version" = String, Path, description = "Semantic version")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Published: draft → published; routable at the edge", body = ApiVersion),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such API or version", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The version's status does not allow this step", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn publish_version(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((api_id, version)): Path<(String, String)>,
) -> Result<axum::Json<ApiVersion>, AppError> {
    step(
        &state,
        &actor,
        &api_id,
        &version,
        Transition::Publish,
        Extra::default(),
    )
    .await
    .map(axum::Json)
}

/// Retires a deprecated version.
#[utoipa::path(
    post,
    path = "/admin/v1/apis/{id}/versions/{version}/retire",
    tag = "versions",
    params(("id" = String, Path, description = "API id"), ("version" = String, Path, description = "Semantic version")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Retired: deprecated → retired; the edge answers 410", body = ApiVersion),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such API or version", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The version's status does not allow this step", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn retire_version(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((api_id, version)): Path<(String, String)>,
) -> Result<axum::Json<ApiVersion>, AppError> {
    step(
        &state,
        &actor,
        &api_id,
        &version,
        Transition::Retire,
        Extra::default(),
    )
    .await
    .map(axum::Json)
}

/// Deprecates a published version.
#[utoipa::path(
    post,
    path = "/admin/v1/apis/{id}/versions/{version}/deprecate",
    tag = "versions",
    params(("id" = String, Path, description = "API id"), ("version" = String, Path, description = "Semantic version")),
    request_body = DeprecateVersion,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Deprecated: published → deprecated; answers carry Deprecation, Sunset and Link", body = ApiVersion),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such API or version", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The version is not published", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn deprecate_version(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((api_id, version)): Path<(String, String)>,
    Json(body): Json<DeprecateVersion>,
) -> Result<axum::Json<ApiVersion>, AppError> {
    let sunset_at = parse_sunset(&body.sunset).ok_or_else(|| {
        AppError::invalid(
            "sunset",
            "must be RFC 3339 (`2027-01-31T00:00:00Z`) or a date (`2027-01-31`)",
        )
    })?;
    if sunset_at <= now_ms() {
        return Err(AppError::invalid("sunset", "must be in the future"));
    }
    let migration_url = body
        .migration_url
        .as_deref()
        .map(|u| fields::http_url("migration_url", u))
        .transpose()?;
    let migration_note = body
        .migration_note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if migration_note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(AppError::invalid(
            "migration_note",
            format!("must be at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if migration_url.is_none() && migration_note.is_none() {
        return Err(AppError::invalid(
            "migration_url",
            "tell callers where to go: give `migration_url`, `migration_note` or both",
        ));
    }
    let extra = Extra {
        sunset_at: Some(sunset_at),
        migration_url,
        migration_note,
    };
    step(
        &state,
        &actor,
        &api_id,
        &version,
        Transition::Deprecate,
        extra,
    )
    .await
    .map(axum::Json)
}
