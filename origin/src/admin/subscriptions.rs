//! Subscriptions: a consumer on a plan for one API, with a start, an optional end and a
//! trial end from the plan's trial length. Keys issued for a subscription take their
//! consumer, API and plan from it. Status is derived from the times on every read
//! (`tollgate_core::subscription`). Plan changes and cancellation are in
//! `subscription_changes`.

use crate::admin::fields::Table;
use crate::admin::plan_terms::{Entitlements, PlanType};
pub use crate::admin::subscription_rows::{
    load, Subscription, SubscriptionRow, SELECT_SUBSCRIPTIONS,
};
use crate::audit::{self, Actor};
use crate::clock::{now_ms, parse_rfc3339};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path, Query};
use crate::ids::prefixed_id;
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause, visible};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// A moment as RFC 3339 text or unix milliseconds.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EndsAt {
    UnixMillis(i64),
    Rfc3339(String),
}

/// Body of `POST /admin/v1/subscriptions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    #[schema(min_length = 1)]
    pub consumer_id: String,
    #[schema(min_length = 1)]
    pub api_id: String,
    #[schema(min_length = 1)]
    pub plan_id: String,
    /// When the subscription ends: RFC 3339 or unix milliseconds (default: never; a
    /// `trial` plan's subscription ends with its trial).
    #[serde(default)]
    pub ends_at: Option<EndsAt>,
}

/// A plan's type, trial length and entitlements, for subscribing to it.
pub struct PlanOffer {
    pub plan_type: PlanType,
    pub trial_days: Option<i64>,
    pub entitlements: Option<Entitlements>,
}

/// The plan `plan_id` as the caller may subscribe to it for `api_id` (422 naming `field`
/// when it is unknown, another organisation's, or excludes the API).
pub async fn offer(
    state: &AppState,
    actor: &Actor,
    field: &str,
    plan_id: &str,
    api_id: &str,
) -> Result<PlanOffer, AppError> {
    if !visible(&state.db, Table::Plans, plan_id, actor).await? {
        return Err(AppError::invalid(
            field,
            format!("nothing has the id `{plan_id}`"),
        ));
    }
    let (plan_type, trial_days, entitlements): (Option<String>, Option<i64>, Option<String>) =
        sqlx::query_as("SELECT plan_type, trial_days, entitlements_json FROM plans WHERE id = $1")
            .bind(plan_id)
            .fetch_one(&state.db)
            .await?;
    let entitlements: Option<Entitlements> = entitlements
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let excluded = entitlements
        .as_ref()
        .and_then(|e| e.apis.as_ref())
        .is_some_and(|apis| !apis.iter().any(|a| a == api_id));
    if excluded {
        return Err(AppError::invalid(field, format!("plan `{plan_id}` does not include the API `{api_id}` (see its `entitlements.apis`)")));
    }
    Ok(PlanOffer {
        plan_type: PlanType::parse(plan_type.as_deref()),
        trial_days,
        entitlements,
    })
}

/// The subscription a key is issued for: 422 naming `subscription_id` when the caller
/// cannot see it, 409 when it has ended.
pub async fn for_key(
    state: &AppState,
    actor: &Actor,
    id: &str,
    now: i64,
) -> Result<SubscriptionRow, AppError> {
    let unknown = || AppError::invalid("subscription_id", format!("nothing has the id `{id}`"));
    if !visible(&state.db, Table::Subscriptions, id, actor).await? {
        return Err(unknown());
    }
    let row = load(&state.db, id).await?.ok_or_else(unknown)?;
    let status = row.times().status(now);
    if !status.is_live() {
        return Err(AppError::Conflict(format!(
            "subscription `{id}` is {}; keys are issued for live subscriptions only",
            status.as_str()
        )));
    }
    Ok(row)
}

fn resolve_end(end: EndsAt, now: i64) -> Result<i64, AppError> {
    let at = match end {
        EndsAt::UnixMillis(ms) => ms,
        EndsAt::Rfc3339(text) => parse_rfc3339(&text).ok_or_else(|| {
            AppError::invalid(
                "ends_at",
                "must be RFC 3339 (`2030-01-01T00:00:00Z`) or unix milliseconds",
            )
        })?,
    };
    if at <= now {
        return Err(AppError::invalid("ends_at", "is in the past"));
    }
    if at > 253_402_300_799_999 {
        return Err(AppError::invalid(
            "ends_at",
            "must be before the year 10000",
        ));
    }
    Ok(at)
}

/// Subscribes a consumer to a plan for an API.
#[utoipa::path(
    post,
    path = "/admin/v1/subscriptions",
    tag = "subscriptions",
    request_body = CreateSubscription,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Subscribed; `trialing` when the plan has a trial", body = Subscription),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing, invalid or names nothing (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_subscription(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreateSubscription>,
) -> Result<(StatusCode, axum::Json<Subscription>), AppError> {
    let now = now_ms();
    let ends_at = body.ends_at.map(|e| resolve_end(e, now)).transpose()?;
    for (table, field, id) in [
        (Table::Consumers, "consumer_id", &body.consumer_id),
        (Table::Apis, "api_id", &body.api_id),
    ] {
        if !visible(&state.db, table, id, &actor).await? {
            return Err(AppError::invalid(
                field,
                format!("nothing has the id `{id}`"),
            ));
        }
    }
    let plan = offer(&state, &actor, "plan_id", &body.plan_id, &body.api_id).await?;
    let row = SubscriptionRow {
        id: prefixed_id("sub"),
        consumer_id: body.consumer_id,
        api_id: body.api_id,
        plan_id: body.plan_id,
        started_at: now,
        trial_ends_at: plan.trial_days.map(|d| now + d * 86_400_000),
        ends_at,
        canceled_at: None,
        created_at: now,
        plan_type: Some(plan.plan_type.as_str().to_owned()),
    };
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query(
        "INSERT INTO subscriptions (id, consumer_id, api_id, plan_id, started_at, trial_ends_at, ends_at, created_at, org_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $5, (SELECT org_id FROM consumers WHERE id = $2))",
    )
    .bind(&row.id)
    .bind(&row.consumer_id)
    .bind(&row.api_id)
    .bind(&row.plan_id)
    .bind(now)
    .bind(row.trial_ends_at)
    .bind(row.ends_at)
    .execute(&mut *tx)
    .await?;
    let view = row.view(now);
    let change = audit::Change {
        action: "subscription.create",
        target_type: "subscription",
        target_id: &row.id,
        before: None,
        after: audit::snapshot_of(&view),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(subscription_id = %row.id, plan_id = %row.plan_id, "subscribed");
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Filters for `GET /admin/v1/subscriptions`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SubscriptionFilter {
    /// Only this consumer's subscriptions.
    pub consumer_id: Option<String>,
}

/// Lists subscriptions, oldest first.
#[utoipa::path(
    get,
    path = "/admin/v1/subscriptions",
    tag = "subscriptions",
    params(SubscriptionFilter),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The subscriptions", body = Vec<Subscription>),
        (status = 400, description = "A malformed query string", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(filter): Query<SubscriptionFilter>,
) -> Result<axum::Json<Vec<Subscription>>, AppError> {
    let (clause, org) = org_clause(&actor, "s.org_id", 2);
    let sql = format!("{SELECT_SUBSCRIPTIONS} WHERE ($1 = '' OR s.consumer_id = $1){clause} ORDER BY s.created_at, s.id");
    let query = bind_org(
        sqlx::query_as(&sql).bind(filter.consumer_id.unwrap_or_default()),
        org,
    );
    let rows: Vec<SubscriptionRow> = query.fetch_all(&state.db).await?;
    let now = now_ms();
    Ok(axum::Json(rows.iter().map(|r| r.view(now)).collect()))
}

/// One subscription by id.
#[utoipa::path(
    get,
    path = "/admin/v1/subscriptions/{id}",
    tag = "subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The subscription", body = Subscription),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No subscription has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Subscription>, AppError> {
    let row = load(&state.db, &id).await?.ok_or(AppError::NotFound {
        what: "subscription",
        id,
    })?;
    Ok(axum::Json(row.view(now_ms())))
}
