//! Reading keys back: listings and single keys show the display prefix and status,
//! never the plaintext (shown once, at issue) nor the hash (the edge's look-up handle).

use crate::admin::fields::Table;
use crate::clock::format_rfc3339;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Path, Query};
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause, visible};
use crate::tenancy::Actor;
use axum::extract::State;
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::{ApiId, ConsumerId, KeyId, PlanId};
use utoipa::{IntoParams, ToSchema};

/// A key as listed: never the key, never its hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeySummary {
    #[schema(value_type = String)]
    pub id: KeyId,
    pub prefix: String,
    #[schema(value_type = String)]
    pub consumer_id: ConsumerId,
    #[schema(value_type = String)]
    pub api_id: ApiId,
    #[schema(value_type = Option<String>)]
    pub plan_id: Option<PlanId>,
    /// `active` or `revoked`.
    pub status: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    /// Keys rotated from one another share an identity (and their limits).
    pub identity: String,
    pub scopes: Vec<String>,
    /// The subscription the key belongs to, if it was issued for one.
    pub subscription_id: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow {
    id: String,
    consumer_id: String,
    api_id: String,
    plan_id: Option<String>,
    display_prefix: String,
    status: String,
    created_at: i64,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    identity_id: Option<String>,
    scopes_json: Option<String>,
    subscription_id: Option<String>,
}

impl From<KeyRow> for KeySummary {
    fn from(row: KeyRow) -> KeySummary {
        let identity = row.identity_id.clone().unwrap_or_else(|| row.id.clone());
        KeySummary {
            id: KeyId(row.id),
            prefix: row.display_prefix,
            consumer_id: ConsumerId(row.consumer_id),
            api_id: ApiId(row.api_id),
            plan_id: row.plan_id.map(PlanId),
            status: row.status,
            created_at: format_rfc3339(row.created_at),
            expires_at: row.expires_at.map(format_rfc3339),
            revoked_at: row.revoked_at.map(format_rfc3339),
            last_used_at: row.last_used_at.map(format_rfc3339),
            identity,
            scopes: row
                .scopes_json
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default(),
            subscription_id: row.subscription_id,
        }
    }
}

pub(crate) const SELECT_KEYS: &str = "SELECT id, consumer_id, api_id, plan_id, display_prefix, status, \
     created_at, revoked_at, expires_at, last_used_at, identity_id, scopes_json, subscription_id FROM keys";

/// Filters for `GET /admin/v1/keys`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct KeyFilter {
    /// Only this consumer's keys (404 if no such consumer).
    pub consumer_id: Option<String>,
}

/// Lists keys, oldest first, without plaintext or hashes.
#[utoipa::path(
    get,
    path = "/admin/v1/keys",
    tag = "keys",
    params(KeyFilter),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The keys", body = Vec<KeySummary>),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No consumer has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_keys(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(filter): Query<KeyFilter>,
) -> Result<axum::Json<Vec<KeySummary>>, AppError> {
    let rows: Vec<KeyRow> = match filter.consumer_id {
        Some(consumer_id) => {
            if !visible(&state.db, Table::Consumers, &consumer_id, &actor).await? {
                return Err(AppError::NotFound {
                    what: "consumer",
                    id: consumer_id,
                });
            }
            sqlx::query_as(&format!(
                "{SELECT_KEYS} WHERE consumer_id = $1 ORDER BY created_at, id"
            ))
            .bind(consumer_id)
            .fetch_all(&state.db)
            .await?
        }
        None => {
            let (clause, org) = org_clause(&actor, "org_id", 1);
            let sql = format!("{SELECT_KEYS} WHERE 1 = 1{clause} ORDER BY created_at, id");
            let query = bind_org(sqlx::query_as(&sql), org);
            query.fetch_all(&state.db).await?
        }
    };
    Ok(axum::Json(rows.into_iter().map(KeySummary::from).collect()))
}

/// One key by id (without plaintext or hash).
#[utoipa::path(
    get,
    path = "/admin/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, description = "Key id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The key", body = KeySummary),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No key has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<KeySummary>, AppError> {
    let row: Option<KeyRow> = sqlx::query_as(&format!("{SELECT_KEYS} WHERE id = $1"))
        .bind(&id)
        .fetch_optional(&state.db)
        .await?;
    let row = row.ok_or(AppError::NotFound { what: "key", id })?;
    Ok(axum::Json(row.into()))
}
