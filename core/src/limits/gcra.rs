//! The generic cell rate algorithm (GCRA): a rate of `requests` per `period_ms` with a
//! burst of up to `burst` requests, kept as one number, the theoretical arrival time.
//!
//! A request is admitted when, after it, the backlog (`tat - now`) is at most
//! `burst × T` where `T = period / requests` is the emission interval. Time is scaled by
//! `requests` so `T = period_ms` exactly and no rounding creeps in: with
//! `requests ≤ MAX_REQUESTS` and millisecond clocks, every product fits in `u64`.
//! In any interval of length `L` it admits at most `burst + requests × L / period`.
//! See Brandur Leach, "Rate limiting, cells, and GCRA" (brandur.org/rate-limiting).

use serde::{Deserialize, Serialize};

/// A GCRA rate: `requests` per `period_ms`, bursts up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: u64,
    pub period_ms: u64,
    pub burst: u64,
}

/// The theoretical arrival time, in ms × `requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GcraState {
    pub tat: u64,
}

/// What one decision found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub granted: u64,
    /// Units still available right after this decision.
    pub remaining: u64,
    /// Ms until one more unit becomes available (0 when the burst is full).
    pub reset_ms: u64,
}

fn scaled(rate: Rate, now_ms: u64) -> u64 {
    now_ms.saturating_mul(rate.requests)
}

fn unscale_up(rate: Rate, v: u64) -> u64 {
    v.div_ceil(rate.requests.max(1))
}

/// Takes up to `want` units at `now_ms`; takes none when not even one fits.
pub fn take(rate: Rate, state: GcraState, want: u64, now_ms: u64) -> (Taken, GcraState) {
    let t = scaled(rate, now_ms);
    let interval = rate.period_ms.max(1);
    let capacity = rate.burst.saturating_mul(interval);
    let backlog = state.tat.max(t) - t;
    let slack = capacity.saturating_sub(backlog);
    let granted = want.min(slack / interval);
    let tat = state.tat.max(t) + granted * interval;
    let backlog = tat - t;
    let remaining = capacity.saturating_sub(backlog) / interval;
    let wait = match backlog % interval {
        _ if backlog == 0 => 0,
        0 => interval,
        r => r,
    };
    let taken = Taken {
        granted,
        remaining,
        reset_ms: unscale_up(rate, wait),
    };
    (taken, GcraState { tat })
}

/// Gives `units` back (a request admitted here was refused by another policy).
pub fn give_back(rate: Rate, state: GcraState, units: u64) -> GcraState {
    GcraState {
        tat: state
            .tat
            .saturating_sub(units.saturating_mul(rate.period_ms.max(1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_PER_MINUTE: Rate = Rate {
        requests: 10,
        period_ms: 60_000,
        burst: 10,
    };

    #[test]
    fn a_full_burst_then_one_every_interval() {
        let mut s = GcraState::default();
        let now = 1_000_000;
        for i in 0..10 {
            let (t, next) = take(TEN_PER_MINUTE, s, 1, now);
            assert_eq!((t.granted, t.remaining), (1, 9 - i));
            s = next;
        }
        let (t, after) = take(TEN_PER_MINUTE, s, 1, now);
        assert_eq!((t.granted, t.remaining, t.reset_ms), (0, 0, 6_000));
        assert_eq!(after, s, "a refusal consumes nothing");
        let (t, _) = take(TEN_PER_MINUTE, s, 1, now + 6_000);
        assert_eq!(t.granted, 1);
    }

    #[test]
    fn partial_grants_and_give_back() {
        let (t, s) = take(TEN_PER_MINUTE, GcraState::default(), 25, 5_000);
        assert_eq!((t.granted, t.remaining), (10, 0));
        let s = give_back(TEN_PER_MINUTE, s, 3);
        let (t, _) = take(TEN_PER_MINUTE, s, 5, 5_000);
        assert_eq!(t.granted, 3);
    }
}
