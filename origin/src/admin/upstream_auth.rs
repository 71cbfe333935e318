//! An API's upstream credential: a header the edge adds to every request it forwards
//! (e.g. the upstream's own API key), stored sealed by the vault and never shown again.

use crate::admin::fields::{self, Table};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::routes::AppState;
use crate::vault::{self, SecretOwner};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tollgate_core::forward::check_upstream_header;
use tollgate_core::snapshot::UpstreamHeader;
use utoipa::ToSchema;

pub(crate) const SECRET_NAME: &str = "upstream_auth";

/// Body of `PUT /admin/v1/apis/{id}/upstream-auth`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetUpstreamAuth {
    /// Header name, e.g. `Authorization` or `X-Api-Key`.
    #[schema(min_length = 1, max_length = 64)]
    pub header: String,
    /// Header value, e.g. `Bearer upstream-secret`. Stored sealed; never returned.
    #[schema(min_length = 1, max_length = 4096)]
    pub value: String,
}

/// What is stored, without the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpstreamAuthView {
    pub header: String,
    /// Always true: the value is set but never shown.
    pub value_set: bool,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    header: String,
    value: String,
}

/// Sets (or replaces) the header the edge sends to this API's upstream.
#[utoipa::path(
    put,
    path = "/admin/v1/apis/{id}/upstream-auth",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    request_body = SetUpstreamAuth,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Stored, sealed", body = UpstreamAuthView),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Header name or value not allowed (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn set_upstream_auth(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<SetUpstreamAuth>,
) -> Result<axum::Json<UpstreamAuthView>, AppError> {
    check_upstream_header(&body.header, "x")
        .map_err(|e| AppError::invalid("header", e.to_string()))?;
    check_upstream_header("x", &body.value)
        .map_err(|e| AppError::invalid("value", e.to_string()))?;
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    if !fields::exists(&mut *tx, Table::Apis, &id).await? {
        return Err(AppError::NotFound { what: "api", id });
    }
    let stored = serde_json::to_vec(&Stored {
        header: body.header.clone(),
        value: body.value,
    })
    .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding upstream auth")))?;
    let owner = SecretOwner::new("api", &id, SECRET_NAME);
    vault::put_secret(&mut tx, &state.master_keys, &owner, &stored, now).await?;
    config_version::bump(&mut *tx).await?;
    let after = serde_json::json!({ "header": body.header, "value": "[sealed]" });
    let change = audit::Change {
        action: "api.upstream_auth.set",
        target_type: "api",
        target_id: &id,
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok(axum::Json(UpstreamAuthView {
        header: body.header,
        value_set: true,
    }))
}

/// Removes the upstream credential.
#[utoipa::path(
    delete,
    path = "/admin/v1/apis/{id}/upstream-auth",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed (or there was none)"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn delete_upstream_auth(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    if !fields::exists(&mut *tx, Table::Apis, &id).await? {
        return Err(AppError::NotFound { what: "api", id });
    }
    let removed =
        sqlx::query("DELETE FROM secrets WHERE owner_type = 'api' AND owner_id = $1 AND name = $2")
            .bind(&id)
            .bind(SECRET_NAME)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if removed > 0 {
        config_version::bump(&mut *tx).await?;
        let change = audit::Change {
            action: "api.upstream_auth.delete",
            target_type: "api",
            target_id: &id,
            before: None,
            after: None,
        };
        audit::record(&mut tx, &actor, now, change).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every API's upstream headers, opened, for the edge snapshot (one query for all APIs).
pub async fn upstream_headers_by_api(
    state: &AppState,
) -> Result<HashMap<String, Vec<UpstreamHeader>>, AppError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT owner_id, sealed FROM secrets WHERE owner_type = 'api' AND name = $1",
    )
    .bind(SECRET_NAME)
    .fetch_all(&state.db)
    .await?;
    let mut out = HashMap::new();
    for (api_id, sealed) in rows {
        let owner = format!("api:{api_id}:{SECRET_NAME}");
        let opened = vault::open(&state.master_keys, &owner, &sealed).map_err(|e| {
            AppError::Unexpected(
                anyhow::Error::new(e).context(format!("upstream auth of api {api_id}")),
            )
        })?;
        let stored: Stored = serde_json::from_slice(&opened).map_err(|e| {
            AppError::Unexpected(anyhow::Error::new(e).context("stored upstream auth"))
        })?;
        out.insert(
            api_id,
            vec![UpstreamHeader {
                name: stored.header,
                value: stored.value,
            }],
        );
    }
    Ok(out)
}
