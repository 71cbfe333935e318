//! Per-API response caching at the edge: the policy (`PUT/GET/DELETE
//! /admin/v1/apis/{id}/cache`; purges are in `cache_purge`). Both reach the edges
//! in the snapshot, so every write bumps the config version; a purge takes effect in
//! every data centre within the refresh window, with no call to a CDN purge API
//! (Cloudflare's Cache API is per data centre; the edge instead refuses entries stored
//! before a matching purge, and a purge-all or policy change bumps the generation that
//! is part of every key).

use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::cache::{ApiCache, CachePolicy};
use tollgate_core::ApiId;
use utoipa::ToSchema;

/// One route's caching override.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheRouteBody {
    /// Pattern after the base path: segments of letters, digits, `-._~`, or `*` (one
    /// segment; as the last segment, any remainder), e.g. `/forecast/*`.
    #[schema(example = "/forecast/*")]
    pub path: String,
    /// `GET` and/or `HEAD` (default `["GET"]`; `GET` also serves `HEAD`).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Lifetime when the upstream states none (default: the API's `default_ttl_secs`).
    #[serde(default)]
    pub ttl_secs: Option<u32>,
    /// Tags a purge can name: 1–64 of letters, digits, `.`, `_`, `-`.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Body of `PUT /admin/v1/apis/{id}/cache`, and its answer with defaults filled in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Whether paths no route matches are cached.
    pub enabled: bool,
    /// Lifetime when the upstream states none (0: only what the upstream states).
    pub default_ttl_secs: u32,
    /// Cap on every lifetime, the upstream's included; 1–86400.
    pub max_ttl_secs: u32,
    /// Cache answers to authenticated callers too, one entry per consumer (default false).
    #[serde(default)]
    pub cache_authenticated: Option<bool>,
    /// Per-route overrides, first match wins (at most 100).
    #[serde(default)]
    pub routes: Option<Vec<CacheRouteBody>>,
}

impl CacheSettings {
    fn into_policy(self) -> Result<CachePolicy, AppError> {
        let mut policy = CachePolicy {
            enabled: self.enabled,
            default_ttl_secs: self.default_ttl_secs,
            max_ttl_secs: self.max_ttl_secs,
            cache_authenticated: self.cache_authenticated.unwrap_or(false),
            routes: self
                .routes
                .unwrap_or_default()
                .into_iter()
                .map(|r| tollgate_core::cache::CacheRoute {
                    path: r.path,
                    methods: r.methods.unwrap_or_else(|| vec!["GET".into()]),
                    ttl_secs: r.ttl_secs,
                    tags: r.tags.unwrap_or_default(),
                    enabled: r.enabled.unwrap_or(true),
                })
                .collect(),
        };
        policy
            .check()
            .map_err(|e| AppError::invalid(e.field, e.message))?;
        Ok(policy)
    }

    fn of(policy: CachePolicy) -> CacheSettings {
        CacheSettings {
            enabled: policy.enabled,
            default_ttl_secs: policy.default_ttl_secs,
            max_ttl_secs: policy.max_ttl_secs,
            cache_authenticated: Some(policy.cache_authenticated),
            routes: Some(
                policy
                    .routes
                    .into_iter()
                    .map(|r| CacheRouteBody {
                        path: r.path,
                        methods: Some(r.methods),
                        ttl_secs: r.ttl_secs,
                        tags: Some(r.tags),
                        enabled: Some(r.enabled),
                    })
                    .collect(),
            ),
        }
    }
}

/// A JSON object body as `T`: serde would also fill a struct from an array
/// (`[null, null]`), which the schema does not allow.
pub(crate) fn object_body<T: serde::de::DeserializeOwned>(
    body: serde_json::Value,
) -> Result<T, AppError> {
    if !body.is_object() {
        return Err(AppError::invalid("body", "must be a JSON object"));
    }
    let bytes = serde_json::to_vec(&body)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("re-encoding body")))?;
    crate::extract::parse_json(&bytes)
}

async fn stored_policy(
    db: &crate::db::Db,
    id: &str,
) -> Result<Option<(CachePolicy, i64)>, AppError> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT policy_json, generation FROM api_cache_policies WHERE api_id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    row.map(|(json, generation)| {
        serde_json::from_str(&json)
            .map(|p| (p, generation))
            .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("stored cache policy")))
    })
    .transpose()
}

/// A generation never used before for this API: the time, or one past the old one.
pub(crate) fn next_generation(old: Option<i64>, now: i64) -> i64 {
    old.map_or(now, |g| now.max(g + 1))
}

/// Sets (or replaces) an API's caching policy; entries stored under the old one are
/// no longer served.
#[utoipa::path(
    put,
    path = "/admin/v1/apis/{id}/cache",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    request_body = CacheSettings,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Set, with defaults filled in", body = CacheSettings),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn put_cache(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<axum::Json<CacheSettings>, AppError> {
    let policy = object_body::<CacheSettings>(body)?.into_policy()?;
    if !crate::admin::fields::exists(&state.db, crate::admin::fields::Table::Apis, &id).await? {
        return Err(AppError::NotFound { what: "API", id });
    }
    let json = serde_json::to_string(&policy).map_err(|e| {
        AppError::Unexpected(anyhow::Error::new(e).context("encoding cache policy"))
    })?;
    let before = stored_policy(&state.db, &id).await?;
    let now = now_ms();
    let generation = next_generation(before.as_ref().map(|(_, g)| *g), now);
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query("DELETE FROM api_cache_policies WHERE api_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO api_cache_policies (api_id, policy_json, generation, updated_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(&json)
    .bind(generation)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: "api.cache.set",
        target_type: "api",
        target_id: &id,
        before: before.and_then(|(p, _)| audit::snapshot_of(&p)),
        after: audit::snapshot_of(&policy),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok(axum::Json(CacheSettings::of(policy)))
}

/// The API's caching policy; 404 when it has none.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/cache",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The policy", body = CacheSettings),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id, or it has no caching policy", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_cache(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<CacheSettings>, AppError> {
    let (policy, _) = stored_policy(&state.db, &id)
        .await?
        .ok_or(AppError::NotFound {
            what: "caching policy of API",
            id,
        })?;
    Ok(axum::Json(CacheSettings::of(policy)))
}

/// Removes an API's caching policy: its answers are no longer cached or served from cache.
#[utoipa::path(
    delete,
    path = "/admin/v1/apis/{id}/cache",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed (or there was none)"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn delete_cache(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    if !crate::admin::fields::exists(&state.db, crate::admin::fields::Table::Apis, &id).await? {
        return Err(AppError::NotFound { what: "API", id });
    }
    let before = stored_policy(&state.db, &id).await?;
    let setting = crate::admin::api_setting::ApiSetting {
        table: "api_cache_policies",
        action: "api.cache.delete",
    };
    crate::admin::api_setting::remove_api_setting(
        &state,
        &actor,
        setting,
        &id,
        before.and_then(|(p, _)| audit::snapshot_of(&p)),
    )
    .await
}

/// Every API's caching policy as the edge applies it.
pub async fn load_cache_policies(db: &crate::db::Db) -> Result<Vec<ApiCache>, AppError> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT api_id, policy_json, generation FROM api_cache_policies ORDER BY api_id",
    )
    .fetch_all(db)
    .await?;
    let mut out = Vec::new();
    for (api_id, json, generation) in rows {
        match serde_json::from_str::<CachePolicy>(&json) {
            Ok(policy) => out.push(ApiCache {
                api_id: ApiId(api_id),
                generation: u64::try_from(generation).unwrap_or(0),
                policy,
            }),
            Err(e) => tracing::error!(%api_id, error = %e, "stored cache policy unreadable"),
        }
    }
    Ok(out)
}
