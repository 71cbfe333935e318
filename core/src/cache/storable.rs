//! Whether a request may be answered from the cache, and whether an upstream answer may
//! be stored and for how long (RFC 9111 §3 and §4.2 for a shared cache, with the
//! operator's policy as the heuristic and the cap).

use super::directives::CacheControl;
use super::http_time::parse_http_date;
use super::policy::RouteRule;

/// What the edge knows about a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    pub method: &'a str,
    pub cache_control: Option<&'a str>,
    /// A `Range` header is present.
    pub has_range: bool,
    /// The caller presented a credential (a tollgate key, or `Authorization` passed on).
    pub authenticated: bool,
}

/// What to do with a request on a route with caching on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestDecision {
    /// Look up; on a miss, forward and store what may be stored.
    Lookup,
    /// Neither look up nor store; the reason is the `Cache-Status` detail.
    Bypass(&'static str),
    /// The method is never cached.
    Method,
}

/// Decides how a request on a cached route uses the cache.
pub fn request_decision(rule: &RouteRule<'_>, req: &RequestFacts<'_>) -> RequestDecision {
    if req.method != "GET" && req.method != "HEAD" {
        return RequestDecision::Method;
    }
    if req.has_range {
        return RequestDecision::Bypass("range");
    }
    if req.authenticated && !rule.cache_authenticated {
        return RequestDecision::Bypass("authenticated");
    }
    // Request `no-cache` and `max-age=0` are not honoured, as on Cloudflare's CDN: any
    // client could otherwise send every request to the upstream (and fetch() adds
    // `no-cache` to every conditional request). `no-store` is honoured: it bypasses.
    if CacheControl::parse(req.cache_control).no_store {
        return RequestDecision::Bypass("no-store");
    }
    RequestDecision::Lookup
}

/// What the edge knows about an upstream answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseFacts<'a> {
    pub status: u16,
    pub cache_control: Option<&'a str>,
    pub expires: Option<&'a str>,
    pub date: Option<&'a str>,
    pub vary: Option<&'a str>,
    pub has_set_cookie: bool,
    /// Unix seconds now (for `Expires` without `Date`).
    pub now_secs: u64,
}

/// Why an answer is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreRefusal {
    #[error("status")]
    Status,
    #[error("no-store")]
    NoStore,
    #[error("private")]
    Private,
    #[error("no-cache")]
    NoCache,
    #[error("set-cookie")]
    SetCookie,
    #[error("vary-star")]
    VaryStar,
    #[error("zero-lifetime")]
    ZeroLifetime,
}

impl StoreRefusal {
    /// The reason as a `Cache-Status` detail token.
    pub fn detail(self) -> &'static str {
        match self {
            StoreRefusal::Status => "status",
            StoreRefusal::NoStore => "no-store",
            StoreRefusal::Private => "private",
            StoreRefusal::NoCache => "no-cache",
            StoreRefusal::SetCookie => "set-cookie",
            StoreRefusal::VaryStar => "vary-star",
            StoreRefusal::ZeroLifetime => "zero-lifetime",
        }
    }
}

/// Statuses RFC 9110 §15.1 calls heuristically cacheable, less 206 (ranges bypass).
const CACHEABLE_STATUSES: [u16; 11] = [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501];

/// The lifetime the upstream states: `s-maxage`, else `max-age`, else `Expires − Date`
/// (an invalid `Expires` is in the past). `None`: the upstream states none.
pub fn freshness_secs(
    cc: &CacheControl,
    expires: Option<&str>,
    date: Option<&str>,
    now_secs: u64,
) -> Option<u64> {
    if let Some(s) = cc.s_maxage.or(cc.max_age) {
        return Some(s);
    }
    let expires = expires?;
    let base = date.and_then(parse_http_date).unwrap_or(now_secs);
    Some(
        parse_http_date(expires)
            .map(|e| e.saturating_sub(base))
            .unwrap_or(0),
    )
}

/// How many seconds an answer may be served from the cache, or why it may not be stored.
pub fn storable(rule: &RouteRule<'_>, resp: &ResponseFacts<'_>) -> Result<u32, StoreRefusal> {
    if !CACHEABLE_STATUSES.contains(&resp.status) {
        return Err(StoreRefusal::Status);
    }
    let cc = CacheControl::parse(resp.cache_control);
    if cc.no_store {
        return Err(StoreRefusal::NoStore);
    }
    if cc.private {
        return Err(StoreRefusal::Private);
    }
    // Stored answers would need revalidation on every use; tollgate does not revalidate.
    if cc.no_cache {
        return Err(StoreRefusal::NoCache);
    }
    if resp.has_set_cookie {
        return Err(StoreRefusal::SetCookie);
    }
    if resp
        .vary
        .is_some_and(|v| v.split(',').any(|n| n.trim() == "*"))
    {
        return Err(StoreRefusal::VaryStar);
    }
    let ttl = match freshness_secs(&cc, resp.expires, resp.date, resp.now_secs) {
        Some(stated) => stated.min(u64::from(rule.max_ttl_secs)),
        None => u64::from(rule.default_ttl_secs),
    };
    match u32::try_from(ttl) {
        Ok(0) | Err(_) => Err(StoreRefusal::ZeroLifetime),
        Ok(t) => Ok(t),
    }
}
