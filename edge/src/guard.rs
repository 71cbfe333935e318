//! The phase between authorisation and the upstream: rate limits and quotas, then load
//! shedding, then the forward itself; the answer gets the RateLimit headers. Also the
//! token-guarded metrics endpoint.

use crate::config::{now_ms, EdgeConfig};
use crate::isolate_cache::RoutedSnapshot;
use crate::limit_answers::Refusal;
use crate::limits::{admit, release, Admission};
use crate::metrics::{bump, render, Counter};
use crate::problem_response::{problem_response, rate_limited_response};
use crate::proxy::{forward, Caller};
use crate::shedding;
use crate::{cache_layer, cache_store};
use subtle::ConstantTimeEq;
use tollgate_core::limits::headers::retry_after_secs;
use tollgate_core::limits::select::{limits_for, Caller as LimitCaller};
use tollgate_core::problem::RateLimitedProblem;
use tollgate_core::route::RouteMatch;
use tollgate_core::shed::ShedDecision;
use tollgate_core::{Problem, ProblemKind};
use worker::{Env, Request, Response};

/// Path of the metrics endpoint.
pub const METRICS_PATH: &str = "/.tollgate/metrics";

fn internal(_: worker::Error) -> Problem {
    Problem::new(ProblemKind::Internal, "the answer could not be built")
}

fn with_headers(
    mut resp: Response,
    headers: &[(&'static str, String)],
) -> Result<Response, Problem> {
    for (name, value) in headers {
        resp.headers_mut().set(name, value).map_err(internal)?;
    }
    Ok(resp)
}

fn render_refusal(refusal: Refusal) -> Result<Response, Problem> {
    let resp = match refusal.violation {
        Some(violation) => rate_limited_response(&RateLimitedProblem {
            problem: refusal.problem,
            violation,
        }),
        None => problem_response(&refusal.problem),
    }
    .map_err(internal)?;
    with_headers(resp, &refusal.headers)
}

/// Limits, sheds or forwards a routed, authorised request.
pub async fn guarded_forward(
    req: &Request,
    env: &Env,
    cfg: &EdgeConfig,
    snapshot: &RoutedSnapshot,
    route: &RouteMatch<'_>,
    caller: Caller<'_>,
) -> Result<Response, Problem> {
    crate::usage_meter::note_caller(caller.key);
    let ip = req.headers().get("cf-connecting-ip").ok().flatten();
    let who = LimitCaller {
        api_id: &route.api.id,
        key: caller.key,
        ip: ip.as_deref(),
    };
    let subjects = limits_for(&snapshot.plans, &snapshot.limits, &who);
    let admission = if subjects.is_empty() {
        Admission::default()
    } else {
        match admit(env, cfg, &subjects).await {
            Ok(a) => a,
            Err(refusal) => return render_refusal(refusal),
        }
    };
    // After the limits, so a hit is counted like any call; before shedding, so an
    // overloaded upstream's cached answers are still served.
    let mut cached = cache_layer::plan(req, snapshot, route, &caller);
    if let Some(hit) = cache_layer::lookup(req, cached.as_mut(), snapshot, &route.api.id).await {
        let headers = admission.headers.clone();
        release(env, cfg, admission).await;
        return with_headers(hit, &headers);
    }
    let shed = snapshot.shedding.get(&route.api.id);
    if shed.is_some() {
        if let ShedDecision::Shed { retry_after_ms } = shedding::check(&route.api.id) {
            bump(Counter::Shed);
            release(env, cfg, admission).await;
            return Err(Problem::new(
                ProblemKind::ServiceUnavailable,
                format!(
                    "the upstream of `{}` is overloaded; the edge is shedding load for a moment",
                    route.api.name
                ),
            )
            .with_retry_after(retry_after_secs(retry_after_ms)));
        }
    }
    let started = now_ms();
    let answer = forward(req, route, caller, cfg).await;
    if let Some(policy) = shed {
        let upstream_error = match &answer {
            Ok(resp) => resp.status_code() >= 500,
            Err(p) => p.status >= 500,
        };
        shedding::observe(&route.api.id, policy, upstream_error, now_ms() - started);
    }
    let answer = match cached {
        Some(plan) => answer.and_then(|resp| cache_store::store(plan, resp)),
        None => answer,
    };
    let headers = admission.headers.clone();
    release(env, cfg, admission).await;
    with_headers(answer?, &headers)
}

/// Answers `/.tollgate/metrics` when `METRICS_TOKEN` is set (`None`: not this path).
pub fn metrics_endpoint(req: &Request, cfg: &EdgeConfig) -> Option<Result<Response, Problem>> {
    let token = cfg.metrics_token.as_deref()?;
    if req.path() != METRICS_PATH {
        return None;
    }
    let presented = req.headers().get("authorization").ok().flatten();
    let expected = format!("Bearer {token}");
    let ok = presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(expected.as_bytes())));
    if !ok {
        return Some(Err(Problem::new(
            ProblemKind::InvalidCredential,
            "the metrics endpoint needs `Authorization: Bearer <METRICS_TOKEN>`",
        )));
    }
    Some(Response::ok(render()).map_err(internal))
}
