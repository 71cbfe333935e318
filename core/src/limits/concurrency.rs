//! Concurrent-request limits: at most `requests` slots in flight per subject. A slot is
//! freed when the edge releases its ticket or, if that release is lost (the isolate died
//! mid-request), when the slot's timeout passes, so a crash never leaks capacity forever.

use serde::{Deserialize, Serialize};

/// Slots in flight: `(ticket, expires_at_ms)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConcurrencyState {
    pub slots: Vec<(u64, u64)>,
    pub next_ticket: u64,
}

/// Takes a slot if one is free: `(ticket, in flight after, new state)`.
pub fn acquire(
    limit: u64,
    timeout_ms: u64,
    state: &ConcurrencyState,
    now_ms: u64,
) -> (Option<u64>, u64, ConcurrencyState) {
    let mut next = state.clone();
    next.slots.retain(|&(_, expires)| expires > now_ms);
    if (next.slots.len() as u64) >= limit {
        let in_flight = next.slots.len() as u64;
        return (None, in_flight, next);
    }
    let ticket = next.next_ticket;
    next.next_ticket += 1;
    next.slots.push((ticket, now_ms.saturating_add(timeout_ms)));
    let in_flight = next.slots.len() as u64;
    (Some(ticket), in_flight, next)
}

/// Ms until the earliest slot times out (a retry hint when all are taken).
pub fn earliest_expiry_ms(state: &ConcurrencyState, now_ms: u64) -> u64 {
    state
        .slots
        .iter()
        .map(|&(_, e)| e.saturating_sub(now_ms))
        .min()
        .unwrap_or(0)
}

/// Frees the slot of `ticket` (unknown tickets are ignored: releases are idempotent).
pub fn release(state: &ConcurrencyState, ticket: u64) -> ConcurrencyState {
    let mut next = state.clone();
    next.slots.retain(|&(t, _)| t != ticket);
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_released_and_time_out() {
        let s = ConcurrencyState::default();
        let (a, _, s) = acquire(2, 1_000, &s, 0);
        let (b, n, s) = acquire(2, 1_000, &s, 0);
        assert_eq!((a, b, n), (Some(0), Some(1), 2));
        let (none, _, s) = acquire(2, 1_000, &s, 10);
        assert_eq!(none, None);
        assert_eq!(earliest_expiry_ms(&s, 10), 990);
        let s = release(&s, 0);
        let (c, _, s) = acquire(2, 1_000, &s, 10);
        assert_eq!(c, Some(2));
        let (d, _, _) = acquire(2, 1_000, &s, 1_001);
        assert_eq!(d, Some(3), "the slot of ticket 1 timed out");
    }
}
