//! Plans: `GET /console/plans` lists the organisation's plans as the admin API does, with
//! their rate limit, quota and price in words; `POST /console/plans` creates one through
//! the admin API's `create_plan` (same validation, audit entry and config version), the
//! form's text turned into its body by [`plan_body`].

use super::apis::refused;
use super::operator::Operator;
use super::pages::{field, optional, render, see_other, Chrome, ConsoleError};
use crate::admin::plans::{create_plan, list_plans, CreatePlan, Plan, Quota, RateLimit};
use crate::error::AppError;
use crate::extract::Json;
use crate::routes::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use std::collections::HashMap;
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

/// A whole number from a form field, `None` when empty; the field is named in the refusal.
fn count(form: &HashMap<String, String>, name: &str, label: &str) -> Result<Option<u64>, AppError> {
    match optional(form, name) {
        None => Ok(None),
        Some(text) => text.parse::<u64>().map(Some).map_err(|_| {
            AppError::invalid(
                name,
                format!("{label} must be a whole number of 0 or more, not {text:?}"),
            )
        }),
    }
}

/// A serde enum (quota period, plan type) from its name in a form field.
fn named<T: serde::de::DeserializeOwned>(
    form: &HashMap<String, String>,
    name: &str,
    choices: &str,
) -> Result<Option<T>, AppError> {
    match optional(form, name) {
        None => Ok(None),
        Some(text) => serde_json::from_value(serde_json::Value::String(text.clone()))
            .map(Some)
            .map_err(|_| {
                AppError::invalid(
                    name,
                    format!("{name} must be one of {choices}, not {text:?}"),
                )
            }),
    }
}

/// The admin API's `CreatePlan` from the console's form: name, type, a rate limit
/// (`rate_requests` per `rate_seconds`) and a quota (`quota_requests` per `quota_period`),
/// each left out when its request count is empty.
pub fn plan_body(form: &HashMap<String, String>) -> Result<CreatePlan, AppError> {
    let rate_limit = match count(form, "rate_requests", "The rate limit's requests")? {
        None => None,
        Some(requests) => {
            let per_seconds =
                count(form, "rate_seconds", "The rate limit's period")?.ok_or_else(|| {
                    AppError::invalid("rate_seconds", "Give the rate limit's period in seconds")
                })?;
            Some(RateLimit {
                requests,
                per_seconds,
                ..RateLimit::default()
            })
        }
    };
    let quota = match count(form, "quota_requests", "The quota's requests")? {
        None => None,
        Some(requests) => Some(Quota {
            requests,
            period: named(form, "quota_period", "hour, day or month")?.ok_or_else(|| {
                AppError::invalid(
                    "quota_period",
                    "Give the quota's period: hour, day or month",
                )
            })?,
            anchor: None,
            enforcement: None,
            mode: None,
            lease: None,
            fail: None,
            hide_headers: None,
            max_over_admission: None,
        }),
    };
    Ok(CreatePlan {
        name: field(form, "name").to_owned(),
        rate_limit,
        quota,
        plan_type: named(form, "type", "free or custom")?,
        trial_days: None,
        price: None,
        entitlements: None,
    })
}

#[derive(Template)]
#[template(path = "console/plans.html")]
struct PlansPage {
    chrome: Chrome,
    plans: Vec<PlanLine>,
    can_write: bool,
    error: Option<String>,
    form: HashMap<String, String>,
}

async fn plans_page(
    state: &AppState,
    op: &Operator,
    status: StatusCode,
    error: Option<String>,
    form: HashMap<String, String>,
) -> Result<Response, ConsoleError> {
    let axum::Json(plans) = list_plans(State(state.clone()), Extension(op.actor.clone())).await?;
    render(
        status,
        &PlansPage {
            chrome: op.chrome(),
            plans: plans.into_iter().map(line).collect(),
            can_write: op.may(Permission::PlansWrite),
            error,
            form,
        },
    )
}

/// `GET /console/plans`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_page(&state.db, &headers, Permission::PlansRead).await?;
    plans_page(&state, &op, StatusCode::OK, None, HashMap::new()).await
}

/// `POST /console/plans`: a new plan; back to the list, or the form again with the reason.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_post(&state.db, &headers, &form, Permission::PlansWrite).await?;
    let outcome = match plan_body(&form) {
        Ok(body) => create_plan(
            State(state.clone()),
            Extension(op.actor.clone()),
            Json(body),
        )
        .await
        .map(|(_, axum::Json(plan))| plan),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(plan) => Ok(see_other(&format!("/console/plans#{}", plan.id.0), None)),
        Err(e) => {
            let (status, detail) = refused(e)?;
            plans_page(&state, &op, status, Some(detail), form).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_counts_leave_limits_out_and_filled_ones_become_the_admin_body() {
        let body = plan_body(&form(&[("name", "Free"), ("rate_requests", " ")])).unwrap();
        assert!(body.rate_limit.is_none() && body.quota.is_none() && body.plan_type.is_none());
        let body = plan_body(&form(&[
            ("name", "Gold"),
            ("type", "free"),
            ("rate_requests", "10"),
            ("rate_seconds", "60"),
            ("quota_requests", "1000"),
            ("quota_period", "month"),
        ]))
        .unwrap();
        assert_eq!(
            body.rate_limit.map(|r| (r.requests, r.per_seconds)),
            Some((10, 60))
        );
        assert_eq!(body.quota.map(|q| q.requests), Some(1000));
    }

    #[test]
    fn careless_numbers_and_names_are_refused_with_the_field() {
        for bad in [
            vec![("rate_requests", "ten"), ("rate_seconds", "60")],
            vec![("rate_requests", "-1"), ("rate_seconds", "60")],
            vec![("rate_requests", "10")],
            vec![("rate_requests", "10"), ("rate_seconds", "1e3")],
            vec![("quota_requests", "5")],
            vec![("quota_requests", "5"), ("quota_period", "year")],
            vec![("type", "<b>")],
        ] {
            let e = plan_body(&form(&bad)).expect_err("refused");
            assert_eq!(e.problem().status, 422, "{bad:?}");
        }
    }
}
