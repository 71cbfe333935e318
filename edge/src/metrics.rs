//! Counters of the limiter, load shedder and response cache in this isolate, served in the Prometheus
//! text format at `/.tollgate/metrics` to holders of `METRICS_TOKEN` (the endpoint does
//! not exist when the variable is unset). The benchmark reads object calls from here.

use std::cell::Cell;

/// Something counted.
#[derive(Clone, Copy)]
pub enum Counter {
    /// Requests that passed every limit.
    Admitted,
    /// Requests refused with 429.
    Refused,
    /// Round trips to a `RateLimiter` object.
    ObjectCalls,
    /// Limiter unreachable, request admitted (fail-open).
    UnavailableOpen,
    /// Limiter unreachable, request refused (fail-closed).
    UnavailableClosed,
    /// Requests shed with 503 by load shedding.
    Shed,
    /// Answers served from the response cache.
    CacheHit,
    /// Cacheable requests forwarded whose answer was not stored.
    CacheMiss,
    /// Forwarded answers stored in the response cache.
    CacheStored,
    /// Requests on caching routes that bypassed the cache (method, credentials, no-store, range).
    CacheBypass,
}

const NAMES: [&str; 10] = [
    "tollgate_limiter_admitted_total",
    "tollgate_limiter_refused_total",
    "tollgate_limiter_object_calls_total",
    "tollgate_limiter_unavailable_total{fail=\"open\"}",
    "tollgate_limiter_unavailable_total{fail=\"closed\"}",
    "tollgate_shed_total",
    "tollgate_cache_total{result=\"hit\"}",
    "tollgate_cache_total{result=\"miss\"}",
    "tollgate_cache_total{result=\"stored\"}",
    "tollgate_cache_total{result=\"bypass\"}",
];

thread_local! {
    static COUNTS: [Cell<u64>; 10] = Default::default();
}

/// Adds one to `counter`.
pub fn bump(counter: Counter) {
    COUNTS.with(|c| {
        let cell = &c[counter as usize];
        cell.set(cell.get() + 1);
    });
}

/// All counters as Prometheus text.
pub fn render() -> String {
    COUNTS.with(|c| {
        NAMES
            .iter()
            .zip(c.iter())
            .map(|(name, v)| format!("{name} {}\n", v.get()))
            .collect()
    })
}
