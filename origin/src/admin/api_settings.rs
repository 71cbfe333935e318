//! Reading back an API's write-mostly settings so declarative config can tell whether
//! they differ from a file: the load-shedding rule, the upstream credential's header,
//! and whether a given credential value is the stored one. The value itself is never
//! returned; comparing needs the catalog *write* permission, which could replace the
//! credential anyway, so the comparison reveals nothing such a caller could not get.

use crate::admin::shedding::Shedding;
use crate::admin::upstream_auth::{SetUpstreamAuth, SECRET_NAME};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::routes::AppState;
use crate::vault::{self, SecretOwner};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tollgate_core::forward::check_upstream_header;
use tollgate_core::shed::ShedPolicy;
use utoipa::ToSchema;

/// The upstream credential as stored, without its value.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UpstreamAuthStatus {
    /// Header name; `null` when no credential is set.
    pub header: Option<String>,
    pub value_set: bool,
}

/// Whether a credential is the stored one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UpstreamAuthMatch {
    /// True when both header name and value equal the stored ones.
    pub matches: bool,
}

#[derive(Deserialize)]
struct Stored {
    header: String,
    value: String,
}

async fn stored(state: &AppState, id: &str) -> Result<Option<Stored>, AppError> {
    let owner = SecretOwner::new("api", id, SECRET_NAME);
    let Some(opened) = vault::open_secret(&state.db, &state.master_keys, &owner).await? else {
        return Ok(None);
    };
    let bytes = opened.map_err(|e| {
        AppError::Unexpected(anyhow::Error::new(e).context(format!("upstream auth of api {id}")))
    })?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("stored upstream auth")))
}

/// Which header the edge adds for this API's upstream, if any.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/upstream-auth",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The header name (never the value)", body = UpstreamAuthStatus),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_upstream_auth(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<UpstreamAuthStatus>, AppError> {
    let header = stored(&state, &id).await?.map(|s| s.header);
    Ok(axum::Json(UpstreamAuthStatus {
        value_set: header.is_some(),
        header,
    }))
}

/// Compares a credential with the stored one, in constant time.
#[utoipa::path(
    post,
    path = "/admin/v1/apis/{id}/upstream-auth/check",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    request_body = SetUpstreamAuth,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Whether it matches", body = UpstreamAuthMatch),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or could not be stored (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn check_upstream_auth(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<SetUpstreamAuth>,
) -> Result<axum::Json<UpstreamAuthMatch>, AppError> {
    // What could never be stored is refused as setting it would be.
    check_upstream_header(&body.header, "x")
        .map_err(|e| AppError::invalid("header", e.to_string()))?;
    check_upstream_header("x", &body.value)
        .map_err(|e| AppError::invalid("value", e.to_string()))?;
    let matches = stored(&state, &id).await?.is_some_and(|s| {
        let value: bool = s.value.as_bytes().ct_eq(body.value.as_bytes()).into();
        value && s.header.eq_ignore_ascii_case(&body.header)
    });
    Ok(axum::Json(UpstreamAuthMatch { matches }))
}

/// The API's load-shedding rule with defaults filled in; 404 when it has none.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/shedding",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The rule", body = Shedding),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id, or it has no rule", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_shedding(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Shedding>, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT policy_json FROM shedding WHERE api_id = $1")
            .bind(&id)
            .fetch_optional(&state.db)
            .await?;
    let (json,) = row.ok_or(AppError::NotFound {
        what: "load-shedding rule of API",
        id: id.clone(),
    })?;
    let policy: ShedPolicy = serde_json::from_str(&json)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("stored shedding")))?;
    Ok(axum::Json(Shedding {
        max_error_percent: policy.max_error_percent,
        max_latency_ms: Some(policy.max_latency_ms).filter(|&ms| ms > 0),
        min_requests: Some(policy.min_requests),
        window_secs: Some(policy.window_secs),
        cooldown_secs: Some(policy.cooldown_secs),
    }))
}
