//! `RateLimiter`: one SQLite-backed Durable Object per subject (`key:…`, `ip:…`, …) that
//! holds the counters of every policy on that subject and decides with
//! `tollgate_core::limits::check_all`. Decisions are exact because an object runs one
//! event at a time and nothing here awaits between reading and writing a counter; SQLite
//! storage makes the counts survive eviction and restarts.

use crate::config::now_ms;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use tollgate_core::limits::{check_all, refund, LimitPolicy, LimitState, Outcome};
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorageValue, State};

/// Durable Object binding of the limiter.
pub const LIMITER_BINDING: &str = "RATE_LIMITER";

/// What an isolate asks a subject's object: units to grant and units to give back.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct LimiterRequest {
    pub check: Vec<(LimitPolicy, u64)>,
    #[serde(default)]
    pub refund: Vec<Refund>,
}

/// Units (or a concurrency ticket) handed back.
#[derive(Debug, Serialize, Deserialize)]
pub struct Refund {
    pub policy: LimitPolicy,
    pub units: u64,
    pub ticket: Option<u64>,
}

#[derive(Deserialize)]
struct Row {
    state: String,
}

#[durable_object]
pub struct RateLimiter {
    state: State,
    cache: RefCell<HashMap<String, LimitState>>,
    ready: RefCell<bool>,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        RateLimiter {
            state,
            cache: RefCell::new(HashMap::new()),
            ready: RefCell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let ask: LimiterRequest = req.json().await?;
        self.ensure_table()?;
        let now = now_ms();
        for r in &ask.refund {
            let prev = self.load(&r.policy.id)?;
            let next = refund(&r.policy, &prev, r.units, r.ticket);
            self.store(&r.policy.id, &prev, next)?;
        }
        let policies: Vec<(&LimitPolicy, u64)> = ask.check.iter().map(|(p, w)| (p, *w)).collect();
        let states = policies
            .iter()
            .map(|(p, _)| self.load(&p.id))
            .collect::<worker::Result<Vec<_>>>()?;
        let (outcome, next): (Outcome, Vec<LimitState>) = check_all(&policies, &states, now);
        for (((p, _), prev), next) in policies.iter().zip(&states).zip(next) {
            self.store(&p.id, prev, next)?;
        }
        Response::from_json(&outcome)
    }
}

impl RateLimiter {
    fn ensure_table(&self) -> worker::Result<()> {
        if !*self.ready.borrow() {
            self.state.storage().sql().exec(
                "CREATE TABLE IF NOT EXISTS limit_state (policy TEXT PRIMARY KEY, state TEXT NOT NULL)",
                None,
            )?;
            *self.ready.borrow_mut() = true;
        }
        Ok(())
    }

    fn load(&self, policy: &str) -> worker::Result<LimitState> {
        if let Some(s) = self.cache.borrow().get(policy) {
            return Ok(s.clone());
        }
        let rows: Vec<Row> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT state FROM limit_state WHERE policy = ?",
                vec![SqlStorageValue::from(policy.to_owned())],
            )?
            .to_array()?;
        // A state from an older shape of the policy starts afresh rather than failing.
        let state = rows
            .first()
            .and_then(|r| serde_json::from_str(&r.state).ok())
            .unwrap_or_default();
        self.cache
            .borrow_mut()
            .insert(policy.to_owned(), LimitState::clone(&state));
        Ok(state)
    }

    fn store(&self, policy: &str, prev: &LimitState, next: LimitState) -> worker::Result<()> {
        if prev == &next {
            return Ok(());
        }
        let json =
            serde_json::to_string(&next).map_err(|e| worker::Error::RustError(e.to_string()))?;
        self.state.storage().sql().exec(
            "INSERT INTO limit_state (policy, state) VALUES (?, ?) \
             ON CONFLICT (policy) DO UPDATE SET state = excluded.state",
            vec![
                SqlStorageValue::from(policy.to_owned()),
                SqlStorageValue::from(json),
            ],
        )?;
        self.cache.borrow_mut().insert(policy.to_owned(), next);
        Ok(())
    }
}
