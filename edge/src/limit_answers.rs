//! What the limits answer: the RateLimit headers for a request's grants, and the 429
//! a refusal becomes (problem+json naming the policy, its limit and reset).

use crate::metrics::{bump, Counter};
use tollgate_core::limits::headers::{
    policy_item, ratelimit_field, ratelimit_policy_field, retry_after_secs, service_limit,
    whole_secs,
};
use tollgate_core::limits::{Grant, LimitPolicy};
use tollgate_core::problem::Violation;
use tollgate_core::{Problem, ProblemKind};

/// A request the limits refused (a 429 or a fail-closed 503) and the headers it carries.
pub struct Refusal {
    pub problem: Problem,
    /// For 429s: the policy that refused.
    pub violation: Option<Violation>,
    pub headers: Vec<(&'static str, String)>,
}

/// The headers describing `reported` grants (hidden policies left out).
pub fn headers_for(
    reported: &[(LimitPolicy, Grant)],
    unavailable: bool,
) -> Vec<(&'static str, String)> {
    let shown: Vec<_> = reported.iter().filter(|(p, _)| !p.hide_headers).collect();
    let mut out = Vec::new();
    let items: Vec<_> = shown.iter().map(|(p, _)| policy_item(p)).collect();
    if let Some(v) = ratelimit_policy_field(&items) {
        out.push(("ratelimit-policy", v));
    }
    let limits: Vec<_> = shown.iter().map(|(p, g)| service_limit(p, g)).collect();
    if let Some(v) = ratelimit_field(&limits) {
        out.push(("ratelimit", v));
    }
    if unavailable {
        out.push(("tollgate-limiter", "unavailable; fail=open".to_owned()));
    }
    let over: Vec<&str> = reported
        .iter()
        .filter(|(_, g)| g.overage)
        .map(|(p, _)| p.name.as_str())
        .collect();
    if !over.is_empty() {
        // A soft quota admitted this request beyond its limit: billed as overage.
        out.push(("tollgate-overage", over.join(", ")));
    }
    out
}

/// The 429 for `policy` refusing with `grant`.
pub fn too_many(policy: &LimitPolicy, grant: &Grant, reported: &[(LimitPolicy, Grant)]) -> Refusal {
    bump(Counter::Refused);
    let reset = whole_secs(grant.reset_ms);
    let limit = policy.algorithm.requests();
    let problem = Problem::new(
        ProblemKind::RateLimited,
        format!(
            "the limit `{}` of {limit} is used up; it has room again in {reset} s",
            policy.name
        ),
    )
    .with_retry_after(retry_after_secs(grant.reset_ms));
    let violation = Violation {
        violated_policies: vec![policy.name.clone()],
        limit,
        reset,
    };
    Refusal {
        problem,
        violation: Some(violation),
        headers: headers_for(reported, false),
    }
}
