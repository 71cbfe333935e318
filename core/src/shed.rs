//! Dynamic throttling: per-route load shedding. When an upstream's error rate or average
//! latency over the last few seconds crosses its threshold, the edge answers 503 with
//! `Retry-After` for a cool-down instead of piling more load onto it, then lets traffic
//! through again and re-measures, so it recovers on its own.
//!
//! Stats are one-second buckets over `window_secs`; a route trips only after
//! `min_requests` in the window, so one failure on a quiet route sheds nothing.

use serde::{Deserialize, Serialize};

/// When to shed a route's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShedPolicy {
    /// Trip when at least this percentage of answers are upstream errors (5xx, timeouts).
    pub max_error_percent: u8,
    /// Trip when the average upstream latency reaches this (0: latency is not watched).
    #[serde(default)]
    pub max_latency_ms: u64,
    /// Fewest requests in the window before the route may trip.
    pub min_requests: u32,
    pub window_secs: u32,
    /// How long to shed once tripped.
    pub cooldown_secs: u32,
}

/// One API's shedding rule, as the snapshot carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShedRule {
    pub api_id: crate::ApiId,
    pub policy: ShedPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Bucket {
    second: u64,
    requests: u64,
    errors: u64,
    latency_ms: u64,
}

/// What one route has seen recently.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShedState {
    buckets: Vec<Bucket>,
    shed_until_ms: u64,
}

/// Whether a request may go to the upstream now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShedDecision {
    Pass,
    /// Refuse with 503; retrying may succeed after this many ms.
    Shed {
        retry_after_ms: u64,
    },
}

/// Decides whether to send a request upstream at `now_ms`.
pub fn admit(state: &ShedState, now_ms: u64) -> ShedDecision {
    if now_ms < state.shed_until_ms {
        ShedDecision::Shed {
            retry_after_ms: state.shed_until_ms - now_ms,
        }
    } else {
        ShedDecision::Pass
    }
}

/// Records one upstream answer and trips the route when its thresholds are crossed.
pub fn record(
    policy: &ShedPolicy,
    state: &ShedState,
    now_ms: u64,
    upstream_error: bool,
    latency_ms: u64,
) -> ShedState {
    let second = now_ms / 1_000;
    let window = u64::from(policy.window_secs.max(1));
    let mut next = state.clone();
    next.buckets
        .retain(|b| b.second + window > second && b.second <= second);
    match next.buckets.iter_mut().find(|b| b.second == second) {
        Some(b) => {
            b.requests += 1;
            b.errors += u64::from(upstream_error);
            b.latency_ms += latency_ms;
        }
        None => next.buckets.push(Bucket {
            second,
            requests: 1,
            errors: u64::from(upstream_error),
            latency_ms,
        }),
    }
    let requests: u64 = next.buckets.iter().map(|b| b.requests).sum();
    let errors: u64 = next.buckets.iter().map(|b| b.errors).sum();
    let latency: u64 = next.buckets.iter().map(|b| b.latency_ms).sum();
    let too_many_errors = errors * 100 >= u64::from(policy.max_error_percent) * requests;
    let too_slow = policy.max_latency_ms > 0 && latency >= policy.max_latency_ms * requests;
    if requests >= u64::from(policy.min_requests.max(1)) && (too_many_errors || too_slow) {
        // Forget the window: after the cool-down the route is judged on fresh answers.
        next.buckets.clear();
        next.shed_until_ms = now_ms + u64::from(policy.cooldown_secs.max(1)) * 1_000;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ShedPolicy = ShedPolicy {
        max_error_percent: 50,
        max_latency_ms: 500,
        min_requests: 10,
        window_secs: 10,
        cooldown_secs: 2,
    };

    #[test]
    fn trips_on_errors_sheds_for_the_cooldown_then_recovers() {
        let mut s = ShedState::default();
        for i in 0..9 {
            s = record(&POLICY, &s, 1_000 + i, true, 5);
            assert_eq!(
                admit(&s, 1_000 + i),
                ShedDecision::Pass,
                "below min_requests"
            );
        }
        s = record(&POLICY, &s, 1_009, true, 5);
        assert_eq!(
            admit(&s, 1_010),
            ShedDecision::Shed {
                retry_after_ms: 1_999
            }
        );
        assert_eq!(admit(&s, 3_009), ShedDecision::Pass);
        // Fresh, healthy answers after the cool-down keep it closed.
        for i in 0..20 {
            s = record(&POLICY, &s, 3_009 + i, false, 5);
        }
        assert_eq!(admit(&s, 3_100), ShedDecision::Pass);
    }

    #[test]
    fn trips_on_latency_and_forgets_old_seconds() {
        let mut s = ShedState::default();
        for i in 0..10 {
            s = record(&POLICY, &s, 50_000 + i, false, 900);
        }
        assert!(matches!(admit(&s, 50_010), ShedDecision::Shed { .. }));
        let mut s = ShedState::default();
        for i in 0..5 {
            s = record(&POLICY, &s, i, true, 1);
        }
        for i in 0..10 {
            s = record(&POLICY, &s, 20_000 + i, i % 3 == 0, 1);
        }
        assert_eq!(
            admit(&s, 20_010),
            ShedDecision::Pass,
            "old errors left the window"
        );
    }
}
