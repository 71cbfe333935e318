//! Counting windows: fixed windows aligned to the epoch (or to a quota's period) and
//! sliding windows kept as ten buckets.
//!
//! The sliding window counts every bucket that overlaps the last `window_ms` (eleven of
//! them), so whatever window of that length one looks at, it never holds more than the
//! limit: exact in the direction that matters, at the price of refusing up to one
//! bucket's worth early. (The popular "previous count × overlap" estimate can admit
//! nearly twice the limit when the previous window's traffic came at its end.)

use serde::{Deserialize, Serialize};

/// Buckets per sliding window.
pub const BUCKETS: u64 = 10;

/// One counting period: its start and how many units it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counter {
    pub start_ms: u64,
    pub count: u64,
}

/// The outcome of counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub granted: u64,
    pub remaining: u64,
    /// Ms until capacity is freed (the end of the period, or the next bucket to leave).
    pub reset_ms: u64,
}

/// Counts up to `want` units in the period `[start, end)` that contains `now_ms`. With
/// `soft`, everything is granted and units beyond `limit` are overage.
pub fn count_in_period(
    limit: u64,
    (start, end): (u64, u64),
    counter: Counter,
    want: u64,
    soft: bool,
    now_ms: u64,
) -> (Counted, Counter) {
    let used = if counter.start_ms == start {
        counter.count
    } else {
        0
    };
    let granted = if soft {
        want
    } else {
        want.min(limit.saturating_sub(used))
    };
    let count = used + granted;
    let counted = Counted {
        granted,
        remaining: limit.saturating_sub(count),
        reset_ms: end.saturating_sub(now_ms),
    };
    (
        counted,
        Counter {
            start_ms: start,
            count,
        },
    )
}

/// The epoch-aligned fixed window `[start, end)` containing `now_ms`.
pub fn fixed_bounds(window_ms: u64, now_ms: u64) -> (u64, u64) {
    let w = window_ms.max(1);
    let start = now_ms - now_ms % w;
    (start, start + w)
}

/// A sliding window's buckets, oldest first; the last one starts at `newest_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Buckets {
    pub newest_ms: u64,
    pub counts: Vec<u64>,
}

fn advance(window_ms: u64, state: &Buckets, now_ms: u64) -> Buckets {
    let size = (window_ms / BUCKETS).max(1);
    let newest = now_ms - now_ms % size;
    let slots = (BUCKETS + 1) as usize;
    let mut counts = state.counts.clone();
    counts.resize(slots, 0);
    let shift = newest.saturating_sub(state.newest_ms) / size;
    if shift >= slots as u64 || state.counts.is_empty() {
        counts = vec![0; slots];
    } else {
        counts.rotate_left(shift as usize);
        let keep = slots - shift as usize;
        counts[keep..].iter_mut().for_each(|c| *c = 0);
    }
    Buckets {
        newest_ms: newest.max(state.newest_ms),
        counts,
    }
}

/// Counts up to `want` units in the sliding window ending at `now_ms`.
pub fn count_sliding(
    limit: u64,
    window_ms: u64,
    state: &Buckets,
    want: u64,
    now_ms: u64,
) -> (Counted, Buckets) {
    let mut next = advance(window_ms, state, now_ms);
    let used: u64 = next.counts.iter().sum();
    let granted = want.min(limit.saturating_sub(used));
    if let Some(last) = next.counts.last_mut() {
        *last += granted;
    }
    let size = (window_ms / BUCKETS).max(1);
    let oldest_used = next.counts.iter().position(|&c| c > 0);
    let reset_ms = oldest_used.map_or(0, |i| {
        (next.newest_ms + (i as u64 + 1) * size).saturating_sub(now_ms)
    });
    let counted = Counted {
        granted,
        remaining: limit.saturating_sub(used + granted),
        reset_ms,
    };
    (counted, next)
}

/// Takes `units` back out of the newest buckets.
pub fn uncount_sliding(state: &Buckets, mut units: u64) -> Buckets {
    let mut next = state.clone();
    for c in next.counts.iter_mut().rev() {
        let back = units.min(*c);
        *c -= back;
        units -= back;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_window_resets_at_its_edge() {
        let b = fixed_bounds(60_000, 119_999);
        assert_eq!(b, (60_000, 120_000));
        let (c, s) = count_in_period(3, b, Counter::default(), 5, false, 119_999);
        assert_eq!((c.granted, c.remaining, c.reset_ms), (3, 0, 1));
        let (c, _) = count_in_period(3, fixed_bounds(60_000, 120_000), s, 1, false, 120_000);
        assert_eq!(c.granted, 1);
    }

    #[test]
    fn soft_periods_admit_beyond_the_limit() {
        let (c, s) = count_in_period(1, (0, 10), Counter::default(), 1, true, 0);
        let (c2, _) = count_in_period(1, (0, 10), s, 1, true, 1);
        assert_eq!(
            (c.granted, c.remaining, c2.granted, c2.remaining),
            (1, 0, 1, 0)
        );
    }

    #[test]
    fn a_sliding_window_forgets_old_buckets_only() {
        let (c, s) = count_sliding(5, 10_000, &Buckets::default(), 5, 9_500);
        assert_eq!(c.granted, 5);
        let (c, _) = count_sliding(5, 10_000, &s, 1, 19_000);
        assert_eq!(
            c.granted, 0,
            "bucket 9000..10000 still overlaps (9000, 19000]"
        );
        assert_eq!(c.reset_ms, 1_000);
        let (c, _) = count_sliding(5, 10_000, &s, 1, 20_000);
        assert_eq!(c.granted, 1);
    }
}
