//! The enforcement options of a plan's `rate_limit` and `quota` (and of scoped limits),
//! and their translation into the `tollgate_core::limits` policies the edge enforces.
//! Every refusal is a 422 naming the member at fault, e.g. `rate_limit.lease`.

use crate::admin::plans::{fetch_plans, Quota, QuotaPeriod, RateLimit};
use crate::clock::parse_rfc3339;
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use tollgate_core::limits::calendar::Period;
use tollgate_core::limits::lease::{default_lease, max_over_admission};
use tollgate_core::limits::{validate, Algorithm, Enforcement, FailMode, LimitPolicy, Mode};
use tollgate_core::limits::{PlanLimits, Subject};
use tollgate_core::PlanId;
use utoipa::ToSchema;

/// How a rate limit counts: `gcra` (default; smooth, with burst), `fixed_window` or
/// `sliding_window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateAlgorithm {
    Gcra,
    FixedWindow,
    SlidingWindow,
}

/// `strict` (default: every request asks the limiter, exact) or `fast` (the edge leases
/// `lease` units at a time; over-admission bounded by `max_over_admission`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LimitMode {
    Strict,
    Fast,
}

/// A moment as RFC 3339 text or unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Moment {
    UnixMillis(i64),
    Rfc3339(String),
}

/// Options every policy takes.
pub struct Options {
    pub mode: Option<LimitMode>,
    pub lease: Option<u64>,
    pub fail: Option<FailMode>,
    pub hide_headers: Option<bool>,
}

fn invalid(prefix: &str, field: &str, detail: impl Into<String>) -> AppError {
    AppError::invalid(format!("{prefix}.{field}"), detail)
}

/// Builds and checks one policy; `prefix` names the member in errors.
pub fn policy(
    prefix: &str,
    id: String,
    name: String,
    algorithm: Algorithm,
    subject: Subject,
    options: Options,
) -> Result<LimitPolicy, AppError> {
    let mode = match options.mode.unwrap_or(LimitMode::Strict) {
        LimitMode::Strict if options.lease.is_some() => {
            return Err(invalid(prefix, "lease", "applies to `mode: fast` only"))
        }
        LimitMode::Strict => Mode::Strict,
        LimitMode::Fast => Mode::Fast {
            lease: options
                .lease
                .unwrap_or_else(|| default_lease(algorithm.requests())),
        },
    };
    let policy = LimitPolicy {
        id,
        name,
        algorithm,
        subject,
        mode,
        fail: options.fail.unwrap_or_default(),
        hide_headers: options.hide_headers.unwrap_or(false),
    };
    validate(&policy).map_err(|e| {
        let field = match e.field {
            "window" if prefix.starts_with("rate") => "per_seconds",
            "window" => "timeout_secs",
            other => other,
        };
        invalid(prefix, field, e.detail)
    })?;
    Ok(policy)
}

/// The core algorithm of a rate limit.
pub fn rate_algorithm(limit: &RateLimit) -> Result<Algorithm, AppError> {
    let period_ms = limit.per_seconds.saturating_mul(1_000);
    let burst = limit.burst.unwrap_or(limit.requests);
    Ok(match limit.algorithm.unwrap_or(RateAlgorithm::Gcra) {
        RateAlgorithm::Gcra => Algorithm::Gcra {
            requests: limit.requests,
            period_ms,
            burst,
        },
        windowed if burst != limit.requests => {
            return Err(AppError::invalid(
                "rate_limit.burst",
                format!("applies to `gcra` only, not `{windowed:?}`"),
            ))
        }
        RateAlgorithm::FixedWindow => Algorithm::FixedWindow {
            requests: limit.requests,
            window_ms: period_ms,
        },
        RateAlgorithm::SlidingWindow => Algorithm::SlidingWindow {
            requests: limit.requests,
            window_ms: period_ms,
        },
    })
}

/// The anchor of a quota's periods in unix ms (0: calendar periods in UTC).
pub fn anchor_ms(anchor: Option<&Moment>) -> Result<i64, AppError> {
    match anchor {
        None => Ok(0),
        Some(Moment::UnixMillis(ms)) => Ok(*ms),
        Some(Moment::Rfc3339(text)) => parse_rfc3339(text).ok_or_else(|| {
            AppError::invalid(
                "quota.anchor",
                "must be RFC 3339 (`2026-01-15T00:00:00Z`) or unix milliseconds",
            )
        }),
    }
}

/// The core algorithm of a quota.
pub fn quota_algorithm(quota: &Quota) -> Result<Algorithm, AppError> {
    Ok(Algorithm::Quota {
        requests: quota.requests,
        period: match quota.period {
            QuotaPeriod::Hour => Period::Hour,
            QuotaPeriod::Day => Period::Day,
            QuotaPeriod::Month => Period::Month,
        },
        anchor_ms: anchor_ms(quota.anchor.as_ref())?,
        enforcement: quota.enforcement.unwrap_or(Enforcement::Hard),
    })
}

/// The policy of a plan's (or a scoped limit's) rate limit.
pub fn rate_policy(
    id: String,
    name: String,
    limit: &RateLimit,
    subject: Subject,
) -> Result<LimitPolicy, AppError> {
    let options = Options {
        mode: limit.mode,
        lease: limit.lease,
        fail: limit.fail,
        hide_headers: limit.hide_headers,
    };
    policy(
        "rate_limit",
        id,
        name,
        rate_algorithm(limit)?,
        subject,
        options,
    )
}

/// The policy of a plan's (or a scoped limit's) quota.
pub fn quota_policy(
    id: String,
    name: String,
    quota: &Quota,
    subject: Subject,
) -> Result<LimitPolicy, AppError> {
    let options = Options {
        mode: quota.mode,
        lease: quota.lease,
        fail: quota.fail,
        hide_headers: quota.hide_headers,
    };
    policy("quota", id, name, quota_algorithm(quota)?, subject, options)
}

/// Every policy of a plan: `rate` and `quota`, counted per key.
pub fn plan_policies(
    plan_id: &PlanId,
    rate_limit: Option<&RateLimit>,
    quota: Option<&Quota>,
) -> Result<PlanLimits, AppError> {
    let mut policies = Vec::new();
    if let Some(limit) = rate_limit {
        let id = format!("{plan_id}.rate");
        policies.push(rate_policy(id, "rate".into(), limit, Subject::Key)?);
    }
    if let Some(quota) = quota {
        let id = format!("{plan_id}.quota");
        policies.push(quota_policy(id, "quota".into(), quota, Subject::Key)?);
    }
    Ok(PlanLimits {
        plan_id: plan_id.clone(),
        policies,
    })
}

/// What fast mode may over-admit, stated in answers (`None` for strict policies).
pub fn stated_bound(policy: &LimitPolicy) -> Option<u64> {
    matches!(policy.mode, Mode::Fast { .. }).then(|| max_over_admission(policy))
}

/// Checks the limits are enforceable and states fast mode's bound in them.
pub fn enforceable(
    id: &PlanId,
    mut rate_limit: Option<RateLimit>,
    mut quota: Option<Quota>,
) -> Result<(Option<RateLimit>, Option<Quota>), AppError> {
    let limits = plan_policies(id, rate_limit.as_ref(), quota.as_ref())?;
    for policy in &limits.policies {
        if policy.id.ends_with(".rate") {
            if let Some(r) = rate_limit.as_mut() {
                r.max_over_admission = stated_bound(policy);
            }
        } else if let Some(q) = quota.as_mut() {
            q.max_over_admission = stated_bound(policy);
        }
    }
    Ok((rate_limit, quota))
}

/// Every plan's limits as the edge enforces them (a plan stored with limits that no
/// longer validate is left out and logged, never half-enforced).
pub async fn load_plan_limits(db: &crate::db::Db) -> Result<Vec<PlanLimits>, AppError> {
    let mut out = Vec::new();
    for plan in fetch_plans(db).await? {
        match plan_policies(&plan.id, plan.rate_limit.as_ref(), plan.quota.as_ref()) {
            Ok(limits) if !limits.policies.is_empty() => out.push(limits),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(plan_id = %plan.id, error = %e, "plan limits not enforceable")
            }
        }
    }
    Ok(out)
}
