//! Enforcing rate limits and quotas for one request: strict policies ask their
//! subject's `RateLimiter` object every time; fast ones spend units the isolate leased
//! (see `tollgate_core::limits::lease`). When an object cannot be reached each policy's
//! `fail` mode decides, and the answer says so in `tollgate-limiter`.

use crate::config::{now_ms, EdgeConfig};
use crate::limit_answers::{headers_for, too_many, Refusal};
use crate::limiter::{LimiterRequest, Refund};
use crate::limiter_client::{ask, refund_all};
use crate::metrics::{bump, Counter};
use std::cell::RefCell;
use std::collections::HashMap;
use tollgate_core::limits::lease::{lease_from_grant, refusal_ttl_ms, spend, Lease};
use tollgate_core::limits::select::SubjectLimits;
use tollgate_core::limits::{FailMode, Grant, LimitPolicy, Mode};
use tollgate_core::{Problem, ProblemKind};
use worker::Env;

/// Most leases one isolate holds; beyond it they are all dropped (they only under-admit).
const MAX_LEASES: usize = 10_000;

enum Held {
    Lease(Lease),
    Refused { until_ms: u64, grant: Grant },
}

thread_local! {
    static HELD: RefCell<HashMap<(String, String), Held>> = RefCell::new(HashMap::new());
}

/// What passing the limits left to do: headers to send, slots to release.
#[derive(Default)]
pub struct Admission {
    pub headers: Vec<(&'static str, String)>,
    releases: Vec<(String, Refund)>,
}

fn subject_key(subject: &str, policy: &LimitPolicy) -> (String, String) {
    (subject.to_owned(), policy.id.clone())
}

/// Gives back what earlier subjects granted to a request refused by a later one.
async fn give_back(
    env: &Env,
    cfg: &EdgeConfig,
    taken: Vec<(String, Refund)>,
    local: &[(String, String)],
) {
    HELD.with(|h| {
        for key in local {
            if let Some(Held::Lease(l)) = h.borrow_mut().get_mut(key) {
                l.units += 1;
            }
        }
    });
    refund_all(env, cfg, taken).await;
}

/// Decides a request against every subject's limits, in order.
pub async fn admit(
    env: &Env,
    cfg: &EdgeConfig,
    subjects: &[SubjectLimits],
) -> Result<Admission, Refusal> {
    let mut reported: Vec<(LimitPolicy, Grant)> = Vec::new();
    let mut taken: Vec<(String, Refund)> = Vec::new();
    let mut spent_local: Vec<(String, String)> = Vec::new();
    let mut unavailable = false;
    for subject in subjects {
        // A refusal that raced a concurrent refill of the same isolate's lease is
        // retried once against the lease.
        'attempt: for attempt in 0..2 {
            let now = now_ms();
            let mut asks: Vec<(LimitPolicy, u64)> = Vec::new();
            let mut local: Vec<&LimitPolicy> = Vec::new();
            let mut refused: Option<(LimitPolicy, Grant)> = None;
            for p in &subject.policies {
                let Mode::Fast { lease } = p.mode else {
                    asks.push((p.clone(), 1));
                    continue;
                };
                let key = subject_key(&subject.subject, p);
                HELD.with(|h| match h.borrow().get(&key) {
                    Some(Held::Lease(l)) if l.units > 0 && now < l.expires_at_ms => local.push(p),
                    Some(Held::Refused { until_ms, grant }) if now < *until_ms => {
                        refused = Some((p.clone(), *grant));
                    }
                    _ => asks.push((p.clone(), lease)),
                });
            }
            if let Some((p, grant)) = refused {
                reported.push((p.clone(), grant));
                give_back(env, cfg, taken, &spent_local).await;
                return Err(too_many(&p, &grant, &reported));
            }
            if !asks.is_empty() {
                let body = LimiterRequest {
                    check: asks,
                    refund: Vec::new(),
                };
                match ask(env, cfg, &subject.subject, &body).await {
                    Ok(outcome) if outcome.admitted => {
                        for ((p, _), g) in body.check.into_iter().zip(outcome.grants) {
                            if matches!(p.mode, Mode::Fast { .. }) {
                                remember(
                                    &subject.subject,
                                    &p,
                                    Held::Lease(lease_from_grant(&g, now)),
                                );
                            }
                            if matches!(p.mode, Mode::Strict) || g.ticket.is_some() {
                                let refund = Refund {
                                    policy: p.clone(),
                                    units: 1,
                                    ticket: g.ticket,
                                };
                                taken.push((subject.subject.clone(), refund));
                            }
                            reported.push((p, g));
                        }
                    }
                    Ok(_)
                        if attempt == 0
                            && body
                                .check
                                .iter()
                                .all(|(p, _)| has_units(&subject.subject, p)) =>
                    {
                        continue 'attempt;
                    }
                    Ok(outcome) => {
                        let mut first: Option<(LimitPolicy, Grant)> = None;
                        for ((p, _), g) in body.check.into_iter().zip(outcome.grants) {
                            if g.granted == 0 && g.remaining == 0 && first.is_none() {
                                first = Some((p.clone(), g));
                            }
                            if matches!(p.mode, Mode::Fast { .. }) && g.remaining == 0 {
                                let until_ms = now + refusal_ttl_ms(&g);
                                remember(
                                    &subject.subject,
                                    &p,
                                    Held::Refused { until_ms, grant: g },
                                );
                            }
                            reported.push((p, g));
                        }
                        give_back(env, cfg, std::mem::take(&mut taken), &spent_local).await;
                        // The refuser reports nothing left; failing that, the last one asked.
                        let refuser = first.or_else(|| reported.last().cloned());
                        if let Some((p, g)) = refuser {
                            return Err(too_many(&p, &g, &reported));
                        }
                    }
                    Err(e) => {
                        worker::console_warn!(
                            "edge: limiter for {} unavailable: {e}",
                            subject.subject
                        );
                        if body.check.iter().any(|(p, _)| p.fail == FailMode::Closed) {
                            bump(Counter::UnavailableClosed);
                            give_back(env, cfg, taken, &spent_local).await;
                            let problem = Problem::new(
                                ProblemKind::ServiceUnavailable,
                                "the rate limiter cannot be reached and this API's limits fail closed; retry shortly",
                            )
                            .with_retry_after(1);
                            let headers =
                                vec![("tollgate-limiter", "unavailable; fail=closed".to_owned())];
                            return Err(Refusal {
                                problem,
                                violation: None,
                                headers,
                            });
                        }
                        bump(Counter::UnavailableOpen);
                        unavailable = true;
                    }
                }
            }
            for p in local {
                let key = subject_key(&subject.subject, p);
                let spent = HELD.with(|h| match h.borrow_mut().get_mut(&key) {
                    Some(Held::Lease(l)) => spend(l, now),
                    _ => None,
                });
                if let Some((remaining, reset_ms)) = spent {
                    let grant = Grant {
                        granted: 1,
                        remaining,
                        reset_ms,
                        ..Grant::default()
                    };
                    reported.push((p.clone(), grant));
                    spent_local.push(key);
                }
            }
            break 'attempt;
        }
    }
    bump(Counter::Admitted);
    let releases = taken
        .into_iter()
        .filter(|(_, r)| r.ticket.is_some())
        .collect();
    Ok(Admission {
        headers: headers_for(&reported, unavailable),
        releases,
    })
}

fn has_units(subject: &str, policy: &LimitPolicy) -> bool {
    matches!(policy.mode, Mode::Fast { .. })
        && HELD.with(|h| {
            matches!(h.borrow().get(&subject_key(subject, policy)),
                Some(Held::Lease(l)) if l.units > 0 && now_ms() < l.expires_at_ms)
        })
}

fn remember(subject: &str, policy: &LimitPolicy, held: Held) {
    HELD.with(|h| {
        let mut map = h.borrow_mut();
        if map.len() >= MAX_LEASES {
            map.clear();
        }
        let key = subject_key(subject, policy);
        // Concurrent refills each bring a lease: keep the units of both, under the
        // earlier expiry (never later than any unit's own).
        let merged = match (map.remove(&key), held) {
            // A valid lease with units outlives a refusal that raced its refill.
            (Some(Held::Lease(old)), Held::Refused { .. })
                if old.units > 0 && now_ms() < old.expires_at_ms =>
            {
                Held::Lease(old)
            }
            (Some(Held::Lease(old)), Held::Lease(new))
                if old.units > 0 && now_ms() < old.expires_at_ms =>
            {
                Held::Lease(Lease {
                    units: old.units + new.units,
                    expires_at_ms: old.expires_at_ms.min(new.expires_at_ms),
                    ..new
                })
            }
            (_, held) => held,
        };
        map.insert(key, merged);
    });
}

/// Frees the concurrency slots the request held.
pub async fn release(env: &Env, cfg: &EdgeConfig, admission: Admission) {
    if !admission.releases.is_empty() {
        give_back(env, cfg, admission.releases, &[]).await;
    }
}
