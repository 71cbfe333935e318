//! One decision over every policy a subject is held to: all of them admit or none of
//! them counts the request, so a refused request never consumes anything.
//!
//! Each policy's state carries the latest time it has seen; an earlier `now` (a clock
//! that went backwards) is treated as that time, so going back never frees capacity.

use super::calendar::period_bounds;
use super::concurrency::{acquire, earliest_expiry_ms, release, ConcurrencyState};
use super::gcra::{give_back, take, GcraState, Rate};
use super::window::{count_in_period, count_sliding, fixed_bounds, uncount_sliding};
use super::window::{Buckets, Counter};
use super::{Algorithm, Enforcement, LimitPolicy};
use serde::{Deserialize, Serialize};

/// What is remembered for one policy of one subject.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LimitState {
    /// Latest `now` seen (never decreases).
    pub seen_ms: u64,
    pub algo: AlgoState,
}

/// The algorithm-specific part of [`LimitState`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum AlgoState {
    #[default]
    Fresh,
    Gcra(GcraState),
    Counter(Counter),
    Buckets(Buckets),
    Slots(ConcurrencyState),
}

/// One policy's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Grant {
    /// Units granted (0: this policy refuses).
    pub granted: u64,
    /// Units left after this decision.
    pub remaining: u64,
    /// Ms until more capacity is available.
    pub reset_ms: u64,
    /// Ms until a lease of these units must be given up (the period's end for windows).
    pub expires_in_ms: u64,
    /// A soft quota admitted this request beyond its limit.
    #[serde(default)]
    pub overage: bool,
    /// The concurrency slot to release when the request ends.
    #[serde(default)]
    pub ticket: Option<u64>,
}

/// The decision over all policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub admitted: bool,
    pub grants: Vec<Grant>,
}

fn rate(requests: u64, period_ms: u64, burst: u64) -> Rate {
    Rate {
        requests: requests.max(1),
        period_ms,
        burst,
    }
}

/// Asks one policy for up to `want` units at `now_ms` (pure; the caller keeps the state).
pub fn grant(
    policy: &LimitPolicy,
    state: &LimitState,
    want: u64,
    now_ms: u64,
) -> (Grant, LimitState) {
    let now = now_ms.max(state.seen_ms);
    let (g, algo) = match (policy.algorithm, &state.algo) {
        (
            Algorithm::Gcra {
                requests,
                period_ms,
                burst,
            },
            s,
        ) => {
            let prev = match s {
                AlgoState::Gcra(g) => *g,
                _ => GcraState::default(),
            };
            let (t, next) = take(rate(requests, period_ms, burst), prev, want, now);
            let g = Grant {
                granted: t.granted,
                remaining: t.remaining,
                reset_ms: t.reset_ms,
                expires_in_ms: u64::MAX,
                ..Grant::default()
            };
            (g, AlgoState::Gcra(next))
        }
        (
            Algorithm::FixedWindow {
                requests,
                window_ms,
            },
            s,
        ) => {
            let prev = counter(s);
            let bounds = fixed_bounds(window_ms, now);
            let (c, next) = count_in_period(requests, bounds, prev, want, false, now);
            (period_grant(c, bounds.1 - now), AlgoState::Counter(next))
        }
        (
            Algorithm::Quota {
                requests,
                period,
                anchor_ms,
                enforcement,
            },
            s,
        ) => {
            let prev = counter(s);
            let (start, end) = period_bounds(period, anchor_ms, now as i64);
            let bounds = (start.max(0) as u64, end.max(0) as u64);
            let soft = enforcement == Enforcement::Soft;
            let used = if prev.start_ms == bounds.0 {
                prev.count
            } else {
                0
            };
            let (c, next) = count_in_period(requests, bounds, prev, want, soft, now);
            let mut g = period_grant(c, bounds.1.saturating_sub(now));
            g.overage = soft && used + c.granted > requests;
            (g, AlgoState::Counter(next))
        }
        (
            Algorithm::SlidingWindow {
                requests,
                window_ms,
            },
            s,
        ) => {
            let prev = match s {
                AlgoState::Buckets(b) => b.clone(),
                _ => Buckets::default(),
            };
            let (c, next) = count_sliding(requests, window_ms, &prev, want, now);
            (period_grant(c, u64::MAX), AlgoState::Buckets(next))
        }
        (
            Algorithm::Concurrency {
                requests,
                timeout_ms,
            },
            s,
        ) => {
            let prev = match s {
                AlgoState::Slots(c) => c.clone(),
                _ => ConcurrencyState::default(),
            };
            let (ticket, in_flight, next) = acquire(requests, timeout_ms, &prev, now);
            let g = Grant {
                granted: u64::from(ticket.is_some()),
                remaining: requests.saturating_sub(in_flight),
                reset_ms: if ticket.is_some() {
                    0
                } else {
                    earliest_expiry_ms(&next, now)
                },
                expires_in_ms: 0,
                overage: false,
                ticket,
            };
            (g, AlgoState::Slots(next))
        }
    };
    (g, LimitState { seen_ms: now, algo })
}

fn counter(s: &AlgoState) -> Counter {
    match s {
        AlgoState::Counter(c) => *c,
        _ => Counter::default(),
    }
}

fn period_grant(c: super::window::Counted, expires_in_ms: u64) -> Grant {
    Grant {
        granted: c.granted,
        remaining: c.remaining,
        reset_ms: c.reset_ms,
        expires_in_ms,
        ..Grant::default()
    }
}

/// Decides one request (or one lease) over several policies: `wants[i]` units from
/// `policies[i]`. Admitted only if every policy grants at least one unit; otherwise no
/// state changes at all and every grant reports 0.
pub fn check_all(
    policies: &[(&LimitPolicy, u64)],
    states: &[LimitState],
    now_ms: u64,
) -> (Outcome, Vec<LimitState>) {
    let mut grants = Vec::with_capacity(policies.len());
    let mut next = Vec::with_capacity(policies.len());
    for (i, (policy, want)) in policies.iter().enumerate() {
        let empty = LimitState::default();
        let state = states.get(i).unwrap_or(&empty);
        let (g, s) = grant(policy, state, (*want).max(1), now_ms);
        grants.push(g);
        next.push(s);
    }
    let admitted = grants.iter().all(|g| g.granted > 0);
    if admitted {
        return (Outcome { admitted, grants }, next);
    }
    for g in grants.iter_mut().filter(|g| g.granted > 0) {
        // It would have admitted: report what is left without this request.
        g.remaining += g.granted;
        g.granted = 0;
        g.reset_ms = 0;
        g.ticket = None;
        g.overage = false;
    }
    (Outcome { admitted, grants }, states.to_vec())
}

/// Gives back `units` (and a concurrency ticket) that a policy granted to a request later
/// refused elsewhere, or that a request no longer holds.
pub fn refund(
    policy: &LimitPolicy,
    state: &LimitState,
    units: u64,
    ticket: Option<u64>,
) -> LimitState {
    let algo = match (policy.algorithm, &state.algo) {
        (
            Algorithm::Gcra {
                requests,
                period_ms,
                burst,
            },
            AlgoState::Gcra(g),
        ) => AlgoState::Gcra(give_back(rate(requests, period_ms, burst), *g, units)),
        (_, AlgoState::Counter(c)) => AlgoState::Counter(Counter {
            start_ms: c.start_ms,
            count: c.count.saturating_sub(units),
        }),
        (_, AlgoState::Buckets(b)) => AlgoState::Buckets(uncount_sliding(b, units)),
        (_, AlgoState::Slots(s)) => match ticket {
            Some(t) => AlgoState::Slots(release(s, t)),
            None => AlgoState::Slots(s.clone()),
        },
        (_, other) => other.clone(),
    };
    LimitState {
        seen_ms: state.seen_ms,
        algo,
    }
}
