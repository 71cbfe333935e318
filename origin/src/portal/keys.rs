//! The developer's subscriptions and keys: create a key for a live subscription (shown
//! once), list keys by prefix with their last use, revoke one. Keys are issued and revoked
//! by the admin API's own handlers, so audit and edge behaviour are the same.

use super::accounts::page;
use super::catalog::{actor_for, published_api, ApiCard};
use super::pages::{render, Chrome, PortalError};
use super::session;
use super::versions::{key_snippets, OperationView};
use super::PortalSettings;
use crate::admin::keys::{create_key as issue, revoke_key as revoke, CreateKey};
use crate::clock::{format_rfc3339, now_ms};
use crate::extract::{Json, Path as AdminPath};
use crate::routes::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::{Extension, Form};
use std::collections::HashMap;
use std::sync::Arc;

/// A subscription row on the keys page.
pub struct SubscriptionLine {
    pub id: String,
    pub api_id: String,
    pub api_name: String,
    pub plan_name: String,
    pub status: String,
    pub live: bool,
}

/// A key row: never the key.
pub struct KeyLine {
    pub id: String,
    pub prefix: String,
    pub api_name: String,
    pub status: String,
    pub created_at: String,
    pub last_used_at: String,
    /// When an expiring key (a rotated one in its overlap) stops working.
    pub expires_at: Option<String>,
    /// Active and not expired: it can be rotated.
    pub rotatable: bool,
}

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    chrome: Chrome,
    notice: Option<String>,
    subscriptions: Vec<SubscriptionLine>,
    keys: Vec<KeyLine>,
}

/// The page that shows a new key once (after create or rotate), with the try-it form and
/// code snippets filled in with it.
#[derive(Template)]
#[template(path = "key_created.html")]
pub(super) struct KeyCreatedPage {
    pub chrome: Chrome,
    pub api: ApiCard,
    /// The newest version's operations with snippets carrying the new key.
    pub operations: Vec<OperationView>,
    pub key: String,
    pub notice: Option<String>,
    pub edge_url: String,
    pub try_key: String,
    pub try_path: String,
}

/// `GET /portal/keys`.
pub async fn keys_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let user = session.user()?;
    let now = now_ms();
    type SubRow = (
        String,
        String,
        String,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let subs: Vec<SubRow> = sqlx::query_as(
        "SELECT s.id, s.api_id, a.name, p.name, s.ends_at, s.canceled_at, s.trial_ends_at FROM subscriptions s \
         JOIN apis a ON a.id = s.api_id JOIN plans p ON p.id = s.plan_id WHERE s.consumer_id = $1 ORDER BY s.created_at, s.id",
    )
    .bind(&user.consumer_id)
    .fetch_all(&state.db)
    .await?;
    let subscriptions = subs
        .into_iter()
        .map(|(id, api_id, api_name, plan_name, ends, canceled, trial)| {
            let live = ends.is_none_or(|e| e > now) && canceled.is_none_or(|c| c > now);
            let status = match (live, canceled.is_some()) {
                (true, _) if trial.is_some_and(|t| t > now) => "trialing",
                (true, _) => "active",
                (false, true) => "canceled",
                (false, false) => "expired",
            };
            SubscriptionLine {
                id,
                api_id,
                api_name,
                plan_name,
                status: status.into(),
                live,
            }
        })
        .collect();
    type KeyRow = (
        String,
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT k.id, k.display_prefix, a.name, k.status, k.created_at, k.last_used_at, k.expires_at FROM keys k \
         JOIN apis a ON a.id = k.api_id WHERE k.consumer_id = $1 ORDER BY k.created_at DESC, k.id",
    )
    .bind(&user.consumer_id)
    .fetch_all(&state.db)
    .await?;
    let keys = rows
        .into_iter()
        .map(|(id, prefix, api_name, status, created, last, expires)| {
            let expired = expires.is_some_and(|e| e <= now);
            KeyLine {
                id,
                prefix,
                api_name,
                rotatable: status == "active" && !expired,
                status: if status == "active" && expired {
                    "expired".into()
                } else {
                    status
                },
                created_at: format_rfc3339(created),
                last_used_at: last.map(format_rfc3339).unwrap_or_else(|| "never".into()),
                expires_at: expires.map(format_rfc3339),
            }
        })
        .collect();
    let html = render(&KeysPage {
        chrome: session.chrome(),
        notice: None,
        subscriptions,
        keys,
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

/// `POST /portal/keys`: a key for one of the developer's live subscriptions, shown once
/// in this answer (never in a URL), with the try-it form filled in.
pub async fn create_key(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let user = session.user()?;
    let subscription_id = form.get("subscription_id").cloned().unwrap_or_default();
    let owned: Option<(String,)> =
        sqlx::query_as("SELECT api_id FROM subscriptions WHERE id = $1 AND consumer_id = $2")
            .bind(&subscription_id)
            .bind(&user.consumer_id)
            .fetch_optional(&state.db)
            .await?;
    let (api_id,) = owned.ok_or(PortalError::NotFound("subscription"))?;
    let body = CreateKey {
        subscription_id: Some(subscription_id),
        consumer_id: None,
        api_id: None,
        plan_id: None,
        expires_at: None,
        scopes: Vec::new(),
    };
    let (_, axum::Json(issued)) =
        issue(State(state.clone()), Extension(actor_for(user)), Json(body)).await?;
    let api = published_api(&state.db, &api_id).await?;
    let operations = key_snippets(&state.db, &api, &settings.edge_url, &issued.key).await?;
    let html = render(&KeyCreatedPage {
        chrome: session.chrome(),
        api,
        operations,
        key: issued.key.clone(),
        notice: None,
        edge_url: settings.edge_url.clone(),
        try_key: issued.key,
        try_path: "/".into(),
    })?;
    Ok(page(StatusCode::CREATED, None, html))
}

/// `POST /portal/keys/{id}/revoke`: revokes one of the developer's own keys.
pub async fn revoke_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let user = session.user()?;
    let owned: Option<(String,)> =
        sqlx::query_as("SELECT id FROM keys WHERE id = $1 AND consumer_id = $2")
            .bind(&id)
            .bind(&user.consumer_id)
            .fetch_optional(&state.db)
            .await?;
    owned.ok_or(PortalError::NotFound("key"))?;
    revoke(
        State(state.clone()),
        Extension(actor_for(user)),
        AdminPath(id),
    )
    .await?;
    Ok(page(
        StatusCode::SEE_OTHER,
        None,
        Redirect::to("/portal/keys"),
    ))
}
