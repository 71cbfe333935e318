//! Edge response caching with the Workers Cache API, between the limits and the forward:
//! authentication and limits have already admitted the request, so a hit is counted
//! against quotas like any other call. The rules come from `tollgate_core::cache`; this
//! module reads and writes the cache and shapes the answers.
//!
//! An entry is the upstream's answer with tollgate's bookkeeping in `x-tollgate-cache-*`
//! headers (stored time, expiry, tags, path, the upstream's own `Cache-Control` and
//! `Vary`), stripped before answering. When the answer has a `Vary`, a marker under the
//! primary key names the headers and the answer lives under the variant key. Stores run
//! after the answer is sent, via `waitUntil` (see [`with_context`]).

use crate::cache_entry::{self, Entry, INTERNAL_PREFIX};
use crate::config::now_ms;
use crate::isolate_cache::RoutedSnapshot;
use crate::metrics::{bump, Counter};
use crate::proxy::Caller;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use tollgate_core::cache::{
    cache_status_field, is_not_modified, primary_key, request_decision, storable, variant_key,
    vary_names, CacheStatus, Forward, KeyParts, RequestDecision, RequestFacts, ResponseFacts,
    Validators,
};
use tollgate_core::route::RouteMatch;
use tollgate_core::{Problem, ProblemKind};
use worker::{Cache, Context, Headers, Request, Response};

thread_local! {
    static CONTEXT: RefCell<Option<Rc<Context>>> = const { RefCell::new(None) };
}

/// Runs `fut` with the fetch event's context reachable by [`in_background`]: set around
/// each poll, so concurrent requests in one isolate never see each other's context.
pub async fn with_context<F: Future>(ctx: Context, fut: F) -> F::Output {
    Scoped {
        ctx: Rc::new(ctx),
        fut: Box::pin(fut),
    }
    .await
}

struct Scoped<F> {
    ctx: Rc<Context>,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let previous = CONTEXT.with(|c| c.replace(Some(this.ctx.clone())));
        let out = this.fut.as_mut().poll(cx);
        CONTEXT.with(|c| *c.borrow_mut() = previous);
        out
    }
}

/// Runs `fut` after the answer is sent (`waitUntil`); without a context it is dropped,
/// which only loses a cache write.
fn in_background(fut: impl Future<Output = ()> + 'static) {
    let ctx = CONTEXT.with(|c| c.borrow().clone());
    match ctx {
        Some(ctx) => ctx.wait_until(fut),
        None => worker::console_warn!("edge: no event context; cache write skipped"),
    }
}

/// What the cache does for one request on a route with caching on.
pub struct CachePlan {
    decision: RequestDecision,
    primary: String,
    base_url: String,
    path: String,
    tags: Vec<String>,
    default_ttl_secs: u32,
    max_ttl_secs: u32,
    is_get: bool,
    fwd: Forward,
    /// The request's headers, for the variant key when the answer has a `Vary`.
    vary_request: Headers,
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

fn internal(_: worker::Error) -> Problem {
    Problem::new(
        ProblemKind::Internal,
        "the cached answer could not be built",
    )
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
            let rule = tollgate_core::cache::RouteRule {
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
