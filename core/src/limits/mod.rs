//! Rate limits and quotas: the policies the edge enforces and the pure algorithms behind
//! them, as functions of `(policy, state, now) -> (decision, new state)`.
//!
//! The edge keeps each subject's state in a Durable Object (strict mode) or leases a small
//! allowance from it (fast mode, see [`lease`]); the arithmetic is all here so it is
//! property-tested natively and behaves identically on wasm32.

pub mod calendar;
pub mod check;
pub mod concurrency;
pub mod gcra;
pub mod headers;
pub mod lease;
pub mod select;
pub mod window;

#[cfg(test)]
mod header_tests;
#[cfg(test)]
mod tests;

use crate::ApiId;
use serde::{Deserialize, Serialize};

pub use check::{check_all, refund, Grant, LimitState, Outcome};

/// Largest `requests` a policy may state: keeps every product in `u64` exact.
pub const MAX_REQUESTS: u64 = 1_000_000;

/// One limit the edge enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitPolicy {
    /// Stable id naming the state kept for this policy, e.g. `plan_1.rate`.
    pub id: String,
    /// The name clients see in `RateLimit` headers and 429 answers, e.g. `rate`.
    pub name: String,
    pub algorithm: Algorithm,
    /// Whose requests share the counter.
    #[serde(default)]
    pub subject: Subject,
    #[serde(default)]
    pub mode: Mode,
    /// What to do when the limiter cannot be reached.
    #[serde(default)]
    pub fail: FailMode,
    /// Send no `RateLimit*` headers for this policy (e.g. DoS thresholds).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hide_headers: bool,
}

/// How a policy counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Algorithm {
    /// Generic cell rate: `requests` per `period_ms`, up to `burst` at once.
    Gcra {
        requests: u64,
        period_ms: u64,
        burst: u64,
    },
    /// At most `requests` per window aligned to the unix epoch.
    FixedWindow { requests: u64, window_ms: u64 },
    /// At most `requests` in any `window_ms` (bucketed, never more; see [`window`]).
    SlidingWindow { requests: u64, window_ms: u64 },
    /// At most `requests` per calendar period starting at `anchor_ms`'s phase.
    Quota {
        requests: u64,
        period: calendar::Period,
        #[serde(default)]
        anchor_ms: i64,
        #[serde(default)]
        enforcement: Enforcement,
    },
    /// At most `requests` in flight; a slot is freed on release or after `timeout_ms`.
    Concurrency { requests: u64, timeout_ms: u64 },
}

impl Algorithm {
    /// The stated number of requests (the `q` of `RateLimit-Policy`).
    pub fn requests(&self) -> u64 {
        match *self {
            Algorithm::Gcra { requests, .. }
            | Algorithm::FixedWindow { requests, .. }
            | Algorithm::SlidingWindow { requests, .. }
            | Algorithm::Quota { requests, .. }
            | Algorithm::Concurrency { requests, .. } => requests,
        }
    }
}

/// Whose requests a policy counts together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    /// One API key.
    #[default]
    Key,
    /// Every key of one consumer.
    Consumer,
    /// One client IP address.
    Ip,
    /// Everyone calling the API (a route-wide limit).
    Api,
}

/// Who decides each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "mode")]
pub enum Mode {
    /// The subject's object decides every request: exact.
    #[default]
    Strict,
    /// The isolate leases `lease` units at a time and admits locally (see [`lease`]).
    Fast { lease: u64 },
}

/// What happens when the limiter cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// Admit the request (marked `tollgate-limiter: unavailable; fail=open`).
    #[default]
    Open,
    /// Refuse it with 503.
    Closed,
}

/// What an exhausted quota does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// 429.
    #[default]
    Hard,
    /// Admit and flag the request as overage for billing.
    Soft,
}

/// The limits a plan puts on each key holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLimits {
    pub plan_id: crate::PlanId,
    pub policies: Vec<LimitPolicy>,
}

/// A limit set on one API (or, with no `api_id`, on every API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedLimit {
    #[serde(default)]
    pub api_id: Option<ApiId>,
    pub policy: LimitPolicy,
}

/// Why a policy cannot be enforced as stated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {detail}")]
pub struct PolicyError {
    /// The member at fault, relative to the policy (e.g. `requests`).
    pub field: &'static str,
    pub detail: String,
}

fn invalid(field: &'static str, detail: impl Into<String>) -> PolicyError {
    PolicyError {
        field,
        detail: detail.into(),
    }
}

/// Checks that a policy is enforceable and that fast mode is used only where its
/// over-admission bound holds (see [`lease::max_over_admission`]).
pub fn validate(policy: &LimitPolicy) -> Result<(), PolicyError> {
    let requests = policy.algorithm.requests();
    if requests == 0 || requests > MAX_REQUESTS {
        return Err(invalid(
            "requests",
            format!("must be between 1 and {MAX_REQUESTS}"),
        ));
    }
    let span = match policy.algorithm {
        Algorithm::Gcra {
            period_ms, burst, ..
        } => {
            if burst == 0 || burst > MAX_REQUESTS {
                return Err(invalid(
                    "burst",
                    format!("must be between 1 and {MAX_REQUESTS}"),
                ));
            }
            Some(period_ms)
        }
        Algorithm::FixedWindow { window_ms, .. } | Algorithm::SlidingWindow { window_ms, .. } => {
            Some(window_ms)
        }
        Algorithm::Concurrency { timeout_ms, .. } => Some(timeout_ms),
        Algorithm::Quota { .. } => None,
    };
    if let Some(ms) = span {
        if !(1_000..=calendar::MAX_SPAN_MS).contains(&ms) {
            return Err(invalid(
                "window",
                "must be between 1 second and 366 days, in whole seconds",
            ));
        }
        if ms % 1_000 != 0 {
            return Err(invalid("window", "must be a whole number of seconds"));
        }
    }
    if let Mode::Fast { lease } = policy.mode {
        if matches!(
            policy.algorithm,
            Algorithm::SlidingWindow { .. } | Algorithm::Concurrency { .. }
        ) {
            return Err(invalid(
                "mode",
                "fast mode works with gcra, fixed windows and quotas; sliding windows and concurrency limits are strict",
            ));
        }
        if lease == 0 || lease > requests {
            return Err(invalid(
                "lease",
                format!("must be between 1 and the policy's requests ({requests})"),
            ));
        }
    }
    Ok(())
}
