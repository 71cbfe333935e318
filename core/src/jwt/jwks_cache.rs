//! How long a fetched JWKS is trusted and how often it may be refetched: the decisions
//! behind the edge's JWKS cache, as functions of the answer and `now`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// TTL when the JWKS answer says nothing usable about caching.
pub const DEFAULT_TTL_SECS: u64 = 600;
/// Shortest TTL honoured (a `max-age=0` JWKS would otherwise be fetched per request).
pub const MIN_TTL_SECS: u64 = 60;
/// Longest TTL honoured (rotations must show up within a day).
pub const MAX_TTL_SECS: u64 = 86_400;
/// An unknown `kid` triggers at most one refetch per URL in this interval (default).
pub const REFETCH_INTERVAL_MS: u64 = 30_000;
/// With no keys at all, a failed fetch is retried after this long (the 503's Retry-After).
pub const RETRY_AFTER_FAILURE_MS: u64 = 5_000;
/// Largest JWKS document accepted.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// The TTL a `Cache-Control` header asks for, within [`MIN_TTL_SECS`]..=[`MAX_TTL_SECS`].
pub fn ttl_from_cache_control(header: Option<&str>) -> u64 {
    let Some(header) = header else {
        return DEFAULT_TTL_SECS;
    };
    let mut ttl = None;
    for directive in header.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return MIN_TTL_SECS;
        }
        if let Some(v) = directive.strip_prefix("max-age=") {
            ttl = v.trim_matches('"').parse::<u64>().ok();
        }
    }
    ttl.unwrap_or(DEFAULT_TTL_SECS)
        .clamp(MIN_TTL_SECS, MAX_TTL_SECS)
}

/// A fetched JWKS as the edge keeps it (in the isolate and in KV).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedJwks {
    /// The document as fetched.
    pub json: String,
    pub fetched_at_ms: u64,
    pub ttl_secs: u64,
}

impl CachedJwks {
    /// Whether the keys are within their TTL at `now_ms` (stale keys still verify when
    /// the JWKS cannot be fetched).
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        now_ms
            < self
                .fetched_at_ms
                .saturating_add(self.ttl_secs.saturating_mul(1_000))
    }
}

/// Whether the JWKS may be fetched again, given the last attempt and the interval.
pub fn may_refetch(last_attempt_ms: Option<u64>, now_ms: u64, interval_ms: u64) -> bool {
    last_attempt_ms.is_none_or(|last| now_ms >= last.saturating_add(interval_ms))
}

/// The KV key of a JWKS URL's cached document.
pub fn kv_key(url: &str) -> String {
    format!("jwks:{}", hex::encode(Sha256::digest(url.as_bytes())))
}
