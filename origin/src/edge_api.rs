//! The edge-facing API (docs/EDGE_API.md): the versioned config snapshot and key look-up
//! by hash. Only signed edge requests reach these handlers (see `auth`).

use crate::admin::apis::load_routes;
use crate::admin::upstream_auth;
use crate::admin::version_store::load_version_routes;
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::{ConfigSnapshotDoc, KeyRecordDoc, ProblemDoc};
use crate::error::AppError;
use crate::extract::Path;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tollgate_core::snapshot::etag_for_version;
use tollgate_core::subscription::SubscriptionTimes;
use tollgate_core::{
    ApiId, ConfigSnapshot, ConsumerId, KeyHash, KeyId, KeyRecord, KeyStatus, PlanId,
};

/// How long a revoked key's hash stays in the snapshot's `revoked` feed.
pub const REVOKED_FEED_MS: i64 = 24 * 60 * 60 * 1000;

/// Whether an `If-None-Match` value names `etag` (a list, weak tags and `*` included).
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// The config snapshot, or 304 when the edge already has this version.
#[utoipa::path(
    get,
    path = "/edge/v1/snapshot",
    tag = "edge",
    params(("If-None-Match" = Option<String>, Header, description = "The ETag the edge holds, e.g. `\"v7\"`")),
    security(("edge_signature" = [])),
    responses(
        (status = 200, description = "The snapshot, with `ETag: \"v<version>\"`", body = ConfigSnapshotDoc),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 401, description = "Missing or invalid edge signature", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // The version is read before the content: a change landing in between yields newer
    // content under an older version, which only causes one extra refresh, never a stale
    // snapshot under a new version.
    let version = config_version::current(&state.db).await?;
    let etag = etag_for_version(version);
    let etag_header = HeaderValue::from_str(&etag)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("etag header")))?;
    let unchanged = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| etag_matches(v, &etag));
    let cache = (CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(ETAG, etag_header), cache]).into_response());
    }
    let mut apis = load_routes(&state.db).await?;
    let mut headers = upstream_auth::upstream_headers_by_api(&state).await?;
    let mut policies = crate::admin::policies::policies_by_api(&state.db).await?;
    for api in &mut apis {
        api.upstream_headers = headers.remove(api.id.as_str()).unwrap_or_default();
        api.policies = policies.remove(api.id.as_str());
    }
    let revoked: Vec<(String,)> = sqlx::query_as(
        "SELECT key_hash FROM keys WHERE status = 'revoked' AND revoked_at >= $1 ORDER BY revoked_at",
    )
    .bind(now_ms() - REVOKED_FEED_MS)
    .fetch_all(&state.db)
    .await?;
    let revoked = revoked
        .into_iter()
        .filter_map(|(hash,)| KeyHash::parse(&hash))
        .collect();
    let versions = load_version_routes(&state.db).await?;
    let snapshot = ConfigSnapshot {
        version,
        apis,
        revoked,
        versions,
        plans: crate::admin::plan_limits::load_plan_limits(&state.db).await?,
        limits: crate::admin::limits::load_scoped_limits(&state.db).await?,
        shedding: crate::admin::shedding::load_shedding(&state.db).await?,
        entitlements: crate::admin::edge_feeds::load_entitlements(&state.db).await?,
        subscriptions: crate::admin::edge_feeds::load_subscription_feed(
            &state.db,
            now_ms() - REVOKED_FEED_MS,
        )
        .await?,
        revoked_oauth_clients: crate::oauth::client_revocation::load_revoked_clients(
            &state.db,
            now_ms() - REVOKED_FEED_MS,
        )
        .await?,
        validation: crate::admin::validation_feed::load_validations(&state.db).await?,
        cache: crate::admin::cache::load_cache_policies(&state.db).await?,
        cache_purges: crate::admin::cache_purge::load_cache_purges(&state.db, now_ms()).await?,
    };
    Ok(([(ETAG, etag_header), cache], Json(snapshot)).into_response())
}

#[derive(sqlx::FromRow)]
struct KeyRecordRow {
    id: String,
    consumer_id: String,
    api_id: String,
    plan_id: Option<String>,
    status: String,
    expires_at: Option<i64>,
    identity_id: Option<String>,
    scopes_json: Option<String>,
    subscription_id: Option<String>,
    trial_ends_at: Option<i64>,
    sub_ends_at: Option<i64>,
    canceled_at: Option<i64>,
    sub_plan_type: Option<String>,
}

/// What the origin knows about the key with this hash.
#[utoipa::path(
    get,
    path = "/edge/v1/keys/{key_hash}",
    tag = "edge",
    params(("key_hash" = String, Path, description = "SHA-256 of the key, 64 lower-case hex characters")),
    security(("edge_signature" = [])),
    responses(
        (status = 200, description = "The key, revoked ones included", body = KeyRecordDoc),
        (status = 400, description = "Not 64 lower-case hex characters", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid edge signature", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No key has this hash", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_key_record(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<KeyRecord>, AppError> {
    let key_hash = KeyHash::parse(&raw).ok_or_else(|| {
        AppError::Malformed(
            "a key hash is 64 lower-case hex characters (SHA-256 of the key)".into(),
        )
    })?;
    let row: Option<KeyRecordRow> = sqlx::query_as(
        "SELECT k.id, k.consumer_id, k.api_id, COALESCE(s.plan_id, k.plan_id) AS plan_id, k.status, k.expires_at, \
         k.identity_id, k.scopes_json, k.subscription_id, s.trial_ends_at, s.ends_at AS sub_ends_at, s.canceled_at, \
         p.plan_type AS sub_plan_type FROM keys k LEFT JOIN subscriptions s ON s.id = k.subscription_id \
         LEFT JOIN plans p ON p.id = s.plan_id WHERE k.key_hash = $1",
    )
    .bind(key_hash.as_str())
    .fetch_optional(&state.db)
    .await?;
    let row = row.ok_or_else(|| AppError::NotFound {
        what: "key hash",
        id: key_hash.to_string(),
    })?;
    // An edge asks only when a request arrived with this key and its caches had no fresh
    // answer, and edges re-ask at least every 5 minutes while a key is in use: so this is
    // the key's last use to within those 5 minutes, at one write per key per 5 minutes.
    sqlx::query("UPDATE keys SET last_used_at = $1 WHERE id = $2")
        .bind(crate::clock::now_ms())
        .bind(&row.id)
        .execute(&state.db)
        .await?;
    let status = match row.status.as_str() {
        "active" => KeyStatus::Active,
        "revoked" => KeyStatus::Revoked,
        other => {
            return Err(AppError::Unexpected(anyhow::anyhow!(
                "key {} has unknown status {other}",
                row.id
            )))
        }
    };
    let subscription_ends_at_ms = SubscriptionTimes {
        trial_ends_at_ms: row.trial_ends_at,
        ends_at_ms: row.sub_ends_at,
        canceled_at_ms: row.canceled_at,
        trial_plan: row.sub_plan_type.as_deref() == Some("trial"),
    }
    .effective_end()
    .and_then(|ms| u64::try_from(ms).ok());
    Ok(Json(KeyRecord {
        key_id: KeyId(row.id),
        key_hash,
        consumer_id: ConsumerId(row.consumer_id),
        api_id: ApiId(row.api_id),
        plan_id: row.plan_id.map(PlanId),
        status,
        expires_at_ms: row.expires_at.and_then(|ms| u64::try_from(ms).ok()),
        identity: row.identity_id,
        scopes: row
            .scopes_json
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default(),
        subscription_id: row.subscription_id,
        subscription_ends_at_ms,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_understands_lists_weak_tags_and_star() {
        assert!(etag_matches("\"v3\"", "\"v3\""));
        assert!(etag_matches("\"v1\", W/\"v3\"", "\"v3\""));
        assert!(etag_matches("*", "\"v3\""));
        assert!(!etag_matches("\"v2\"", "\"v3\""));
        assert!(!etag_matches("v3", "\"v3\""));
    }
}
