//! `GET /console/plans`: the organisation's plans as the admin API lists them, with their
//! rate limit, quota and price in words.

use super::operator::Operator;
use super::pages::{render, Chrome, ConsoleError};
use crate::admin::plans::{list_plans, Plan};
use crate::routes::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use tollgate_core::rbac::Permission;

/// A plan as one table row.
pub struct PlanLine {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub rate_limit: String,
    pub quota: String,
    pub price: String,
}

/// A serde value as compact text without quotes around plain strings.
fn words(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Null) | Err(_) => "—".into(),
        Ok(other) => other.to_string(),
    }
}

fn line(plan: Plan) -> PlanLine {
    let rate_limit = plan.rate_limit.as_ref().map_or("—".into(), |r| {
        format!("{} per {} s", r.requests, r.per_seconds)
    });
    let quota = plan.quota.as_ref().map_or("—".into(), |q| {
        format!("{} per {}", q.requests, words(&q.period))
    });
    PlanLine {
        id: plan.id.0,
        name: plan.name,
        kind: words(&plan.plan_type),
        rate_limit,
        quota,
        price: words(&plan.price),
    }
}

#[derive(Template)]
#[template(path = "console/plans.html")]
struct PlansPage {
    chrome: Chrome,
    plans: Vec<PlanLine>,
}

/// `GET /console/plans`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_page(&state.db, &headers, Permission::PlansRead).await?;
    let axum::Json(plans) = list_plans(State(state.clone()), Extension(op.actor.clone())).await?;
    render(
        StatusCode::OK,
        &PlansPage {
            chrome: op.chrome(),
            plans: plans.into_iter().map(line).collect(),
        },
    )
}
