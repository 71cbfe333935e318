//! Changing a subscription: moving it to another plan now (upgrade or downgrade; its keys
//! follow) and canceling it (its keys stop working). Both bump the config version and
//! enter the snapshot's subscription feed, so every edge applies them to the key records
//! it has cached within the refresh window.

use crate::admin::plan_terms::PlanType;
use crate::admin::subscriptions::{load, offer, Subscription, SubscriptionRow};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::routes::AppState;
use axum::extract::State;
use axum::Extension;
use serde::Deserialize;
use sqlx::AnyConnection;
use tollgate_core::subscription::SubscriptionStatus;
use utoipa::ToSchema;

/// Body of `POST /admin/v1/subscriptions/{id}/change-plan`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePlan {
    /// The plan to move to, now.
    #[schema(min_length = 1)]
    pub plan_id: String,
}

async fn load_live(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<SubscriptionRow, AppError> {
    let row = load(&mut *conn, id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "subscription",
            id: id.to_owned(),
        })?;
    let status = row.times().status(now);
    if !status.is_live() {
        return Err(AppError::Conflict(format!(
            "subscription `{id}` is {}; subscribe again instead",
            status.as_str()
        )));
    }
    Ok(row)
}

async fn record_change(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: i64,
    action: &'static str,
    before: &Subscription,
    after: &Subscription,
) -> Result<(), AppError> {
    config_version::bump(&mut *conn).await?;
    let change = audit::Change {
        action,
        target_type: "subscription",
        target_id: &after.id,
        before: audit::snapshot_of(before),
        after: audit::snapshot_of(after),
    };
    audit::record(conn, actor, now, change).await?;
    Ok(())
}

/// Moves a subscription to another plan now; its keys follow at every edge within the
/// refresh window. Leaving a `trial` plan ends the trial.
#[utoipa::path(
    post,
    path = "/admin/v1/subscriptions/{id}/change-plan",
    tag = "subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    request_body = ChangePlan,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "On the new plan", body = Subscription),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No subscription has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The subscription is canceled or expired", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`plan_id` names nothing, a trial plan or a plan without this API", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn change_plan(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<ChangePlan>,
) -> Result<axum::Json<Subscription>, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let old = load_live(&mut tx, &id, now).await?;
    let plan = offer(&state, &actor, "plan_id", &body.plan_id, &old.api_id).await?;
    if plan.plan_type == PlanType::Trial {
        return Err(AppError::invalid(
            "plan_id",
            "a subscription cannot move to a trial plan; a trial starts with a new subscription",
        ));
    }
    if old.plan_id == body.plan_id {
        return Ok(axum::Json(old.view(now)));
    }
    let mut new = old.clone();
    new.plan_id = body.plan_id;
    new.plan_type = Some(plan.plan_type.as_str().to_owned());
    if old.times().trial_plan && old.times().status(now) == SubscriptionStatus::Trialing {
        new.trial_ends_at = Some(now);
    }
    sqlx::query(
        "UPDATE subscriptions SET plan_id = $1, trial_ends_at = $2, changed_at = $3 WHERE id = $4",
    )
    .bind(&new.plan_id)
    .bind(new.trial_ends_at)
    .bind(now)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    crate::invoices::history::record_plan_change(&mut tx, &id, &old.plan_id, &new.plan_id, now)
        .await?;
    sqlx::query("UPDATE keys SET plan_id = $1 WHERE subscription_id = $2")
        .bind(&new.plan_id)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let (before, after) = (old.view(now), new.view(now));
    record_change(
        &mut tx,
        &actor,
        now,
        "subscription.change_plan",
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(subscription_id = %id, from = %old.plan_id, to = %new.plan_id, "subscription changed plan");
    Ok(axum::Json(after))
}

/// Cancels a subscription now: its keys stop working at every edge within the refresh
/// window. Canceling a canceled subscription changes nothing.
#[utoipa::path(
    post,
    path = "/admin/v1/subscriptions/{id}/cancel",
    tag = "subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Canceled (or already canceled)", body = Subscription),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No subscription has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The subscription has already expired", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_subscription(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<axum::Json<Subscription>, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    if let Some(row) = load(&mut *tx, &id).await? {
        if row.times().status(now) == SubscriptionStatus::Canceled {
            return Ok(axum::Json(row.view(now)));
        }
    }
    let old = load_live(&mut tx, &id, now).await?;
    let mut new = old.clone();
    new.canceled_at = Some(now);
    sqlx::query("UPDATE subscriptions SET canceled_at = $1, changed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let (before, after) = (old.view(now), new.view(now));
    record_change(&mut tx, &actor, now, "subscription.cancel", &before, &after).await?;
    tx.commit().await?;
    tracing::info!(subscription_id = %id, "subscription canceled");
    Ok(axum::Json(after))
}
