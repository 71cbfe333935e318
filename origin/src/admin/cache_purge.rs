//! Purging an API's cached answers at every edge (`POST /admin/v1/apis/{id}/cache/purge`)
//! by tag, path prefix or all: recorded with its time and carried in the snapshot for
//! 24 hours, so edges stop serving older entries within the refresh window; a purge-all
//! also bumps the policy's generation, which is part of every cache key.

use crate::admin::cache::{next_generation, object_body};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::ids::prefixed_id;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::cache::{CachePurge, PurgeRequest, PURGE_FEED_MS};
use tollgate_core::ApiId;
use utoipa::ToSchema;

/// Body of `POST /admin/v1/apis/{id}/cache/purge`: `{"tags":[…]}`, `{"path_prefix":"/x"}`
/// or `{}` for everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurgeBody {
    /// Purge entries carrying any of these tags (1–10).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Purge entries whose path after the base path starts with this, e.g. `/forecast`.
    #[serde(default)]
    pub path_prefix: Option<String>,
}

/// What a purge did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PurgeAnswer {
    pub api_id: String,
    /// `tags`, `path_prefix` or `all`.
    pub scope: String,
    /// Unix ms of the purge: entries stored before it are not served once edges refresh.
    pub at_ms: i64,
}

/// Purges an API's cached answers by tag, by path prefix, or all of them; every edge
/// stops serving them within the refresh window.
#[utoipa::path(
    post,
    path = "/admin/v1/apis/{id}/cache/purge",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    request_body = PurgeBody,
    security(("admin_token" = [])),
    responses(
        (status = 202, description = "Recorded; edges apply it within the refresh window", body = PurgeAnswer),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn purge_cache(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<(StatusCode, axum::Json<PurgeAnswer>), AppError> {
    let body: PurgeBody = object_body(body)?;
    let request = PurgeRequest {
        tags: body.tags,
        path_prefix: body.path_prefix,
    };
    request
        .check()
        .map_err(|e| AppError::invalid(e.field(), e.to_string()))?;
    if !crate::admin::fields::exists(&state.db, crate::admin::fields::Table::Apis, &id).await? {
        return Err(AppError::NotFound { what: "API", id });
    }
    let now = now_ms();
    let rows: Vec<(Option<String>, Option<String>)> = match (&request.tags, &request.path_prefix) {
        (Some(tags), _) => tags.iter().map(|t| (Some(t.clone()), None)).collect(),
        (None, Some(prefix)) => vec![(None, Some(prefix.clone()))],
        (None, None) => vec![(None, None)],
    };
    let scope = match (&request.tags, &request.path_prefix) {
        (Some(_), _) => "tags",
        (None, Some(_)) => "path_prefix",
        (None, None) => "all",
    };
    let mut tx = crate::db::begin(&state.db).await?;
    for (tag, prefix) in &rows {
        sqlx::query(
            "INSERT INTO cache_purges (id, api_id, tag, path_prefix, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(prefixed_id("cpg"))
        .bind(&id)
        .bind(tag.as_deref())
        .bind(prefix.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if scope == "all" {
        let (generation,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(generation) FROM api_cache_policies WHERE api_id = $1")
                .bind(&id)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("UPDATE api_cache_policies SET generation = $1 WHERE api_id = $2")
            .bind(next_generation(generation, now))
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: "api.cache.purge",
        target_type: "api",
        target_id: &id,
        before: None,
        after: audit::snapshot_of(&request),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(PurgeAnswer {
            api_id: id,
            scope: scope.to_owned(),
            at_ms: now,
        }),
    ))
}

/// Purges of the last 24 hours, oldest first.
pub async fn load_cache_purges(db: &crate::db::Db, now: i64) -> Result<Vec<CachePurge>, AppError> {
    let since = now - i64::try_from(PURGE_FEED_MS).unwrap_or(i64::MAX);
    let rows: Vec<(String, Option<String>, Option<String>, i64)> = sqlx::query_as(
        "SELECT api_id, tag, path_prefix, created_at FROM cache_purges WHERE created_at >= $1 ORDER BY created_at",
    )
    .bind(since)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(api_id, tag, prefix, at)| CachePurge {
            api_id: ApiId(api_id),
            tag,
            prefix,
            at_ms: u64::try_from(at).unwrap_or(0),
        })
        .collect())
}
