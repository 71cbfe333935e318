//! The JWKS of each JWT-protected API, fetched from its `jwks_url` and kept in the isolate
//! and in KV (`jwks:<url hash>`) for the TTL its Cache-Control asks (within bounds).
//!
//! An unknown `kid` refetches at most once per interval per URL; concurrent misses join
//! the fetch under way by polling on their own timer, never by awaiting another request's
//! promise (workerd cancels I/O woken from another request's promise, see `key_store`).
//! When the JWKS cannot be fetched, the keys already known keep working.

use crate::config::{now_ms, EdgeConfig};
use crate::origin_client::with_timeout;
use crate::snapshot_store::KV_BINDING;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;
use tollgate_core::jwt::jwks_cache::{
    kv_key, may_refetch, ttl_from_cache_control, CachedJwks, MAX_JWKS_BYTES, RETRY_AFTER_FAILURE_MS,
};
use tollgate_core::jwt::{parse_jwks, Jwks};
use tollgate_core::{Problem, ProblemKind};
use worker::{Delay, Env, Fetch, Headers, Method, Request, RequestInit};

/// KV keeps a JWKS this long, so stale keys survive a JWKS outage.
const KV_TTL_SECS: u64 = 7 * 24 * 3_600;

struct Entry {
    cached: CachedJwks,
    keys: Rc<Jwks>,
}

thread_local! {
    static JWKS: RefCell<HashMap<String, Entry>> = RefCell::new(HashMap::new());
    static IN_FLIGHT: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    static LAST_ATTEMPT: RefCell<HashMap<String, u64>> = RefCell::new(HashMap::new());
}

fn unavailable(url: &str) -> Problem {
    Problem::new(
        ProblemKind::ServiceUnavailable,
        format!("the signing keys at `{url}` could not be fetched; retry in a few seconds"),
    )
    .with_retry_after(RETRY_AFTER_FAILURE_MS / 1_000)
}

fn remember(url: &str, cached: CachedJwks) -> Option<Rc<Jwks>> {
    let keys = Rc::new(parse_jwks(&cached.json).ok()?);
    let entry = Entry {
        cached,
        keys: keys.clone(),
    };
    JWKS.with(|m| m.borrow_mut().insert(url.to_owned(), entry));
    Some(keys)
}

async fn download(cfg: &EdgeConfig, url: &str) -> Result<CachedJwks, String> {
    let headers = Headers::new();
    headers
        .set("accept", "application/jwk-set+json, application/json")
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let mut resp = match with_timeout(cfg.origin_timeout_ms, Fetch::Request(req).send()).await {
        Some(Ok(resp)) => resp,
        Some(Err(e)) => return Err(format!("unreachable: {e}")),
        None => return Err("timed out".into()),
    };
    if resp.status_code() != 200 {
        return Err(format!("answered {}", resp.status_code()));
    }
    let cache_control = resp.headers().get("cache-control").ok().flatten();
    let json = resp.text().await.map_err(|e| e.to_string())?;
    if json.len() > MAX_JWKS_BYTES {
        return Err(format!("the JWKS is larger than {MAX_JWKS_BYTES} bytes"));
    }
    parse_jwks(&json).map_err(|e| e.to_string())?;
    Ok(CachedJwks {
        json,
        fetched_at_ms: now_ms(),
        ttl_secs: ttl_from_cache_control(cache_control.as_deref()),
    })
}

/// Fetches the JWKS, or joins a fetch of the same URL already under way.
async fn fetch_once(env: &Env, cfg: &EdgeConfig, url: &str) -> Result<Rc<Jwks>, String> {
    let started = now_ms();
    let joined = IN_FLIGHT.with(|m| !m.borrow_mut().insert(url.to_owned()));
    if joined {
        let deadline = started + cfg.origin_timeout_ms + 100;
        while IN_FLIGHT.with(|m| m.borrow().contains(url)) && now_ms() < deadline {
            Delay::from(Duration::from_millis(5)).await;
        }
        let fresh = JWKS.with(|m| {
            m.borrow()
                .get(url)
                .filter(|e| e.cached.fetched_at_ms >= started)
                .map(|e| e.keys.clone())
        });
        return fresh.ok_or_else(|| "the concurrent fetch failed".to_owned());
    }
    LAST_ATTEMPT.with(|m| m.borrow_mut().insert(url.to_owned(), started));
    let answer = download(cfg, url).await;
    let keys = answer.as_ref().ok().and_then(|c| remember(url, c.clone()));
    // No await between caching and leaving: a waiter that sees the fetch done sees its keys.
    IN_FLIGHT.with(|m| m.borrow_mut().remove(url));
    let cached = answer?;
    if let Ok(kv) = env.kv(KV_BINDING) {
        if let Ok(put) = kv.put(&kv_key(url), &cached) {
            if let Err(e) = put.expiration_ttl(KV_TTL_SECS).execute().await {
                worker::console_warn!("edge: could not cache a JWKS in KV: {e}");
            }
        }
    }
    keys.ok_or_else(|| "the JWKS has no usable keys".to_owned())
}

fn last_attempt(url: &str) -> Option<u64> {
    LAST_ATTEMPT.with(|m| m.borrow().get(url).copied())
}

/// The keys of `url`: fresh from the isolate or KV, else fetched; when the fetch fails,
/// the stale keys (503 only when there are none).
pub async fn keys_for(env: &Env, cfg: &EdgeConfig, url: &str) -> Result<Rc<Jwks>, Problem> {
    let now = now_ms();
    let mut stale = None;
    if let Some((fresh, keys)) = JWKS.with(|m| {
        m.borrow()
            .get(url)
            .map(|e| (e.cached.is_fresh(now), e.keys.clone()))
    }) {
        if fresh {
            return Ok(keys);
        }
        stale = Some(keys);
    } else if let Ok(kv) = env.kv(KV_BINDING) {
        if let Ok(Some(cached)) = kv.get(&kv_key(url)).json::<CachedJwks>().await {
            let fresh = cached.is_fresh(now);
            if let Some(keys) = remember(url, cached) {
                if fresh {
                    return Ok(keys);
                }
                stale = Some(keys);
            }
        }
    }
    let joining = IN_FLIGHT.with(|m| m.borrow().contains(url));
    if !joining && !may_refetch(last_attempt(url), now, RETRY_AFTER_FAILURE_MS) {
        return stale.ok_or_else(|| unavailable(url));
    }
    match fetch_once(env, cfg, url).await {
        Ok(keys) => Ok(keys),
        Err(e) => {
            worker::console_warn!("edge: JWKS fetch from {url} failed: {e}");
            stale.ok_or_else(|| unavailable(url))
        }
    }
}

/// New keys after a token named an unknown `kid`: at most one fetch per `interval_ms` per
/// URL (`None`: not now, or nothing new).
pub async fn refetch_for_unknown_kid(
    env: &Env,
    cfg: &EdgeConfig,
    url: &str,
    interval_ms: u64,
) -> Option<Rc<Jwks>> {
    let joining = IN_FLIGHT.with(|m| m.borrow().contains(url));
    if !joining && !may_refetch(last_attempt(url), now_ms(), interval_ms) {
        return None;
    }
    fetch_once(env, cfg, url).await.ok()
}
