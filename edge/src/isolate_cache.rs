//! Bounded in-isolate caches: the routed snapshot and verified keys, kept in the isolate's
//! memory between requests so the hot path needs no KV or origin round trip.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use tollgate_core::cache::CacheIndex;
use tollgate_core::entitlement::PlanEntitlements;
use tollgate_core::key_cache::CachedKey;
use tollgate_core::limits::{PlanLimits, ScopedLimit};
use tollgate_core::shed::ShedPolicy;
use tollgate_core::subscription::SubscriptionChange;
use tollgate_core::{ApiId, ConfigSnapshot, KeyHash, PlanId, RouteTable};

/// Most key answers one isolate remembers; beyond it negative answers go first.
pub const MAX_CACHED_KEYS: usize = 10_000;

/// The snapshot as the isolate uses it: indexed routes and the revoked set.
pub struct RoutedSnapshot {
    pub version: u64,
    pub routes: RouteTable,
    pub revoked: HashSet<KeyHash>,
    /// Unix ms when this isolate last confirmed the snapshot is current.
    pub checked_at_ms: Cell<u64>,
    /// Each plan's limits.
    pub plans: Vec<PlanLimits>,
    /// Limits set on APIs.
    pub limits: Vec<ScopedLimit>,
    /// Load-shedding rules by API.
    pub shedding: HashMap<ApiId, ShedPolicy>,
    /// Entitlements by plan (plans without any are absent).
    pub entitlements: HashMap<PlanId, PlanEntitlements>,
    /// Recently changed subscriptions by id.
    pub subscriptions: HashMap<String, SubscriptionChange>,
    /// OAuth clients revoked recently: their outstanding tokens are refused.
    pub revoked_oauth_clients: HashSet<String>,
    /// Request validation by API and version, patterns compiled once per snapshot.
    pub validation: tollgate_core::validation::ValidationIndex,
    /// Response-caching policies and recent purges.
    pub cache: CacheIndex,
}

impl RoutedSnapshot {
    /// Indexes a snapshot received at `now_ms`.
    pub fn new(snapshot: ConfigSnapshot, now_ms: u64) -> RoutedSnapshot {
        RoutedSnapshot {
            version: snapshot.version,
            routes: RouteTable::with_versions(snapshot.apis, snapshot.versions),
            revoked: snapshot.revoked.into_iter().collect(),
            checked_at_ms: Cell::new(now_ms),
            plans: snapshot.plans,
            limits: snapshot.limits,
            shedding: snapshot
                .shedding
                .into_iter()
                .map(|r| (r.api_id, r.policy))
                .collect(),
            entitlements: snapshot
                .entitlements
                .into_iter()
                .map(|e| (e.plan_id.clone(), e))
                .collect(),
            subscriptions: snapshot
                .subscriptions
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect(),
            revoked_oauth_clients: snapshot.revoked_oauth_clients.into_iter().collect(),
            validation: tollgate_core::validation::ValidationIndex::new(snapshot.validation),
            cache: CacheIndex::new(snapshot.cache, snapshot.cache_purges),
        }
    }
}

/// Key answers by hash, bounded to [`MAX_CACHED_KEYS`].
#[derive(Default)]
pub struct KeyCache {
    entries: HashMap<KeyHash, CachedKey>,
}

impl KeyCache {
    /// The remembered answer for a hash.
    pub fn get(&self, hash: &KeyHash) -> Option<&CachedKey> {
        self.entries.get(hash)
    }

    /// Remembers an answer, evicting negative answers (then everything) when full.
    pub fn insert(&mut self, hash: KeyHash, entry: CachedKey) {
        if self.entries.len() >= MAX_CACHED_KEYS && !self.entries.contains_key(&hash) {
            self.entries.retain(|_, e| e.record.is_some());
            if self.entries.len() >= MAX_CACHED_KEYS {
                self.entries.clear();
            }
        }
        self.entries.insert(hash, entry);
    }

    /// Number of remembered answers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(i: usize) -> KeyHash {
        KeyHash::parse(&format!("{i:064x}")).unwrap()
    }

    #[test]
    fn the_cache_stays_bounded_and_drops_negatives_first() {
        let mut c = KeyCache::default();
        for i in 0..MAX_CACHED_KEYS {
            c.insert(
                hash(i),
                CachedKey {
                    record: None,
                    checked_at_ms: 0,
                },
            );
        }
        assert_eq!(c.len(), MAX_CACHED_KEYS);
        c.insert(
            hash(MAX_CACHED_KEYS),
            CachedKey {
                record: None,
                checked_at_ms: 1,
            },
        );
        assert_eq!(c.len(), 1);
        assert!(c.get(&hash(MAX_CACHED_KEYS)).is_some());
    }
}
