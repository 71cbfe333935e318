//! The `RateLimit-Policy` and `RateLimit` response fields of
//! draft-ietf-httpapi-ratelimit-headers, serialised as RFC 9651 Structured Field Lists
//! with the `sfv` crate (so quoting and number ranges are right by construction), plus
//! `Retry-After`.

use super::calendar::Period;
use super::check::Grant;
use super::{Algorithm, LimitPolicy};
use sfv::{Integer, KeyRef, ListSerializer, StringRef};

/// One quota policy item: `"name";q=…;qu=…;w=…;pk=:…:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyItem<'a> {
    pub name: &'a str,
    pub quota: u64,
    pub unit: Option<&'a str>,
    pub window_secs: Option<u64>,
    pub partition_key: Option<&'a [u8]>,
    /// Vendor parameter `tollgate-burst` (only when it differs from the quota).
    pub burst: Option<u64>,
}

/// One service limit item: `"name";r=…;t=…;pk=:…:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLimit<'a> {
    pub name: &'a str,
    pub remaining: Option<u64>,
    pub reset_secs: Option<u64>,
    pub partition_key: Option<&'a [u8]>,
}

fn int(v: u64) -> Integer {
    // Structured Field integers stop at 15 digits; clamp rather than fail.
    Integer::try_from(v.min(999_999_999_999_999)).unwrap_or(Integer::constant(0))
}

const Q: &KeyRef = KeyRef::constant("q");
const QU: &KeyRef = KeyRef::constant("qu");
const W: &KeyRef = KeyRef::constant("w");
const PK: &KeyRef = KeyRef::constant("pk");
const R: &KeyRef = KeyRef::constant("r");
const T: &KeyRef = KeyRef::constant("t");
const BURST: &KeyRef = KeyRef::constant("tollgate-burst");

/// The `RateLimit-Policy` value, or `None` when there is nothing to send. Items whose
/// name is not a valid Structured Field String (non-ASCII, control characters) are
/// left out rather than sent malformed.
pub fn ratelimit_policy_field(items: &[PolicyItem<'_>]) -> Option<String> {
    let mut ser = ListSerializer::new();
    for item in items {
        let Ok(name) = StringRef::from_str(item.name) else {
            continue;
        };
        let mut p = ser.bare_item(name).parameter(Q, int(item.quota));
        if let Some(unit) = item.unit.and_then(|u| StringRef::from_str(u).ok()) {
            p = p.parameter(QU, unit);
        }
        if let Some(w) = item.window_secs {
            p = p.parameter(W, int(w));
        }
        if let Some(pk) = item.partition_key {
            p = p.parameter(PK, pk);
        }
        if let Some(b) = item.burst {
            let _ = p.parameter(BURST, int(b));
        }
    }
    ser.finish()
}

/// The `RateLimit` value, or `None` when there is nothing to send.
pub fn ratelimit_field(items: &[ServiceLimit<'_>]) -> Option<String> {
    let mut ser = ListSerializer::new();
    for item in items {
        let Ok(name) = StringRef::from_str(item.name) else {
            continue;
        };
        let mut p = ser.bare_item(name);
        if let Some(r) = item.remaining {
            p = p.parameter(R, int(r));
        }
        if let Some(t) = item.reset_secs {
            p = p.parameter(T, int(t));
        }
        if let Some(pk) = item.partition_key {
            let _ = p.parameter(PK, pk);
        }
    }
    ser.finish()
}

/// Whole seconds, rounded up so a client waiting that long never comes back early.
pub fn whole_secs(ms: u64) -> u64 {
    ms.div_ceil(1_000)
}

/// The `Retry-After` seconds for a refusal that frees up in `ms` (at least 1).
pub fn retry_after_secs(ms: u64) -> u64 {
    whole_secs(ms).max(1)
}

/// How a policy describes itself in `RateLimit-Policy`.
pub fn policy_item(policy: &LimitPolicy) -> PolicyItem<'_> {
    let (window_secs, unit, burst) = match policy.algorithm {
        Algorithm::Gcra {
            requests,
            period_ms,
            burst,
        } => (
            Some(whole_secs(period_ms)),
            None,
            (burst != requests).then_some(burst),
        ),
        Algorithm::FixedWindow { window_ms, .. } | Algorithm::SlidingWindow { window_ms, .. } => {
            (Some(whole_secs(window_ms)), None, None)
        }
        // Months vary in length: the window is left out rather than stated wrongly.
        Algorithm::Quota { period, .. } => (
            (period != Period::Month).then(|| period.nominal_secs()),
            None,
            None,
        ),
        Algorithm::Concurrency { .. } => (None, Some("concurrent-requests"), None),
    };
    PolicyItem {
        name: &policy.name,
        quota: policy.algorithm.requests(),
        unit,
        window_secs,
        partition_key: None,
        burst,
    }
}

/// How a policy reports a grant in `RateLimit`.
pub fn service_limit<'a>(policy: &'a LimitPolicy, grant: &Grant) -> ServiceLimit<'a> {
    let reset = match policy.algorithm {
        Algorithm::Concurrency { .. } if grant.reset_ms == 0 => None,
        _ => Some(whole_secs(grant.reset_ms)),
    };
    ServiceLimit {
        name: &policy.name,
        remaining: Some(grant.remaining),
        reset_secs: reset,
        partition_key: None,
    }
}
