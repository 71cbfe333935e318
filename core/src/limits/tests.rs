//! Property tests of the limiters: never more than limit + burst in any window, a clock
//! going backwards frees nothing, refused requests consume nothing, and fast-mode leases
//! stay within their stated bound.

use super::calendar::Period;
use super::check::{check_all, grant, LimitState};
use super::lease::{lease_from_grant, max_over_admission, spend, Lease, LEASE_TTL_MS};
use super::*;
use proptest::prelude::*;

fn policy(algorithm: Algorithm) -> LimitPolicy {
    LimitPolicy {
        id: "p".into(),
        name: "p".into(),
        algorithm,
        subject: Subject::Key,
        mode: Mode::Strict,
        fail: FailMode::Open,
        hide_headers: false,
    }
}

/// Admission times of one request per entry of `times` (strict mode).
fn run(p: &LimitPolicy, times: &[u64]) -> Vec<u64> {
    let mut state = LimitState::default();
    let mut admitted = Vec::new();
    for &t in times {
        let (g, next) = grant(p, &state, 1, t);
        if g.granted == 1 {
            admitted.push(t.max(state.seen_ms));
        }
        state = next;
    }
    admitted
}

fn max_in_any_window(admitted: &[u64], len: u64) -> usize {
    admitted
        .iter()
        .map(|&a| admitted.iter().filter(|&&b| b >= a && b < a + len).count())
        .max()
        .unwrap_or(0)
}

fn arrivals() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(0u64..3_000, 1..300).prop_map(|gaps| {
        let mut t = 1_700_000_000_000;
        gaps.into_iter()
            .map(|g| {
                // Many requests share a millisecond: bursts matter most.
                t += g.saturating_sub(1_500);
                t
            })
            .collect()
    })
}

fn rates() -> impl Strategy<Value = (u64, u64, u64)> {
    (1u64..50, 1u64..20, 1u64..60).prop_map(|(r, secs, b)| (r, secs * 1_000, b))
}

proptest! {
    #[test]
    fn gcra_never_admits_more_than_limit_plus_burst(times in arrivals(), (r, period, b) in rates()) {
        let p = policy(Algorithm::Gcra { requests: r, period_ms: period, burst: b });
        let admitted = run(&p, &times);
        prop_assert!(max_in_any_window(&admitted, period) as u64 <= r + b);
        // And the first burst is admitted in full.
        let same_instant = times.iter().filter(|&&t| t == times[0]).count() as u64;
        prop_assert!(admitted.len() as u64 >= same_instant.min(b));
    }

    #[test]
    fn windows_never_admit_more_than_the_limit(times in arrivals(), r in 1u64..50, secs in 1u64..20) {
        let w = secs * 1_000;
        let sliding = run(&policy(Algorithm::SlidingWindow { requests: r, window_ms: w }), &times);
        prop_assert!(max_in_any_window(&sliding, w) as u64 <= r, "sliding");
        let fixed = run(&policy(Algorithm::FixedWindow { requests: r, window_ms: w }), &times);
        for a in &fixed {
            let start = a - a % w;
            prop_assert!(fixed.iter().filter(|&&b| b >= start && b < start + w).count() as u64 <= r);
        }
    }

    #[test]
    fn a_clock_going_backwards_frees_nothing(
        steps in prop::collection::vec(-5_000i64..5_000, 1..200),
        (r, period, b) in rates(),
        which in 0usize..4,
    ) {
        let algorithm = [
            Algorithm::Gcra { requests: r, period_ms: period, burst: b },
            Algorithm::FixedWindow { requests: r, window_ms: period },
            Algorithm::SlidingWindow { requests: r, window_ms: period },
            Algorithm::Quota { requests: r, period: Period::Hour, anchor_ms: 0, enforcement: Enforcement::Hard },
        ][which];
        let p = policy(algorithm);
        let mut t: i64 = 1_700_000_000_000;
        let times: Vec<u64> = steps.iter().map(|s| { t += s; t as u64 }).collect();
        let mut high = 0;
        let monotone: Vec<u64> = times.iter().map(|&x| { high = high.max(x); high }).collect();
        // Time that went back behaves exactly like time that stood still.
        prop_assert_eq!(run(&p, &times), run(&p, &monotone));
    }

    #[test]
    fn a_refused_request_consumes_nothing(
        used in 0u64..40, r in 1u64..20, (gr, period, b) in rates(), now in 0u64..10_000_000,
    ) {
        let quota = policy(Algorithm::Quota { requests: r, period: Period::Day, anchor_ms: 0, enforcement: Enforcement::Hard });
        let rate = policy(Algorithm::Gcra { requests: gr, period_ms: period, burst: b });
        let mut states = vec![LimitState::default(), LimitState::default()];
        for _ in 0..used {
            let (_, next) = check_all(&[(&quota, 1), (&rate, 1)], &states, now);
            states = next;
        }
        let (outcome, next) = check_all(&[(&quota, 1), (&rate, 1)], &states, now);
        if !outcome.admitted {
            prop_assert_eq!(&next, &states);
            prop_assert!(outcome.grants.iter().all(|g| g.granted == 0));
        }
    }

    #[test]
    fn soft_quotas_admit_and_flag_overage(n in 1u64..40, r in 1u64..20) {
        let p = policy(Algorithm::Quota { requests: r, period: Period::Month, anchor_ms: 0, enforcement: Enforcement::Soft });
        let mut s = LimitState::default();
        for i in 1..=n {
            let (g, next) = grant(&p, &s, 1, 5_000);
            prop_assert_eq!(g.granted, 1);
            prop_assert_eq!(g.overage, i > r);
            s = next;
        }
    }

    #[test]
    fn fast_leases_stay_within_the_stated_bound(
        arrivals in prop::collection::vec((0usize..4, 0u64..400), 1..400),
        (r, period, b) in rates(),
        lease in 1u64..20,
    ) {
        let mut p = policy(Algorithm::Gcra { requests: r, period_ms: period, burst: b });
        p.mode = Mode::Fast { lease: lease.min(r) };
        let bound = max_over_admission(&p);
        let mut object = LimitState::default();
        let mut leases: [Option<Lease>; 4] = [None; 4];
        let mut t = 1_000_000u64;
        let mut admitted = Vec::new();
        for (isolate, gap) in arrivals {
            t += gap;
            if leases[isolate].as_mut().and_then(|l| spend(l, t)).is_some() {
                admitted.push(t);
                continue;
            }
            let (g, next) = grant(&p, &object, lease.min(r), t);
            object = next;
            if g.granted > 0 {
                admitted.push(t);
                leases[isolate] = Some(lease_from_grant(&g, t));
            }
        }
        prop_assert!(max_in_any_window(&admitted, period) as u64 <= r + b + bound,
            "bound {bound}, ttl {LEASE_TTL_MS}");
    }
}

#[test]
fn fast_mode_is_refused_where_its_bound_does_not_hold() {
    let mut p = policy(Algorithm::SlidingWindow {
        requests: 10,
        window_ms: 60_000,
    });
    p.mode = Mode::Fast { lease: 2 };
    assert_eq!(validate(&p).unwrap_err().field, "mode");
    p.algorithm = Algorithm::Gcra {
        requests: 10,
        period_ms: 60_000,
        burst: 10,
    };
    assert!(validate(&p).is_ok());
    p.mode = Mode::Fast { lease: 11 };
    assert_eq!(validate(&p).unwrap_err().field, "lease");
    p.algorithm = Algorithm::FixedWindow {
        requests: 10,
        window_ms: 1_500,
    };
    p.mode = Mode::Strict;
    assert_eq!(validate(&p).unwrap_err().field, "window");
}
