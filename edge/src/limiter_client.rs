//! Calls from an isolate to a subject's `RateLimiter` object: decide, or give back.
//! Each call is counted (the benchmark's "object calls per request") and bounded by
//! `LIMITER_TIMEOUT_MS`, after which the policies' fail modes apply.

use crate::config::EdgeConfig;
use crate::limiter::{LimiterRequest, Refund, LIMITER_BINDING};
use crate::metrics::{bump, Counter};
use crate::origin_client::with_timeout;
use std::collections::HashMap;
use tollgate_core::limits::Outcome;
use worker::{Env, Method, Request, RequestInit};

/// Asks the object named `subject`.
pub async fn ask(
    env: &Env,
    cfg: &EdgeConfig,
    subject: &str,
    body: &LimiterRequest,
) -> Result<Outcome, String> {
    bump(Counter::ObjectCalls);
    let stub = env
        .durable_object(LIMITER_BINDING)
        .and_then(|ns| ns.get_by_name(subject))
        .map_err(|e| e.to_string())?;
    let json = serde_json::to_string(body).map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(json.into()));
    let req = Request::new_with_init("https://limiter/check", &init).map_err(|e| e.to_string())?;
    let call = async {
        let mut resp = stub
            .fetch_with_request(req)
            .await
            .map_err(|e| e.to_string())?;
        if resp.status_code() != 200 {
            return Err(format!("limiter answered {}", resp.status_code()));
        }
        resp.json::<Outcome>().await.map_err(|e| e.to_string())
    };
    with_timeout(cfg.limiter_timeout_ms, call)
        .await
        .unwrap_or_else(|| Err("limiter timed out".into()))
}

/// Gives units back, one call per subject; failures are logged (the units then stay
/// spent, which only under-admits).
pub async fn refund_all(env: &Env, cfg: &EdgeConfig, taken: Vec<(String, Refund)>) {
    let mut by_subject: HashMap<String, Vec<Refund>> = HashMap::new();
    for (subject, r) in taken {
        by_subject.entry(subject).or_default().push(r);
    }
    for (subject, refund) in by_subject {
        let body = LimiterRequest {
            check: Vec::new(),
            refund,
        };
        if let Err(e) = ask(env, cfg, &subject, &body).await {
            worker::console_warn!("edge: could not give back units to {subject}: {e}");
        }
    }
}
