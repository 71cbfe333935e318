//! Key verification look-ups: isolate cache → KV → origin, remembering both answers.
//!
//! Positive answers are revalidated after a while; if the origin cannot answer then, the
//! stale positive answer keeps the key working (origin outages do not lock out known
//! keys). Negative answers live briefly so a flood of bad keys stays off the origin.

use crate::config::{now_ms, EdgeConfig};
use crate::isolate_cache::KeyCache;
use crate::origin_client::lookup_key;
use crate::snapshot_store::KV_BINDING;
use std::cell::RefCell;
use std::collections::HashSet;
use std::time::Duration;
use tollgate_core::key_cache::{assess, CachedKey, Freshness, KeyCachePolicy};
use tollgate_core::{KeyHash, KeyRecord, Problem, ProblemKind};
use worker::{Delay, Env};

/// KV keeps negative answers this long (KV's minimum TTL).
const KV_NEGATIVE_TTL_SECS: u64 = 60;
/// KV keeps positive answers this long without a revalidation.
const KV_POSITIVE_TTL_SECS: u64 = 7 * 24 * 3_600;

thread_local! {
    static KEYS: RefCell<KeyCache> = RefCell::new(KeyCache::default());
    static IN_FLIGHT: RefCell<HashSet<KeyHash>> = RefCell::new(HashSet::new());
}

/// Asks the origin about `hash`, or waits for a look-up of the same hash already under
/// way and takes its cached answer. Waiters poll on their own timer instead of awaiting
/// the other request's promise: workerd ties I/O to the request that started it, and a
/// request woken from another request's promise has its later I/O (the upstream fetch,
/// a limiter call) cancelled as "hung" once that other request finishes.
async fn lookup_once(cfg: &EdgeConfig, hash: &KeyHash) -> Result<Option<KeyRecord>, String> {
    let started = now_ms();
    let joined = IN_FLIGHT.with(|m| !m.borrow_mut().insert(hash.clone()));
    if joined {
        // What the cache held before: only an answer newer than that is the look-up's.
        let before = KEYS.with(|k| k.borrow().get(hash).map(|e| e.checked_at_ms));
        let deadline = started + cfg.origin_timeout_ms;
        while IN_FLIGHT.with(|m| m.borrow().contains(hash)) && now_ms() < deadline {
            Delay::from(Duration::from_millis(5)).await;
        }
        let cached = KEYS.with(|k| k.borrow().get(hash).cloned());
        if let Some(entry) = cached.filter(|e| before.is_none_or(|b| e.checked_at_ms > b)) {
            return Ok(entry.record);
        }
        return lookup_key(cfg, hash).await;
    }
    let answer = lookup_key(cfg, hash).await;
    // No await between here and the caller caching the answer, so a waiter that sees
    // the look-up finished also sees its answer.
    IN_FLIGHT.with(|m| m.borrow_mut().remove(hash));
    answer
}

fn kv_key(hash: &KeyHash) -> String {
    format!("key:{hash}")
}

/// What the origin knows about the key with `hash` (`None`: not a key), or a 503 problem
/// when nobody can answer.
pub async fn find_key(
    env: &Env,
    cfg: &EdgeConfig,
    hash: &KeyHash,
) -> Result<Option<KeyRecord>, Problem> {
    let now = now_ms();
    let policy = KeyCachePolicy::default();
    let mut fallback: Option<CachedKey> = None;

    if let Some(entry) = KEYS.with(|k| k.borrow().get(hash).cloned()) {
        match assess(&entry, now, policy) {
            Freshness::Fresh => return Ok(entry.record),
            Freshness::Stale => fallback = Some(entry),
            Freshness::Expired => {}
        }
    }
    let kv = env.kv(KV_BINDING).ok();
    if let Some(kv) = &kv {
        if let Ok(Some(entry)) = kv.get(&kv_key(hash)).json::<CachedKey>().await {
            match assess(&entry, now, policy) {
                Freshness::Fresh => {
                    KEYS.with(|k| k.borrow_mut().insert(hash.clone(), entry.clone()));
                    return Ok(entry.record);
                }
                Freshness::Stale if fallback.is_none() => fallback = Some(entry),
                _ => {}
            }
        }
    }
    match lookup_once(cfg, hash).await {
        Ok(record) => {
            let entry = CachedKey {
                record,
                checked_at_ms: now,
            };
            KEYS.with(|k| k.borrow_mut().insert(hash.clone(), entry.clone()));
            if let Some(kv) = &kv {
                let ttl = if entry.record.is_some() {
                    KV_POSITIVE_TTL_SECS
                } else {
                    KV_NEGATIVE_TTL_SECS
                };
                if let Ok(put) = kv.put(&kv_key(hash), entry.clone()) {
                    if let Err(e) = put.expiration_ttl(ttl).execute().await {
                        worker::console_warn!("edge: could not cache a key answer in KV: {e}");
                    }
                }
            }
            Ok(entry.record)
        }
        Err(e) => {
            worker::console_warn!("edge: key look-up failed: {e}");
            match fallback {
                Some(entry) if entry.record.is_some() => Ok(entry.record),
                _ => Err(Problem::new(
                    ProblemKind::ServiceUnavailable,
                    "the key could not be verified right now; retry in a few seconds",
                )
                .with_retry_after(5)),
            }
        }
    }
}
