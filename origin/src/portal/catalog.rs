//! The catalog: the platform's published APIs, each API's plans open to subscription, and
//! subscribing, through the admin API's own subscription logic.

use super::accounts::page;
use super::pages::{render, Chrome, PortalError};
use super::session::{self, User};
use super::slo::{SloBadge, SloBoard};
use super::PortalSettings;
use crate::admin::subscriptions::{create_subscription, CreateSubscription};
use crate::audit::Actor;
use crate::clock::now_ms;
use crate::db::Db;
use crate::extract::Json;
use crate::routes::AppState;
use crate::tenancy::Tenant;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::{Extension, Form};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A version as the catalog shows it.
pub struct VersionBadge {
    pub version: String,
    pub status: String,
}

/// A published API.
pub struct ApiCard {
    pub id: String,
    pub name: String,
    pub base_path: String,
    pub versions: Vec<VersionBadge>,
}

/// An API in the catalog with its SLO status.
pub struct CatalogEntry {
    pub api: ApiCard,
    pub slo: SloBadge,
}

/// A plan on an API's page.
pub struct PlanCard {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub facts: Vec<String>,
    /// The developer's live subscription status on this plan, if any.
    pub subscribed: Option<String>,
}

/// Who the portal acts as in the admin logic and the audit log.
pub fn actor_for(user: &User) -> Actor {
    Actor {
        who: format!("portal:{}", user.id),
        tenant: Tenant::Platform,
    }
}

async fn versions(db: &Db, api_id: &str) -> Result<Vec<VersionBadge>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT version, status FROM api_versions WHERE api_id = $1 AND status IN ('published', 'deprecated') ORDER BY major, created_at",
    )
    .bind(api_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(version, status)| VersionBadge { version, status })
        .collect())
}

/// The platform's APIs with at least one published (or deprecated) version.
pub async fn published_apis(db: &Db) -> Result<Vec<ApiCard>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, name, base_path FROM apis WHERE org_id IS NULL AND EXISTS \
         (SELECT 1 FROM api_versions v WHERE v.api_id = apis.id AND v.status IN ('published', 'deprecated')) \
         ORDER BY name, id",
    )
    .fetch_all(db)
    .await?;
    let mut cards = Vec::with_capacity(rows.len());
    for (id, name, base_path) in rows {
        let versions = versions(db, &id).await?;
        cards.push(ApiCard {
            id,
            name,
            base_path,
            versions,
        });
    }
    Ok(cards)
}

/// One published API of the platform, or 404.
pub async fn published_api(db: &Db, id: &str) -> Result<ApiCard, PortalError> {
    published_apis(db)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(PortalError::NotFound("API"))
}

fn limit_fact(json: Option<&str>, what: &str) -> Option<String> {
    let v: Value = serde_json::from_str(json?).ok()?;
    let requests = v.get("requests")?.as_u64()?;
    match (
        v.get("per_seconds").and_then(Value::as_u64),
        v.get("period").and_then(Value::as_str),
    ) {
        (Some(secs), _) => Some(format!("{what}: {requests} requests per {secs} s")),
        (_, Some(period)) => Some(format!("{what}: {requests} requests per {period}")),
        _ => None,
    }
}

/// Plans a developer may subscribe to from the portal for `api_id`: the platform's free
/// and trial plans whose entitlements include the API (paid plans need billing first).
async fn open_plans(
    db: &Db,
    api_id: &str,
    user: Option<&User>,
) -> Result<Vec<PlanCard>, sqlx::Error> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, plan_type, trial_days, entitlements_json, rate_limit_json, quota_json FROM plans \
         WHERE org_id IS NULL AND plan_type IN ('free', 'trial') ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await?;
    /// plan, ends_at, canceled_at, trial_ends_at
    type SubRow = (String, Option<i64>, Option<i64>, Option<i64>);
    let subscribed: Vec<SubRow> = match user {
        Some(u) => sqlx::query_as(
            "SELECT plan_id, ends_at, canceled_at, trial_ends_at FROM subscriptions WHERE consumer_id = $1 AND api_id = $2",
        )
        .bind(&u.consumer_id)
        .bind(api_id)
        .fetch_all(db)
        .await?,
        None => Vec::new(),
    };
    let now = now_ms();
    let mut cards = Vec::new();
    for (id, name, kind, trial_days, entitlements, rate, quota) in rows {
        let apis = entitlements
            .as_deref()
            .and_then(|e| serde_json::from_str::<Value>(e).ok())
            .and_then(|e| e.get("apis").cloned());
        if let Some(Value::Array(apis)) = apis {
            if !apis.iter().any(|a| a.as_str() == Some(api_id)) {
                continue;
            }
        }
        let mut facts: Vec<String> = [
            limit_fact(rate.as_deref(), "Rate"),
            limit_fact(quota.as_deref(), "Quota"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(days) = trial_days {
            facts.push(format!("{days}-day trial"));
        }
        if facts.is_empty() {
            facts.push("No limits".into());
        }
        let live = subscribed.iter().find(|(plan, ends, canceled, _)| {
            *plan == id && ends.is_none_or(|e| e > now) && canceled.is_none_or(|c| c > now)
        });
        let subscribed = live.map(|(_, _, _, trial)| {
            if trial.is_some_and(|t| t > now) {
                "trialing"
            } else {
                "active"
            }
            .to_owned()
        });
        cards.push(PlanCard {
            id,
            name,
            kind: kind.unwrap_or_default(),
            facts,
            subscribed,
        });
    }
    Ok(cards)
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    chrome: Chrome,
    apis: Vec<CatalogEntry>,
}

#[derive(Template)]
#[template(path = "api.html")]
struct ApiPage {
    chrome: Chrome,
    api: ApiCard,
    slo: SloBadge,
    plans: Vec<PlanCard>,
    edge_url: String,
    notice: Option<String>,
    try_key: String,
    try_path: String,
}

/// `GET /portal/apis`.
pub async fn catalog_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let board = SloBoard::load(&state.ledger, now_ms(), settings.slo_objective, None).await?;
    let apis = published_apis(&state.db)
        .await?
        .into_iter()
        .map(|api| CatalogEntry {
            slo: board.badge(&api.id),
            api,
        })
        .collect();
    let html = render(&CatalogPage {
        chrome: session.chrome(),
        apis,
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

/// `GET /portal/apis/{id}`.
pub async fn api_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let api = published_api(&state.db, &id).await?;
    let plans = open_plans(&state.db, &id, session.user.as_ref()).await?;
    let slo = SloBoard::load(&state.ledger, now_ms(), settings.slo_objective, Some(&id))
        .await?
        .badge(&id);
    let html = render(&ApiPage {
        chrome: session.chrome(),
        api,
        slo,
        plans,
        edge_url: settings.edge_url.clone(),
        notice: None,
        try_key: String::new(),
        try_path: "/".into(),
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

/// `POST /portal/apis/{id}/subscribe`: subscribes the developer's consumer to a plan (the
/// admin API's `create_subscription`), then shows the keys page.
pub async fn subscribe(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let user = session.user()?;
    published_api(&state.db, &id).await?;
    let plan_id = form.get("plan_id").cloned().unwrap_or_default();
    let plans = open_plans(&state.db, &id, Some(user)).await?;
    let plan = plans.iter().find(|p| p.id == plan_id).ok_or_else(|| {
        PortalError::BadRequest("That plan is not open to subscription for this API.".into())
    })?;
    if plan.kind == "trial" && !user.verified {
        return Err(PortalError::BadRequest(
            "Verify your email address before starting a trial: open the link we mailed you, \
             or send it again from the banner at the top."
                .into(),
        ));
    }
    if plan.subscribed.is_none() {
        let body = CreateSubscription {
            consumer_id: user.consumer_id.clone(),
            api_id: id,
            plan_id,
            ends_at: None,
        };
        let (_, _created) =
            create_subscription(State(state.clone()), Extension(actor_for(user)), Json(body))
                .await?;
    }
    Ok(page(
        StatusCode::SEE_OTHER,
        None,
        Redirect::to("/portal/keys"),
    ))
}
