//! API keys: issued to a consumer for one API, shown in plaintext exactly once, stored
//! only as a SHA-256 hash plus a display prefix. Revoking one bumps the config version
//! so every edge drops it from its caches on its next refresh. Reading keys back is in
//! `key_views`.

use crate::admin::fields::{self, Table};
use crate::admin::key_lifecycle;
use crate::admin::key_owner::{key_owner, KeyOwner};
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms, parse_rfc3339};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::ids::new_key_id;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tollgate_core::scope::parse_scopes;
use tollgate_core::{ApiId, ApiKey, ConsumerId, KeyId, PlanId};
use utoipa::ToSchema;

/// An expiry as RFC 3339 text or unix milliseconds.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Expiry {
    UnixMillis(i64),
    Rfc3339(String),
}

/// Body of `POST /admin/v1/keys`: either `subscription_id` (consumer, API and plan come
/// from it) or `consumer_id` and `api_id` with an optional `plan_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    #[serde(default)]
    #[schema(min_length = 1)]
    pub subscription_id: Option<String>,
    #[serde(default)]
    #[schema(min_length = 1)]
    pub consumer_id: Option<String>,
    #[serde(default)]
    #[schema(min_length = 1)]
    pub api_id: Option<String>,
    #[serde(default)]
    pub plan_id: Option<String>,
    /// When the key stops working: RFC 3339 (`2030-01-01T00:00:00Z`) or unix milliseconds.
    #[serde(default)]
    pub expires_at: Option<Expiry>,
    /// What the key may do, e.g. `["weather:read"]` (at most 50; each 1–64 of `a-z0-9:._-`).
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// The answer to `POST /admin/v1/keys`: the only time `key` is ever shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedKey {
    #[schema(value_type = String, example = "key_0f8e9c3b4a5d4e6f8a7b6c5d4e3f2a1b")]
    pub id: KeyId,
    /// The plaintext key (`tg_` + 38 characters). Store it now: it cannot be shown again.
    pub key: String,
    /// The key's first characters, shown in listings to tell keys apart.
    pub prefix: String,
    #[schema(value_type = String)]
    pub consumer_id: ConsumerId,
    #[schema(value_type = String)]
    pub api_id: ApiId,
    #[schema(value_type = Option<String>)]
    pub plan_id: Option<PlanId>,
    /// The subscription the key belongs to, if it was issued for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    pub scopes: Vec<String>,
    /// `active`.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: Option<String>,
}

/// A new key from the thread-local CSPRNG (kept out of async code: it is not `Send`).
pub fn mint_key() -> ApiKey {
    let mut rng = rand::thread_rng();
    ApiKey::generate(|| rng.gen())
}

/// Checks and normalises scopes (core's grammar), naming the field when refused.
pub fn check_scopes(scopes: Vec<String>) -> Result<Vec<String>, AppError> {
    parse_scopes(scopes).map_err(|e| AppError::invalid("scopes", e.to_string()))
}

pub fn resolve_expiry(expiry: Expiry, now: i64) -> Result<i64, AppError> {
    let at = match expiry {
        Expiry::UnixMillis(ms) => ms,
        Expiry::Rfc3339(text) => parse_rfc3339(&text).ok_or_else(|| {
            AppError::invalid(
                "expires_at",
                "must be RFC 3339 (`2030-01-01T00:00:00Z`) or unix milliseconds",
            )
        })?,
    };
    if at <= now {
        return Err(AppError::invalid("expires_at", "is in the past"));
    }
    // 9999-12-31T23:59:59.999Z: later instants have no RFC 3339 form to show them in.
    if at > 253_402_300_799_999 {
        return Err(AppError::invalid(
            "expires_at",
            "must be before the year 10000",
        ));
    }
    Ok(at)
}

/// Issues a key to a consumer for an API.
#[utoipa::path(
    post,
    path = "/admin/v1/keys",
    tag = "keys",
    request_body = CreateKey,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Issued; `key` is shown only in this answer", body = IssuedKey),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The subscription is canceled or expired", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing, invalid or names nothing (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreateKey>,
) -> Result<(StatusCode, axum::Json<IssuedKey>), AppError> {
    let now = now_ms();
    let expires_at = body
        .expires_at
        .clone()
        .map(|e| resolve_expiry(e, now))
        .transpose()?;
    let owner = key_owner(&state, &actor, &body, now).await?;
    let scopes = check_scopes(body.scopes)?;
    let issued = issue_key(&state, &actor, owner, expires_at, scopes, now).await?;
    Ok((StatusCode::CREATED, axum::Json(issued)))
}

/// Mints and stores a key for `owner` (already resolved and checked), recording it in the
/// audit log as `actor`'s act; the key belongs to the consumer's organisation.
pub async fn issue_key(
    state: &AppState,
    actor: &Actor,
    owner: KeyOwner,
    expires_at: Option<i64>,
    scopes: Vec<String>,
    now: i64,
) -> Result<IssuedKey, AppError> {
    let KeyOwner {
        consumer_id,
        api_id,
        plan_id,
        subscription_id,
    } = owner;
    let scopes_json = (!scopes.is_empty())
        .then(|| serde_json::to_string(&scopes))
        .transpose()
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding scopes")))?;
    let key = mint_key();
    let id = new_key_id();
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query(
        "INSERT INTO keys (id, consumer_id, api_id, plan_id, key_hash, display_prefix, status, created_at, expires_at, identity_id, scopes_json, org_id, subscription_id) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $1, $9, (SELECT org_id FROM consumers WHERE id = $2), $10)",
    )
    .bind(id.as_str())
    .bind(&consumer_id)
    .bind(&api_id)
    .bind(plan_id.as_deref())
    .bind(key.hash().as_str())
    .bind(key.display_prefix())
    .bind(now)
    .bind(expires_at)
    .bind(scopes_json.as_deref())
    .bind(subscription_id.as_deref())
    .execute(&mut *tx)
    .await?;
    // The audit trail records the key's identity and prefix, never the key or its hash.
    let after = serde_json::json!({
        "id": id.as_str(), "prefix": key.display_prefix(), "consumer_id": consumer_id,
        "api_id": api_id, "plan_id": plan_id, "status": "active", "expires_at": expires_at,
        "scopes": scopes, "subscription_id": subscription_id,
    });
    let change = audit::Change {
        action: "key.create",
        target_type: "key",
        target_id: id.as_str(),
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(key_id = %id, consumer_id = %consumer_id, api_id = %api_id, "key issued");
    let issued = IssuedKey {
        id,
        key: key.expose().to_owned(),
        prefix: key.display_prefix().to_owned(),
        consumer_id: ConsumerId(consumer_id),
        api_id: ApiId(api_id),
        plan_id: plan_id.map(PlanId),
        subscription_id,
        scopes,
        status: "active".into(),
        created_at: format_rfc3339(now),
        expires_at: expires_at.map(format_rfc3339),
    };
    Ok(issued)
}

/// Revokes a key. Idempotent: revoking a revoked key is another 204 (and changes nothing).
#[utoipa::path(
    delete,
    path = "/admin/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, description = "Key id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Revoked (or already revoked)"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No key has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    if !key_lifecycle::revoke_in(&mut tx, &id, now).await? {
        let known = fields::exists(&mut *tx, Table::Keys, &id).await?;
        tx.rollback().await?;
        return if known {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(AppError::NotFound { what: "key", id })
        };
    }
    let change = audit::Change {
        action: "key.revoke",
        target_type: "key",
        target_id: &id,
        before: Some(serde_json::json!({ "status": "active" })),
        after: Some(serde_json::json!({ "status": "revoked", "revoked_at": now })),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(key_id = %id, "key revoked");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_have_the_core_shape() {
        let key = mint_key();
        assert!(ApiKey::parse(key.expose()).is_ok());
        assert_ne!(key.expose(), mint_key().expose());
    }

    #[test]
    fn expiries_are_rfc3339_or_millis_and_in_the_future() {
        let now = 1_700_000_000_000;
        assert_eq!(
            resolve_expiry(Expiry::UnixMillis(now + 1), now).unwrap(),
            now + 1
        );
        let text = Expiry::Rfc3339("2030-01-01T00:00:00Z".into());
        assert_eq!(resolve_expiry(text, now).unwrap(), 1_893_456_000_000);
        for bad in [Expiry::UnixMillis(now), Expiry::Rfc3339("tomorrow".into())] {
            let p = resolve_expiry(bad, now).unwrap_err().problem();
            assert_eq!(p.field.as_deref(), Some("expires_at"));
        }
    }
}
