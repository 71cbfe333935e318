//! The admin API of webhook endpoints: register (the signing secret is shown once), list
//! with delivery state, remove, and rotate the secret with an overlap during which both
//! secrets sign every delivery.

use super::{current_secret, previous_secret};
use crate::admin::fields;
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::ids::prefixed_id;
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause};
use crate::vault::put_secret;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tollgate_core::webhook::{parse_patterns, show_secret};
use utoipa::ToSchema;

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

/// Body of `POST /admin/v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where events are POSTed: an absolute http(s) URL without credentials.
    #[schema(example = "https://hooks.example.com/tollgate")]
    pub url: String,
    /// Audit actions to send: `key.create`, a family `key.*`, or `*` (1–50 patterns).
    #[schema(example = json!(["key.*", "subscription.*"]))]
    pub events: Vec<String>,
}

/// An endpoint with its delivery state (never its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// Events delivered so far.
    pub delivered: i64,
    /// Failed attempts in a row at the next event (0 when healthy).
    pub attempts: i64,
    /// HTTP status of the last attempt, if any answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<String>,
    /// When the next attempt is due after failures (RFC 3339).
    pub next_attempt_at: Option<String>,
    pub created_at: String,
}

/// A new endpoint or a rotated secret: `secret` appears only in this answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    url: String,
    events_json: String,
    delivered: i64,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    last_delivered_at: Option<i64>,
    next_attempt_at: i64,
    created_at: i64,
}

const SELECT: &str = "SELECT id, url, events_json, delivered, attempts, last_status, last_error, \
                      last_delivered_at, next_attempt_at, created_at FROM webhook_endpoints";

impl From<Row> for Webhook {
    fn from(r: Row) -> Webhook {
        Webhook {
            id: r.id,
            url: r.url,
            events: serde_json::from_str(&r.events_json).unwrap_or_default(),
            delivered: r.delivered,
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            last_delivered_at: r.last_delivered_at.map(format_rfc3339),
            next_attempt_at: (r.attempts > 0).then(|| format_rfc3339(r.next_attempt_at)),
            created_at: format_rfc3339(r.created_at),
        }
    }
}

fn new_secret() -> Vec<u8> {
    let mut raw = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    raw
}

async fn load(state: &AppState, id: &str) -> Result<Webhook, AppError> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&state.db)
        .await?;
    row.map(Webhook::from).ok_or(AppError::NotFound {
        what: "webhook",
        id: id.to_owned(),
    })
}

/// Registers an endpoint; it receives events recorded from now on.
#[utoipa::path(post, path = "/admin/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Registered; `secret` is shown only here", body = WebhookWithSecret),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn create_webhook(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreateWebhook>,
) -> Result<(StatusCode, axum::Json<WebhookWithSecret>), AppError> {
    let url = fields::http_url("url", &body.url)?;
    let events =
        parse_patterns(body.events).map_err(|e| AppError::invalid("events", e.to_string()))?;
    let events_json = serde_json::to_string(&events)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding events")))?;
    let (id, now, secret) = (prefixed_id("whk"), now_ms(), new_secret());
    let mut tx = crate::db::begin(&state.db).await?;
    // Start after the newest event: an endpoint gets what happens from now on.
    let (head,): (i64,) = sqlx::query_as("SELECT seq FROM audit_head WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, org_id, url, events_json, cursor_seq, attempts, next_attempt_at, delivered, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0, 0, 0, $6)",
    )
    .bind(&id)
    .bind(actor.org_id())
    .bind(&url)
    .bind(&events_json)
    .bind(head + 1)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    put_secret(
        &mut tx,
        &state.master_keys,
        &current_secret(&id),
        &secret,
        now,
    )
    .await?;
    let change = audit::Change {
        action: "webhook.create",
        target_type: "webhook",
        target_id: &id,
        before: None,
        after: Some(serde_json::json!({"url": url, "events": events})),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    let webhook = load(&state, &id).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(WebhookWithSecret {
            webhook,
            secret: show_secret(&secret),
        }),
    ))
}

/// The caller's endpoints with their delivery state.
#[utoipa::path(get, path = "/admin/v1/webhooks", tag = "webhooks", security(("admin_token" = [])),
    responses(
        (status = 200, description = "Endpoints", body = Vec<Webhook>),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<axum::Json<Vec<Webhook>>, AppError> {
    let (clause, org) = org_clause(&actor, "org_id", 1);
    let sql = format!("{SELECT} WHERE 1 = 1{clause} ORDER BY created_at, id");
    let rows: Vec<Row> = bind_org(sqlx::query_as(&sql), org)
        .fetch_all(&state.db)
        .await?;
    Ok(axum::Json(rows.into_iter().map(Webhook::from).collect()))
}

/// One endpoint with its delivery state.
#[utoipa::path(get, path = "/admin/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")), security(("admin_token" = [])),
    responses(
        (status = 200, description = "The endpoint", body = Webhook),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No webhook has this id", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn get_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Webhook>, AppError> {
    Ok(axum::Json(load(&state, &id).await?))
}

/// Removes an endpoint and its secrets; undelivered events are dropped for it.
#[utoipa::path(delete, path = "/admin/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")), security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No webhook has this id", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let before = load(&state, &id).await?;
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query("DELETE FROM secrets WHERE owner_type = 'webhook' AND owner_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let change = audit::Change {
        action: "webhook.delete",
        target_type: "webhook",
        target_id: &id,
        before: Some(serde_json::json!({"url": before.url, "events": before.events})),
        after: None,
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a new signing secret; the old one keeps signing alongside it for 24 hours.
#[utoipa::path(post, path = "/admin/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")), security(("admin_token" = [])),
    responses(
        (status = 200, description = "The new secret (shown only here)", body = WebhookWithSecret),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No webhook has this id", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<axum::Json<WebhookWithSecret>, AppError> {
    load(&state, &id).await?;
    let (now, secret) = (now_ms(), new_secret());
    let mut tx = crate::db::begin(&state.db).await?;
    let old = crate::vault::open_secret(&mut *tx, &state.master_keys, &current_secret(&id))
        .await?
        .transpose()
        .map_err(|e| {
            AppError::Unexpected(anyhow::Error::new(e).context("opening the webhook secret"))
        })?;
    if let Some(old) = old {
        put_secret(
            &mut tx,
            &state.master_keys,
            &previous_secret(&id),
            &old,
            now,
        )
        .await?;
    }
    put_secret(
        &mut tx,
        &state.master_keys,
        &current_secret(&id),
        &secret,
        now,
    )
    .await?;
    sqlx::query("UPDATE webhook_endpoints SET previous_secret_until = $1 WHERE id = $2")
        .bind(now + ROTATION_OVERLAP_MS)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let change = audit::Change {
        action: "webhook.rotate_secret",
        target_type: "webhook",
        target_id: &id,
        before: None,
        after: Some(
            serde_json::json!({"previous_secret_until": format_rfc3339(now + ROTATION_OVERLAP_MS)}),
        ),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok(axum::Json(WebhookWithSecret {
        webhook: load(&state, &id).await?,
        secret: show_secret(&secret),
    }))
}
