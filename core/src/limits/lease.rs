//! Fast mode: an isolate leases a few units from the subject's object and admits
//! locally until they run out or the lease expires, so most requests need no round trip.
//!
//! Units are debited in the object when leased, so the object's count is never short.
//! What a lease can do is move admissions in time: a unit debited at `t` may be spent up
//! to [`LEASE_TTL_MS`] later. For GCRA, which admits at most `burst + requests × L /
//! period` in any interval of length `L`, admissions in any period are therefore at most
//! `burst + requests` plus [`max_over_admission`] = ⌈requests × TTL / period⌉, however
//! many isolates hold leases. Fixed windows and quotas end every lease at their period's
//! end, so they never over-admit: fast mode only under-admits (units leased by an
//! isolate that then goes quiet are lost until the lease expires).

use super::check::Grant;
use super::{Algorithm, LimitPolicy, Mode};

/// Longest a leased unit may wait before it is spent.
pub const LEASE_TTL_MS: u64 = 1_000;

/// The most a fast policy may admit beyond its stated limit (and burst) in any window.
pub fn max_over_admission(policy: &LimitPolicy) -> u64 {
    match (policy.mode, policy.algorithm) {
        (
            Mode::Fast { .. },
            Algorithm::Gcra {
                requests,
                period_ms,
                ..
            },
        ) => (requests * LEASE_TTL_MS).div_ceil(period_ms.max(1)),
        _ => 0,
    }
}

/// A default lease size: a twentieth of the limit, between 1 and 100 units.
pub fn default_lease(requests: u64) -> u64 {
    (requests / 20).clamp(1, 100)
}

/// Units an isolate holds for one policy of one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub units: u64,
    pub expires_at_ms: u64,
    /// What the object had left when it granted the lease (for headers).
    pub remaining: u64,
    pub reset_at_ms: u64,
}

/// The lease an object's grant gives, measured from when the isolate *sent* the request
/// (never later than the object's own clock), less the unit the request itself uses.
pub fn lease_from_grant(grant: &Grant, sent_at_ms: u64) -> Lease {
    let ttl = grant.expires_in_ms.min(LEASE_TTL_MS);
    Lease {
        units: grant.granted.saturating_sub(1),
        expires_at_ms: sent_at_ms.saturating_add(ttl),
        remaining: grant.remaining,
        reset_at_ms: sent_at_ms.saturating_add(grant.reset_ms),
    }
}

/// Spends one leased unit at `now_ms`: the estimated remaining and reset, or `None` when
/// the lease is empty or expired and the object must be asked.
pub fn spend(lease: &mut Lease, now_ms: u64) -> Option<(u64, u64)> {
    if lease.units == 0 || now_ms >= lease.expires_at_ms {
        return None;
    }
    lease.units -= 1;
    Some((
        lease.remaining + lease.units,
        lease.reset_at_ms.saturating_sub(now_ms),
    ))
}

/// How long an isolate may refuse locally after the object refused: until more capacity
/// comes (`reset_ms`), but at most one lease lifetime.
pub fn refusal_ttl_ms(grant: &Grant) -> u64 {
    grant.reset_ms.clamp(1, LEASE_TTL_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{FailMode, Subject};

    #[test]
    fn the_bound_is_stated_per_policy() {
        let mut p = LimitPolicy {
            id: "p".into(),
            name: "rate".into(),
            algorithm: Algorithm::Gcra {
                requests: 100,
                period_ms: 10_000,
                burst: 100,
            },
            subject: Subject::Key,
            mode: Mode::Fast { lease: 5 },
            fail: FailMode::Open,
            hide_headers: false,
        };
        assert_eq!(max_over_admission(&p), 10);
        p.mode = Mode::Strict;
        assert_eq!(max_over_admission(&p), 0);
    }

    #[test]
    fn leases_run_out_and_expire() {
        let grant = Grant {
            granted: 3,
            remaining: 7,
            reset_ms: 500,
            expires_in_ms: 400,
            ..Grant::default()
        };
        let mut lease = lease_from_grant(&grant, 1_000);
        assert_eq!(lease.expires_at_ms, 1_400);
        assert_eq!(spend(&mut lease, 1_100), Some((8, 400)));
        assert_eq!(spend(&mut lease, 1_399), Some((7, 101)));
        assert_eq!(spend(&mut lease, 1_399), None);
        let mut fresh = lease_from_grant(&grant, 1_000);
        assert_eq!(
            spend(&mut fresh, 1_400),
            None,
            "expired at the window's end"
        );
    }
}
