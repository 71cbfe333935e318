//! Per-API load shedding (dynamic throttling): when the API's upstream answers with too
//! many errors or too slowly, edges answer 503 with `Retry-After` for a cool-down and
//! then let traffic through again. Setting or removing a rule bumps the config version.

use crate::admin::fields::{self, Table};
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
use tollgate_core::shed::{ShedPolicy, ShedRule};
use tollgate_core::ApiId;
use utoipa::ToSchema;

/// Body of `PUT /admin/v1/apis/{id}/shedding`, and its answer with defaults filled in.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Shedding {
    /// Shed when at least this % of upstream answers are errors (5xx, timeouts); 1–100.
    pub max_error_percent: u8,
    /// Shed when the average upstream latency reaches this many ms (default: not watched).
    #[serde(default)]
    pub max_latency_ms: Option<u64>,
    /// Fewest requests in the window before shedding starts (default 20).
    #[serde(default)]
    pub min_requests: Option<u32>,
    /// Seconds of answers judged (default 10, at most 300).
    #[serde(default)]
    pub window_secs: Option<u32>,
    /// Seconds to shed once tripped (default 5, at most 300).
    #[serde(default)]
    pub cooldown_secs: Option<u32>,
}

fn policy_of(body: Shedding) -> Result<ShedPolicy, AppError> {
    if !(1..=100).contains(&body.max_error_percent) {
        return Err(AppError::invalid(
            "max_error_percent",
            "must be between 1 and 100",
        ));
    }
    let secs = |field: &str, v: Option<u32>, default: u32| match v.unwrap_or(default) {
        s @ 1..=300 => Ok(s),
        _ => Err(AppError::invalid(field, "must be between 1 and 300")),
    };
    let min_requests = body.min_requests.unwrap_or(20);
    if min_requests == 0 {
        return Err(AppError::invalid("min_requests", "must be at least 1"));
    }
    Ok(ShedPolicy {
        max_error_percent: body.max_error_percent,
        max_latency_ms: body.max_latency_ms.unwrap_or(0),
        min_requests,
        window_secs: secs("window_secs", body.window_secs, 10)?,
        cooldown_secs: secs("cooldown_secs", body.cooldown_secs, 5)?,
    })
}

/// Sets (or replaces) an API's load-shedding rule.
#[utoipa::path(
    put,
    path = "/admin/v1/apis/{id}/shedding",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    request_body = Shedding,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Set, with defaults filled in", body = Shedding),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn put_shedding(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<Shedding>,
) -> Result<axum::Json<Shedding>, AppError> {
    let policy = policy_of(body)?;
    if !fields::exists(&state.db, Table::Apis, &id).await? {
        return Err(AppError::NotFound { what: "API", id });
    }
    let json = serde_json::to_string(&policy)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding shedding")))?;
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query("DELETE FROM shedding WHERE api_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO shedding (api_id, policy_json, updated_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(&json)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    config_version::bump(&mut *tx).await?;
    let after = serde_json::from_str(&json).ok();
    let change = audit::Change {
        action: "api.shedding.set",
        target_type: "api",
        target_id: &id,
        before: None,
        after,
    };
    audit::record(&mut tx, &actor, now_ms(), change).await?;
    tx.commit().await?;
    Ok(axum::Json(Shedding {
        max_error_percent: policy.max_error_percent,
        max_latency_ms: Some(policy.max_latency_ms).filter(|&ms| ms > 0),
        min_requests: Some(policy.min_requests),
        window_secs: Some(policy.window_secs),
        cooldown_secs: Some(policy.cooldown_secs),
    }))
}

/// Removes an API's load-shedding rule.
#[utoipa::path(
    delete,
    path = "/admin/v1/apis/{id}/shedding",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed (or there was none)"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn delete_shedding(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let setting = crate::admin::api_setting::ApiSetting {
        table: "shedding",
        action: "api.shedding.delete",
    };
    crate::admin::api_setting::remove_api_setting(&state, &actor, setting, &id, None).await
}

/// Every API's shedding rule as the edge applies it.
pub async fn load_shedding(db: &crate::db::Db) -> Result<Vec<ShedRule>, AppError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT api_id, policy_json FROM shedding ORDER BY api_id")
            .fetch_all(db)
            .await?;
    let mut out = Vec::new();
    for (api_id, json) in rows {
        match serde_json::from_str::<ShedPolicy>(&json) {
            Ok(policy) => out.push(ShedRule {
                api_id: ApiId(api_id),
                policy,
            }),
            Err(e) => tracing::error!(%api_id, error = %e, "stored shedding rule unreadable"),
        }
    }
    Ok(out)
}
