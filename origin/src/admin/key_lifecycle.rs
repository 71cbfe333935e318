//! Key lifecycle beyond issue and revoke: rotation with an overlap window (old and new key
//! share one identity, so limits and quotas keep counting as one), and revocation by value
//! for leaked keys (a secret scanner posts what it found; the hash finds the key).

use crate::admin::fields::Table;
use crate::admin::keys::{mint_key, IssuedKey};
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{parse_json, Json, Path};
use crate::ids::new_key_id;
use crate::routes::AppState;
use crate::tenancy::scope::visible;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tollgate_core::{ApiId, ApiKey, ConsumerId, KeyId, PlanId};
use utoipa::ToSchema;

/// Longest overlap a rotation may keep the old key alive.
const MAX_OVERLAP_HOURS: i64 = 720;

/// Body of `POST /admin/v1/keys/{id}/rotate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// Hours the old key keeps working beside the new one (0–720, default 24). 0 revokes
    /// the old key at once.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 720)]
    pub overlap_hours: Option<i64>,
}

/// Body of `POST /admin/v1/keys/revoke-by-value`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeByValue {
    /// The leaked key, exactly as found.
    #[schema(min_length = 1)]
    pub key: String,
}

/// What revoke-by-value did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedKey {
    #[schema(value_type = String)]
    pub id: KeyId,
    #[schema(value_type = String)]
    pub consumer_id: ConsumerId,
    /// False when the key had already been revoked.
    pub newly_revoked: bool,
}

#[derive(sqlx::FromRow)]
struct Existing {
    id: String,
    consumer_id: String,
    api_id: String,
    plan_id: Option<String>,
    status: String,
    expires_at: Option<i64>,
    identity_id: Option<String>,
    scopes_json: Option<String>,
    subscription_id: Option<String>,
}

const SELECT_EXISTING: &str =
    "SELECT id, consumer_id, api_id, plan_id, status, expires_at, identity_id, scopes_json, subscription_id FROM keys";

/// Sets a key revoked inside `conn`'s transaction; false when it already was.
pub async fn revoke_in(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE keys SET status = 'revoked', revoked_at = $1 WHERE id = $2 AND status = 'active'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if done > 0 {
        config_version::bump(&mut *conn).await?;
    }
    Ok(done > 0)
}

/// Issues a successor to a key; the old one keeps working for the overlap.
#[utoipa::path(
    post,
    path = "/admin/v1/keys/{id}/rotate",
    tag = "keys",
    params(("id" = String, Path, description = "Key id")),
    request_body = Option<RotateKey>,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "The new key (shown only here); the old one expires after the overlap", body = IssuedKey),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No key has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The key is revoked or expired", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`overlap_hours` out of range", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn rotate_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<IssuedKey>), AppError> {
    // The body is optional: an empty one means the default overlap.
    let body: RotateKey = if body.iter().all(u8::is_ascii_whitespace) {
        RotateKey::default()
    } else {
        parse_json(&body)?
    };
    let overlap_hours = body.overlap_hours.unwrap_or(24);
    if !(0..=MAX_OVERLAP_HOURS).contains(&overlap_hours) {
        return Err(AppError::invalid(
            "overlap_hours",
            format!("must be between 0 and {MAX_OVERLAP_HOURS}"),
        ));
    }
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let old: Existing = sqlx::query_as(&format!("{SELECT_EXISTING} WHERE id = $1"))
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "key",
            id: id.clone(),
        })?;
    if old.status != "active" || old.expires_at.is_some_and(|e| e <= now) {
        return Err(AppError::Conflict(format!(
            "key `{id}` is revoked or expired; issue a new key instead"
        )));
    }
    let key = mint_key();
    let new_id = new_key_id();
    let identity = old.identity_id.clone().unwrap_or_else(|| old.id.clone());
    sqlx::query(
        "INSERT INTO keys (id, consumer_id, api_id, plan_id, key_hash, display_prefix, status, created_at, expires_at, identity_id, scopes_json, org_id, subscription_id) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, (SELECT org_id FROM keys WHERE id = $11), $12)",
    )
    .bind(new_id.as_str())
    .bind(&old.consumer_id)
    .bind(&old.api_id)
    .bind(old.plan_id.as_deref())
    .bind(key.hash().as_str())
    .bind(key.display_prefix())
    .bind(now)
    .bind(old.expires_at)
    .bind(&identity)
    .bind(old.scopes_json.as_deref())
    .bind(&old.id)
    .bind(old.subscription_id.as_deref())
    .execute(&mut *tx)
    .await?;
    let old_until = now + overlap_hours * 3_600_000;
    if overlap_hours == 0 {
        revoke_in(&mut tx, &old.id, now).await?;
    } else {
        sqlx::query("UPDATE keys SET expires_at = $1, identity_id = $2 WHERE id = $3")
            .bind(old.expires_at.map_or(old_until, |e| e.min(old_until)))
            .bind(&identity)
            .bind(&old.id)
            .execute(&mut *tx)
            .await?;
    }
    let after = serde_json::json!({ "successor": new_id.as_str(), "prefix": key.display_prefix(), "old_key_until": old_until, "identity": identity });
    let change = audit::Change {
        action: "key.rotate",
        target_type: "key",
        target_id: &old.id,
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    let scopes = old
        .scopes_json
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        axum::Json(issued(new_id, &key, old, scopes, now)),
    ))
}

fn issued(id: KeyId, key: &ApiKey, old: Existing, scopes: Vec<String>, now: i64) -> IssuedKey {
    IssuedKey {
        id,
        key: key.expose().to_owned(),
        prefix: key.display_prefix().to_owned(),
        consumer_id: ConsumerId(old.consumer_id),
        api_id: ApiId(old.api_id),
        plan_id: old.plan_id.map(PlanId),
        subscription_id: old.subscription_id,
        scopes,
        status: "active".into(),
        created_at: format_rfc3339(now),
        expires_at: old.expires_at.map(format_rfc3339),
    }
}

/// Revokes a key given its plaintext value, as a secret scanner reports a leak.
#[utoipa::path(
    post,
    path = "/admin/v1/keys/revoke-by-value",
    tag = "keys",
    request_body = RevokeByValue,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Revoked (or already revoked)", body = RevokedKey),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No key has this value", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Not a tollgate key (shape or checksum)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_by_value(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<RevokeByValue>,
) -> Result<axum::Json<RevokedKey>, AppError> {
    let key =
        ApiKey::parse(body.key.trim()).map_err(|e| AppError::invalid("key", e.to_string()))?;
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let found: Existing = sqlx::query_as(&format!("{SELECT_EXISTING} WHERE key_hash = $1"))
        .bind(key.hash().as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "key with this value",
            id: key.display_prefix().to_owned(),
        })?;
    // A key of another organisation is "not found", exactly like an unknown one.
    if !visible(&mut *tx, Table::Keys, &found.id, &actor).await? {
        return Err(AppError::NotFound {
            what: "key with this value",
            id: key.display_prefix().to_owned(),
        });
    }
    let newly_revoked = revoke_in(&mut tx, &found.id, now).await?;
    if newly_revoked {
        let change = audit::Change {
            action: "key.revoke",
            target_type: "key",
            target_id: &found.id,
            before: Some(serde_json::json!({ "status": "active" })),
            after: Some(
                serde_json::json!({ "status": "revoked", "revoked_at": now, "via": "value" }),
            ),
        };
        audit::record(&mut tx, &actor, now, change).await?;
    }
    tx.commit().await?;
    tracing::warn!(key_id = %found.id, "key revoked by value (reported leaked)");
    Ok(axum::Json(RevokedKey {
        id: KeyId(found.id),
        consumer_id: ConsumerId(found.consumer_id),
        newly_revoked,
    }))
}
