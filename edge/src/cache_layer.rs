//! Edge response caching with the Workers Cache API, between the limits and the forward:
//! authentication and limits have already admitted the request, so a hit is counted
//! against quotas like any other call. The rules come from `tollgate_core::cache`; this
//! module reads and writes the cache and shapes the answers.
//!
//! An entry is the upstream's answer with tollgate's bookkeeping in `x-tollgate-cache-*`
//! headers (stored time, expiry, tags, path, the upstream's own `Cache-Control` and
//! `Vary`), stripped before answering. When the answer has a `Vary`, a marker under the
//! primary key names the headers and the answer lives under the variant key. Stores run
//! after the answer is sent, via `waitUntil` (see `background`); `cache_store` stores.

use crate::cache_entry::{self, Entry};
use crate::config::now_ms;
use crate::isolate_cache::RoutedSnapshot;
use crate::metrics::{bump, Counter};
use crate::proxy::Caller;
use tollgate_core::cache::{
    cache_status_field, is_not_modified, primary_key, request_decision, variant_key, vary_names,
    CacheStatus, Forward, KeyParts, RequestDecision, RequestFacts, Validators,
};
use tollgate_core::route::RouteMatch;
use worker::{Cache, Headers, Request, Response};

/// What the cache does for one request on a route with caching on.
pub struct CachePlan {
    pub(crate) decision: RequestDecision,
    pub(crate) primary: String,
    pub(crate) base_url: String,
    pub(crate) path: String,
    pub(crate) tags: Vec<String>,
    pub(crate) default_ttl_secs: u32,
    pub(crate) max_ttl_secs: u32,
    pub(crate) is_get: bool,
    pub(crate) fwd: Forward,
    /// The request's headers, for the variant key when the answer has a `Vary`.
    pub(crate) vary_request: Headers,
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The plan for a request, or `None` when the route does not cache.
pub fn plan(
    req: &Request,
    snapshot: &RoutedSnapshot,
    route: &RouteMatch<'_>,
    caller: &Caller<'_>,
) -> Option<CachePlan> {
    let api = snapshot.cache.for_api(&route.api.id)?;
    // A tollgate key names the consumer; a credential passed on to the upstream of an
    // open API is its own identity (only ever hashed into the key).
    let authorization = header(req, "authorization");
    let authenticated = caller.credential.is_some() || authorization.is_some();
    let consumer = match caller.key {
        Some(k) => Some(k.consumer_id.as_str().to_owned()),
        None => authorization,
    };
    let method = req.method().as_ref().to_owned();
    // Non-GET/HEAD methods still get a Cache-Status on a route that caches GETs.
    let rule = api
        .policy
        .rule_for(if method == "HEAD" { "HEAD" } else { "GET" }, &route.rest)?;
    let cache_control = header(req, "cache-control");
    let facts = RequestFacts {
        method: &method,
        cache_control: cache_control.as_deref(),
        has_range: header(req, "range").is_some(),
        authenticated,
    };
    let decision = request_decision(&rule, &facts);
    let url = req.url().ok()?;
    let key = primary_key(&KeyParts {
        api_id: route.api.id.as_str(),
        generation: api.generation,
        path: url.path(),
        query: url.query(),
        consumer: consumer.as_deref().filter(|_| rule.cache_authenticated),
    });
    Some(CachePlan {
        decision,
        primary: key,
        base_url: format!(
            "{}://{}/.tollgate-cache/",
            url.scheme(),
            url.host_str().unwrap_or("edge")
        ),
        path: route.rest.clone(),
        tags: rule.tags.to_vec(),
        default_ttl_secs: rule.default_ttl_secs,
        max_ttl_secs: rule.max_ttl_secs,
        is_get: method == "GET",
        fwd: Forward::UriMiss,
        vary_request: req.headers().clone(),
    })
}

/// Serves the request from the cache when a fresh, unpurged entry exists; otherwise
/// records in the plan why it goes forward. A cache that cannot be read is a miss.
pub async fn lookup(
    req: &Request,
    plan: Option<&mut CachePlan>,
    snapshot: &RoutedSnapshot,
    api_id: &tollgate_core::ApiId,
) -> Option<Response> {
    let plan = plan?;
    match serve(req, plan, snapshot, api_id).await {
        Ok(hit) => hit,
        Err(e) => {
            worker::console_warn!("edge: cached answer unusable: {e}");
            None
        }
    }
}

async fn serve(
    req: &Request,
    plan: &mut CachePlan,
    snapshot: &RoutedSnapshot,
    api_id: &tollgate_core::ApiId,
) -> worker::Result<Option<Response>> {
    match plan.decision {
        RequestDecision::Lookup => {}
        RequestDecision::Bypass(_) | RequestDecision::Method => return Ok(None),
    }
    let cache = Cache::default();
    let Some(mut found) = get(&cache, &format!("{}{}", plan.base_url, plan.primary)).await else {
        plan.fwd = Forward::UriMiss;
        return Ok(None);
    };
    if let Some(names) = found.headers().get(cache_entry::VARY_MARKER).ok().flatten() {
        let names = vary_names(&names);
        let key = variant_key(&plan.primary, &names, |n| header(req, n));
        match get(&cache, &format!("{}{}", plan.base_url, key)).await {
            Some(entry) => found = entry,
            None => {
                plan.fwd = Forward::VaryMiss;
                return Ok(None);
            }
        }
    }
    let entry = Entry::read(found.headers());
    let now = now_ms();
    if now >= entry.expires_at_ms {
        plan.fwd = Forward::Stale;
        return Ok(None);
    }
    let tags: Vec<&str> = entry.tags.iter().map(String::as_str).collect();
    if snapshot
        .cache
        .is_purged(api_id, &entry.path, &tags, entry.stored_at_ms)
    {
        plan.fwd = Forward::Miss;
        return Ok(None);
    }
    let status = cache_status_field(&CacheStatus::Hit {
        ttl_secs: i64::try_from((entry.expires_at_ms - now) / 1_000).unwrap_or(0),
    });
    let age = entry.initial_age_secs + now.saturating_sub(entry.stored_at_ms) / 1_000;
    let headers = cache_entry::client_headers(found.headers())?;
    headers.set("age", &age.to_string())?;
    headers.set("cache-status", &status)?;
    let etag = headers.get("etag").ok().flatten();
    let last_modified = headers.get("last-modified").ok().flatten();
    let validators = Validators {
        etag: etag.as_deref(),
        last_modified: last_modified.as_deref(),
    };
    let inm = header(req, "if-none-match");
    let ims = header(req, "if-modified-since");
    if is_not_modified(inm.as_deref(), ims.as_deref(), &validators) {
        bump(Counter::CacheHit);
        let kept = cache_entry::not_modified_headers(&headers)?;
        return Ok(Some(
            Response::builder()
                .with_status(304)
                .with_headers(kept)
                .empty(),
        ));
    }
    bump(Counter::CacheHit);
    let status_code = found.status_code();
    let builder = Response::builder()
        .with_status(status_code)
        .with_headers(headers);
    if !plan.is_get {
        return Ok(Some(builder.empty()));
    }
    let (_, body) = found.into_parts();
    Ok(Some(builder.body(body)))
}

async fn get(cache: &Cache, url: &str) -> Option<Response> {
    match cache.get(url, false).await {
        Ok(found) => found,
        Err(e) => {
            worker::console_warn!("edge: cache read failed: {e}");
            None
        }
    }
}
