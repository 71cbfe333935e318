//! Storing a forwarded answer in the Cache API (after the answer is sent) when the rules
//! allow it, and marking every answer of a caching route with `Cache-Status`.

use crate::background::in_background;
use crate::cache_entry::{self, Entry, INTERNAL_PREFIX};
use crate::cache_layer::CachePlan;
use crate::config::now_ms;
use crate::metrics::{bump, Counter};
use tollgate_core::cache::{
    cache_status_field, storable, variant_key, vary_names, CacheStatus, Forward, RequestDecision,
    ResponseFacts, RouteRule,
};
use tollgate_core::{Problem, ProblemKind};
use worker::{Cache, Headers, Response};

fn internal(_: worker::Error) -> Problem {
    Problem::new(
        ProblemKind::Internal,
        "the answer could not be marked for the cache",
    )
}

/// Stores a forwarded answer when it may be stored (in the background) and marks it
/// with `Cache-Status`.
pub fn store(plan: CachePlan, mut resp: Response) -> Result<Response, Problem> {
    let status = resp.status_code();
    let (fwd, stored, detail) = match plan.decision {
        RequestDecision::Bypass(detail) => (Forward::Bypass, false, Some(detail)),
        RequestDecision::Method => (Forward::Method, false, None),
        RequestDecision::Lookup if !plan.is_get => (plan.fwd, false, Some("head")),
        RequestDecision::Lookup => {
            let h = resp.headers();
            let get = |n: &str| h.get(n).ok().flatten();
            let (cc, expires, date, vary) = (
                get("cache-control"),
                get("expires"),
                get("date"),
                get("vary"),
            );
            let facts = ResponseFacts {
                status,
                cache_control: cc.as_deref(),
                expires: expires.as_deref(),
                date: date.as_deref(),
                vary: vary.as_deref(),
                has_set_cookie: h.has("set-cookie").unwrap_or(true),
                now_secs: now_ms() / 1_000,
            };
            let rule = RouteRule {
                default_ttl_secs: plan.default_ttl_secs,
                max_ttl_secs: plan.max_ttl_secs,
                tags: &plan.tags,
                cache_authenticated: true,
            };
            match storable(&rule, &facts) {
                Ok(ttl) => {
                    let copy = resp.cloned().map_err(internal)?;
                    put_later(&plan, copy, ttl, vary.as_deref())?;
                    (plan.fwd, true, None)
                }
                Err(refusal) => (plan.fwd, false, Some(refusal.detail())),
            }
        }
    };
    bump(match (fwd, stored) {
        (_, true) => Counter::CacheStored,
        (Forward::Bypass | Forward::Method, _) => Counter::CacheBypass,
        _ => Counter::CacheMiss,
    });
    let value = cache_status_field(&CacheStatus::Forward {
        fwd,
        fwd_status: Some(status),
        stored,
        detail,
    });
    resp.headers_mut()
        .set("cache-status", &value)
        .map_err(internal)?;
    let smuggled: Vec<String> = resp
        .headers()
        .keys()
        .filter(|n| n.starts_with(INTERNAL_PREFIX))
        .collect();
    for name in smuggled {
        resp.headers_mut().delete(&name).map_err(internal)?;
    }
    Ok(resp)
}

fn put_later(
    plan: &CachePlan,
    copy: Response,
    ttl: u32,
    vary: Option<&str>,
) -> Result<(), Problem> {
    let now = now_ms();
    let entry = Entry {
        stored_at_ms: now,
        expires_at_ms: now + u64::from(ttl) * 1_000,
        tags: plan.tags.clone(),
        path: plan.path.clone(),
        initial_age_secs: copy
            .headers()
            .get("age")
            .ok()
            .flatten()
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or(0),
    };
    let names = vary.map(vary_names).unwrap_or_default();
    let headers = entry
        .stored_headers(copy.headers(), ttl)
        .map_err(internal)?;
    let status = copy.status_code();
    let (_, body) = copy.into_parts();
    let stored = Response::builder()
        .with_status(status)
        .with_headers(headers)
        .body(body);
    let primary_url = format!("{}{}", plan.base_url, plan.primary);
    let marker = if names.is_empty() {
        None
    } else {
        let m = Headers::new();
        m.set(cache_entry::VARY_MARKER, &names.join(", "))
            .map_err(internal)?;
        m.set("cache-control", &format!("public, max-age={ttl}"))
            .map_err(internal)?;
        Some(Response::builder().with_headers(m).empty())
    };
    let target = match &marker {
        None => primary_url.clone(),
        Some(_) => format!("{}{}", plan.base_url, vary_key_of(plan, &names)),
    };
    in_background(async move {
        let cache = Cache::default();
        if let Some(m) = marker {
            if let Err(e) = cache.put(primary_url.as_str(), m).await {
                worker::console_warn!("edge: cache write failed: {e}");
            }
        }
        if let Err(e) = cache.put(target.as_str(), stored).await {
            worker::console_warn!("edge: cache write failed: {e}");
        }
    });
    Ok(())
}

fn vary_key_of(plan: &CachePlan, names: &[String]) -> String {
    let headers = &plan.vary_request;
    variant_key(&plan.primary, names, |n| headers.get(n).ok().flatten())
}
