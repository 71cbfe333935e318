//! Plans: the rate limit and quota a key is held to. Stored as JSON; the edge enforces
//! them from the config snapshot (see `plan_limits` for the options and translation).

use crate::admin::fields;
use crate::admin::plan_limits::{enforceable, LimitMode, Moment, RateAlgorithm};
use crate::admin::plan_price::PriceColumns;
use crate::admin::plan_terms::{check_terms, Entitlements, PlanTerms, PlanType, Price};
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::ids::new_plan_id;
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::limits::{Enforcement, FailMode};
use tollgate_core::PlanId;
use utoipa::ToSchema;

/// At most `requests` per `per_seconds`, with bursts up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub requests: u64,
    pub per_seconds: u64,
    /// Defaults to `requests`.
    #[serde(default)]
    pub burst: Option<u64>,
    /// `gcra` (default), `fixed_window` or `sliding_window`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<RateAlgorithm>,
    /// `strict` (default) or `fast`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<LimitMode>,
    /// Fast mode: units an edge isolate leases at a time (default: a twentieth of `requests`, 1–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<u64>,
    /// When the limiter is unreachable: `open` (default, admit) or `closed` (503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^(open|closed)$")]
    pub fail: Option<FailMode>,
    /// Send no RateLimit headers for this limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_headers: Option<bool>,
    /// In answers, for `fast` mode: the most it may admit beyond `requests` + `burst` in any window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_over_admission: Option<u64>,
}

/// How long a quota runs before it resets. `month` is the calendar month (UTC), the same
/// period usage is billed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuotaPeriod {
    Hour,
    Day,
    Month,
}

/// At most `requests` per `period`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub requests: u64,
    pub period: QuotaPeriod,
    /// Where periods start (the billing date): RFC 3339 or unix ms; default: calendar
    /// periods in UTC. A month anchored on the 31st ends on shorter months' last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Moment>,
    /// `hard` (default: 429 when exhausted) or `soft` (admit, flag as overage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^(hard|soft)$")]
    pub enforcement: Option<Enforcement>,
    /// `strict` (default) or `fast`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<LimitMode>,
    /// Fast mode: units an edge isolate leases at a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<u64>,
    /// When the limiter is unreachable: `open` (default) or `closed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^(open|closed)$")]
    pub fail: Option<FailMode>,
    /// Send no RateLimit headers for this quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_headers: Option<bool>,
    /// In answers, for `fast` mode: the most it may admit beyond `requests` per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_over_admission: Option<u64>,
}

/// Body of `POST /admin/v1/plans`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlan {
    /// e.g. `Free`.
    pub name: String,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub quota: Option<Quota>,
    /// `free`, `trial`, `paid` or `custom` (default).
    #[serde(default, rename = "type")]
    pub plan_type: Option<PlanType>,
    /// Trial length: required for `trial` plans, optional for `paid` and `custom` ones.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub trial_days: Option<u64>,
    /// Required for `paid` plans; none for `free` and `trial` ones.
    #[serde(default)]
    pub price: Option<Price>,
    #[serde(default)]
    pub entitlements: Option<Entitlements>,
}

impl CreatePlan {
    /// The commercial terms, for [`check_terms`].
    pub fn terms(&self) -> PlanTerms {
        PlanTerms {
            plan_type: self.plan_type,
            trial_days: self.trial_days,
            price: self.price.clone(),
            entitlements: self.entitlements.clone(),
        }
    }
}

/// A plan as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Plan {
    #[schema(value_type = String, example = "plan_0f8e9c3b4a5d4e6f8a7b6c5d4e3f2a1b")]
    pub id: PlanId,
    pub name: String,
    pub rate_limit: Option<RateLimit>,
    pub quota: Option<Quota>,
    #[serde(rename = "type")]
    pub plan_type: PlanType,
    pub trial_days: Option<u64>,
    pub price: Option<Price>,
    pub entitlements: Option<Entitlements>,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: String,
    name: String,
    rate_limit_json: Option<String>,
    quota_json: Option<String>,
    created_at: i64,
    plan_type: Option<String>,
    trial_days: Option<i64>,
    price_currency: Option<String>,
    price_amount_minor: Option<i64>,
    price_interval: Option<String>,
    unit_price_minor: Option<i64>,
    unit_size: Option<i64>,
    included_units: Option<i64>,
    entitlements_json: Option<String>,
    price_extra_json: Option<String>,
}

impl PlanRow {
    fn into_plan(self) -> Result<Plan, AppError> {
        let price = PriceColumns {
            currency: self.price_currency,
            amount_minor: self.price_amount_minor,
            interval: self.price_interval,
            unit_price_minor: self.unit_price_minor,
            unit_size: self.unit_size,
            included_units: self.included_units,
            extra_json: self.price_extra_json,
        }
        .price();
        Ok(Plan {
            rate_limit: decode(&self.id, "rate limit", self.rate_limit_json.as_deref())?,
            quota: decode(&self.id, "quota", self.quota_json.as_deref())?,
            plan_type: PlanType::parse(self.plan_type.as_deref()),
            trial_days: self.trial_days.and_then(|d| u64::try_from(d).ok()),
            price,
            entitlements: decode(&self.id, "entitlements", self.entitlements_json.as_deref())?,
            id: PlanId(self.id),
            name: self.name,
            created_at: format_rfc3339(self.created_at),
        })
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    plan_id: &str,
    what: &str,
    json: Option<&str>,
) -> Result<Option<T>, AppError> {
    json.map(serde_json::from_str).transpose().map_err(|e| {
        AppError::Unexpected(
            anyhow::Error::new(e).context(format!("stored {what} of plan {plan_id}")),
        )
    })
}

pub(crate) fn check_rate_limit(limit: RateLimit) -> Result<RateLimit, AppError> {
    if limit.requests == 0 {
        return Err(AppError::invalid(
            "rate_limit.requests",
            "must be at least 1",
        ));
    }
    if limit.per_seconds == 0 {
        return Err(AppError::invalid(
            "rate_limit.per_seconds",
            "must be at least 1",
        ));
    }
    let burst = limit.burst.unwrap_or(limit.requests);
    if burst == 0 {
        return Err(AppError::invalid("rate_limit.burst", "must be at least 1"));
    }
    Ok(RateLimit {
        burst: Some(burst),
        max_over_admission: None,
        ..limit
    })
}

pub(crate) fn check_quota(quota: Quota) -> Result<Quota, AppError> {
    if quota.requests == 0 {
        return Err(AppError::invalid("quota.requests", "must be at least 1"));
    }
    Ok(Quota {
        max_over_admission: None,
        ..quota
    })
}

pub(crate) fn encode<T: Serialize>(value: Option<&T>) -> Result<Option<String>, AppError> {
    value
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding plan limits")))
}

/// Creates a plan.
#[utoipa::path(
    post,
    path = "/admin/v1/plans",
    tag = "plans",
    request_body = CreatePlan,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created", body = Plan),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_plan(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreatePlan>,
) -> Result<(StatusCode, axum::Json<Plan>), AppError> {
    let name = fields::text("name", &body.name)?;
    let terms = body.terms();
    let rate_limit = body.rate_limit.map(check_rate_limit).transpose()?;
    let quota = body.quota.map(check_quota).transpose()?;
    let terms = check_terms(&state.db, &actor, terms).await?;
    let id = new_plan_id();
    let (rate_limit, quota) = enforceable(&id, rate_limit, quota)?;
    let now = now_ms();
    let price = PriceColumns::of(terms.price.as_ref());
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query(
        "INSERT INTO plans (id, name, rate_limit_json, quota_json, created_at, org_id, plan_type, trial_days, \
         price_currency, price_amount_minor, price_interval, unit_price_minor, unit_size, included_units, entitlements_json, \
         price_extra_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(id.as_str())
    .bind(&name)
    .bind(encode(rate_limit.as_ref())?)
    .bind(encode(quota.as_ref())?)
    .bind(now)
    .bind(actor.org_id())
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
    .execute(&mut *tx)
    .await?;
    config_version::bump(&mut *tx).await?;
    let plan = Plan {
        id,
        name,
        rate_limit,
        quota,
        plan_type: terms.plan_type.unwrap_or_default(),
        trial_days: terms.trial_days,
        price: terms.price,
        entitlements: terms.entitlements,
        created_at: format_rfc3339(now),
    };
    let change = audit::Change {
        action: "plan.create",
        target_type: "plan",
        target_id: plan.id.as_str(),
        before: None,
        after: audit::snapshot_of(&plan),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(plan_id = %plan.id, "plan created");
    Ok((StatusCode::CREATED, axum::Json(plan)))
}

const SELECT_PLANS: &str = "SELECT id, name, rate_limit_json, quota_json, created_at, plan_type, trial_days, \
     price_currency, price_amount_minor, price_interval, unit_price_minor, unit_size, included_units, entitlements_json, price_extra_json FROM plans";

/// Lists every plan, oldest first.
#[utoipa::path(
    get,
    path = "/admin/v1/plans",
    tag = "plans",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "All plans", body = Vec<Plan>),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_plans(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<axum::Json<Vec<Plan>>, AppError> {
    let (clause, org) = org_clause(&actor, "org_id", 1);
    let sql = format!("{SELECT_PLANS} WHERE 1 = 1{clause} ORDER BY created_at, id");
    let query = bind_org(sqlx::query_as(&sql), org);
    let rows: Vec<PlanRow> = query.fetch_all(&state.db).await?;
    let plans = rows
        .into_iter()
        .map(PlanRow::into_plan)
        .collect::<Result<_, _>>()?;
    Ok(axum::Json(plans))
}

/// Every plan of every organisation, oldest first (for the edge snapshot).
pub async fn fetch_plans(db: &crate::db::Db) -> Result<Vec<Plan>, AppError> {
    let rows: Vec<PlanRow> = sqlx::query_as(&format!("{SELECT_PLANS} ORDER BY created_at, id"))
        .fetch_all(db)
        .await?;
    rows.into_iter().map(PlanRow::into_plan).collect()
}

/// One plan by id.
#[utoipa::path(
    get,
    path = "/admin/v1/plans/{id}",
    tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The plan", body = Plan),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No plan has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_plan(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Plan>, AppError> {
    let row: Option<PlanRow> = sqlx::query_as(&format!("{SELECT_PLANS} WHERE id = $1"))
        .bind(&id)
        .fetch_optional(&state.db)
        .await?;
    let row = row.ok_or(AppError::NotFound { what: "plan", id })?;
    Ok(axum::Json(row.into_plan()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_defaults_to_the_request_count_and_zeros_are_refused() {
        let limit = check_rate_limit(RateLimit {
            requests: 10,
            per_seconds: 1,
            burst: None,
            ..RateLimit::default()
        })
        .unwrap();
        assert_eq!(limit.burst, Some(10));
        let zero = RateLimit {
            requests: 0,
            per_seconds: 1,
            burst: None,
            ..RateLimit::default()
        };
        assert_eq!(
            check_rate_limit(zero)
                .unwrap_err()
                .problem()
                .field
                .as_deref(),
            Some("rate_limit.requests")
        );
        let quota = Quota {
            requests: 0,
            period: QuotaPeriod::Month,
            anchor: None,
            enforcement: None,
            mode: None,
            lease: None,
            fail: None,
            hide_headers: None,
            max_over_admission: None,
        };
        assert_eq!(
            check_quota(quota).unwrap_err().problem().field.as_deref(),
            Some("quota.requests")
        );
    }
}
