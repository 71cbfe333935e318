//! Key verification decisions at the edge: whether a cached answer can be used, and
//! whether a known key may call a given API right now.
//!
//! Positive answers are kept until revoked (revocations arrive with the snapshot) and
//! revalidated with the origin after a while; if the origin cannot be reached, a stale
//! positive answer keeps working so an origin outage does not lock out known keys.
//! Negative answers are cached briefly so a flood of bad keys does not reach the origin.

use crate::{ApiRoute, KeyRecord, KeyStatus, Problem, ProblemKind};
use serde::{Deserialize, Serialize};

/// What a cache remembers about one key hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedKey {
    /// `None` means the origin said it does not know this key.
    pub record: Option<KeyRecord>,
    /// Unix milliseconds when the origin gave this answer.
    pub checked_at_ms: u64,
}

/// How long cached answers are trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCachePolicy {
    pub negative_ttl_ms: u64,
    pub revalidate_after_ms: u64,
}

impl Default for KeyCachePolicy {
    fn default() -> Self {
        KeyCachePolicy {
            negative_ttl_ms: 30_000,
            revalidate_after_ms: 300_000,
        }
    }
}

/// What to do with a cached entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Use it without asking the origin.
    Fresh,
    /// Ask the origin; fall back to this entry if the origin cannot answer.
    Stale,
    /// Ignore it and ask the origin.
    Expired,
}

/// Decides whether a cached key answer may be used at `now_ms`.
pub fn assess(entry: &CachedKey, now_ms: u64, policy: KeyCachePolicy) -> Freshness {
    // A clock that went backwards gives age 0: the entry is treated as just checked.
    let age = now_ms.saturating_sub(entry.checked_at_ms);
    match &entry.record {
        None if age < policy.negative_ttl_ms => Freshness::Fresh,
        None => Freshness::Expired,
        Some(_) if age < policy.revalidate_after_ms => Freshness::Fresh,
        Some(_) => Freshness::Stale,
    }
}

/// Whether the key in `record` (or no record: unknown key) may call `api` at `now_ms`.
pub fn authorize_key(
    record: Option<&KeyRecord>,
    api: &ApiRoute,
    now_ms: u64,
) -> Result<(), Problem> {
    let record = record.ok_or_else(|| {
        Problem::new(
            ProblemKind::InvalidCredential,
            "this key is not known; check it or create a new one in the portal",
        )
    })?;
    if record.status == KeyStatus::Revoked {
        return Err(Problem::new(
            ProblemKind::RevokedCredential,
            "this key was revoked; create a new key in the portal",
        ));
    }
    if record.expires_at_ms.is_some_and(|exp| now_ms >= exp) {
        return Err(Problem::new(
            ProblemKind::ExpiredCredential,
            "this key has expired; create or rotate a key",
        ));
    }
    if record.api_id != api.id {
        return Err(Problem::new(
            ProblemKind::NotEntitled,
            format!("this key is not entitled to the API `{}`; subscribe to it or use a key issued for it", api.name),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ApiId, AuthPolicy, ConsumerId, KeyHash, KeyId};

    fn record(api: &str) -> KeyRecord {
        KeyRecord {
            key_id: KeyId::from("key_1"),
            key_hash: KeyHash::parse(&"a".repeat(64)).unwrap(),
            consumer_id: ConsumerId::from("con_1"),
            api_id: ApiId::from(api),
            plan_id: None,
            status: KeyStatus::Active,
            expires_at_ms: None,
            identity: None,
            scopes: Vec::new(),
            subscription_id: None,
            subscription_ends_at_ms: None,
        }
    }

    fn route(id: &str) -> ApiRoute {
        ApiRoute {
            id: ApiId::from(id),
            name: id.into(),
            base_path: "/x".into(),
            upstream_url: "http://u".into(),
            auth: AuthPolicy::Key,
            upstream_headers: Vec::new(),
            policies: None,
        }
    }

    #[test]
    fn negative_answers_expire_positive_ones_go_stale() {
        let p = KeyCachePolicy::default();
        let neg = CachedKey {
            record: None,
            checked_at_ms: 1_000,
        };
        assert_eq!(assess(&neg, 1_000 + 29_999, p), Freshness::Fresh);
        assert_eq!(assess(&neg, 1_000 + 30_000, p), Freshness::Expired);
        let pos = CachedKey {
            record: Some(record("a")),
            checked_at_ms: 1_000,
        };
        assert_eq!(assess(&pos, 1_000 + 299_999, p), Freshness::Fresh);
        assert_eq!(assess(&pos, 1_000 + 300_000, p), Freshness::Stale);
        assert_eq!(assess(&pos, 0, p), Freshness::Fresh, "clock went backwards");
    }

    #[test]
    fn authorization_checks_status_expiry_and_api() {
        let api = route("a");
        assert!(authorize_key(Some(&record("a")), &api, 5).is_ok());
        assert_eq!(authorize_key(None, &api, 5).unwrap_err().status, 401);
        let mut r = record("a");
        r.status = KeyStatus::Revoked;
        assert!(authorize_key(Some(&r), &api, 5)
            .unwrap_err()
            .type_uri
            .ends_with("revoked-credential"));
        let mut r = record("a");
        r.expires_at_ms = Some(5);
        assert!(authorize_key(Some(&r), &api, 5)
            .unwrap_err()
            .type_uri
            .ends_with("expired-credential"));
        assert!(authorize_key(Some(&r), &api, 4).is_ok());
        assert_eq!(
            authorize_key(Some(&record("b")), &api, 5)
                .unwrap_err()
                .status,
            403
        );
    }
}
