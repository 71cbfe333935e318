//! Load shedding state, per API, in this isolate's memory.
//!
//! Kept in the isolate rather than a Durable Object: shedding exists to take load off a
//! struggling upstream, and a round trip to an object on every request would add load
//! and latency exactly when things are slow. Each isolate sees a sample of the same
//! upstream's answers, trips on its own within a few requests and recovers on its own
//! after the cool-down; no coordination is needed for that to be safe.

use crate::config::now_ms;
use std::cell::RefCell;
use std::collections::HashMap;
use tollgate_core::shed::{admit, record, ShedDecision, ShedPolicy, ShedState};
use tollgate_core::ApiId;

thread_local! {
    static ROUTES: RefCell<HashMap<ApiId, ShedState>> = RefCell::new(HashMap::new());
}

/// Whether to send a request to `api`'s upstream now.
pub fn check(api: &ApiId) -> ShedDecision {
    ROUTES.with(|r| {
        r.borrow()
            .get(api)
            .map_or(ShedDecision::Pass, |s| admit(s, now_ms()))
    })
}

/// Records how the upstream answered.
pub fn observe(api: &ApiId, policy: &ShedPolicy, upstream_error: bool, latency_ms: u64) {
    ROUTES.with(|r| {
        let mut routes = r.borrow_mut();
        let state = routes.entry(api.clone()).or_default();
        *state = record(policy, state, now_ms(), upstream_error, latency_ms);
    });
}
