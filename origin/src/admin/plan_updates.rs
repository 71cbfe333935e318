//! Changing and removing a plan (`PUT`/`DELETE /admin/v1/plans/{id}`), which declarative
//! config (`tollgate apply`) needs to converge. A replacement runs the very checks
//! creation runs; a plan that keys still use (revoked ones included, since their usage
//! history names it) cannot be removed.

use crate::admin::api_updates::is_reference_violation;
use crate::admin::fields;
use crate::admin::plan_limits::enforceable;
use crate::admin::plan_price::PriceColumns;
use crate::admin::plan_terms::check_terms;
use crate::admin::plans::{check_quota, check_rate_limit, encode, get_plan, CreatePlan, Plan};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;

/// Replaces a plan: name, limits, type, trial, price and entitlements.
#[utoipa::path(
    put,
    path = "/admin/v1/plans/{id}",
    tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    request_body = CreatePlan,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Replaced; edges enforce it within the refresh window", body = Plan),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No plan has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn put_plan(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<CreatePlan>,
) -> Result<axum::Json<Plan>, AppError> {
    // The same checks as creation, in the same order, so a replacement can never store
    // what creation would refuse.
    let name = fields::text("name", &body.name)?;
    let terms = body.terms();
    let rate_limit = body.rate_limit.map(check_rate_limit).transpose()?;
    let quota = body.quota.map(check_quota).transpose()?;
    let terms = check_terms(&state.db, &actor, terms).await?;
    let axum::Json(before) = get_plan(State(state.clone()), Path(id.clone())).await?;
    let (rate_limit, quota) = enforceable(&before.id, rate_limit, quota)?;
    let now = now_ms();
    let price = PriceColumns::of(terms.price.as_ref());
    let mut tx = crate::db::begin(&state.db).await?;
    let done = sqlx::query(
        "UPDATE plans SET name = $1, rate_limit_json = $2, quota_json = $3, plan_type = $4, trial_days = $5, \
         price_currency = $6, price_amount_minor = $7, price_interval = $8, unit_price_minor = $9, unit_size = $10, \
         included_units = $11, entitlements_json = $12, price_extra_json = $13 WHERE id = $14",
    )
    .bind(&name)
    .bind(encode(rate_limit.as_ref())?)
    .bind(encode(quota.as_ref())?)
    .bind(terms.plan_type.unwrap_or_default().as_str())
    .bind(terms.trial_days.map(|d| d as i64))
    .bind(price.currency)
    .bind(price.amount_minor)
    .bind(price.interval)
    .bind(price.unit_price_minor)
    .bind(price.unit_size)
    .bind(price.included_units)
    .bind(encode(terms.entitlements.as_ref())?)
    .bind(price.extra_json)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(AppError::NotFound { what: "plan", id });
    }
    config_version::bump(&mut *tx).await?;
    let plan = Plan {
        id: before.id.clone(),
        name,
        rate_limit,
        quota,
        plan_type: terms.plan_type.unwrap_or_default(),
        trial_days: terms.trial_days,
        price: terms.price,
        entitlements: terms.entitlements,
        created_at: before.created_at.clone(),
    };
    let change = audit::Change {
        action: "plan.update",
        target_type: "plan",
        target_id: &id,
        before: audit::snapshot_of(&before),
        after: audit::snapshot_of(&plan),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(plan_id = %id, "plan replaced");
    Ok(axum::Json(plan))
}

/// Removes a plan no key uses.
#[utoipa::path(
    delete,
    path = "/admin/v1/plans/{id}",
    tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No plan has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Keys (or other records) still use it", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn delete_plan(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let axum::Json(before) = get_plan(State(state.clone()), Path(id.clone())).await?;
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM keys WHERE plan_id = $1")
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
    if keys > 0 {
        return Err(AppError::Conflict(format!(
            "plan `{id}` is used by {keys} key(s), revoked ones included; move them to another plan first"
        )));
    }
    sqlx::query("DELETE FROM plans WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_reference_violation(&e) {
                AppError::Conflict(format!("plan `{id}` is still referred to: {e}"))
            } else {
                e.into()
            }
        })?;
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: "plan.delete",
        target_type: "plan",
        target_id: &id,
        before: audit::snapshot_of(&before),
        after: None,
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(plan_id = %id, "plan removed");
    Ok(StatusCode::NO_CONTENT)
}
