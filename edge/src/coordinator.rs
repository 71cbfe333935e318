//! `ConfigCoordinator`: the one Durable Object that talks to the origin about config.
//!
//! Isolates ask it for the snapshot (`GET /snapshot?have=<version>`) instead of polling
//! the origin themselves, so the origin sees at most one snapshot request per half refresh
//! window however many isolates run. It keeps the last snapshot in its own storage (so a
//! restart with the origin down still has config) and mirrors it into KV as a fallback for
//! isolates that cannot reach it.

use crate::config::{now_ms, EdgeConfig};
use crate::origin_client::{fetch_snapshot, SnapshotAnswer};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use worker::{durable_object, DurableObject, Env, Request, Response, State, Storage};

/// KV key of the mirrored snapshot JSON.
pub const KV_SNAPSHOT_KEY: &str = "config:snapshot";
/// Header naming the snapshot version in coordinator answers.
pub const VERSION_HEADER: &str = "x-tollgate-snapshot-version";

#[derive(Clone, Serialize, Deserialize)]
struct Held {
    json: String,
    version: u64,
    checked_at_ms: u64,
}

#[durable_object]
pub struct ConfigCoordinator {
    state: State,
    env: Env,
    held: Rc<RefCell<Option<Held>>>,
}

impl DurableObject for ConfigCoordinator {
    fn new(state: State, env: Env) -> Self {
        ConfigCoordinator {
            state,
            env,
            held: Rc::new(RefCell::new(None)),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let have: Option<u64> = req
            .url()?
            .query_pairs()
            .find(|(k, _)| k == "have")
            .and_then(|(_, v)| v.parse().ok());
        let cfg = EdgeConfig::from_env(&self.env)
            .map_err(|missing| worker::Error::RustError(format!("{missing} is not set")))?;
        if self.needs_refresh(&cfg) {
            // Blocks other requests to this object while refreshing, so concurrent
            // isolates cause one origin call, not many.
            let refresh = refresh(
                cfg,
                self.env.clone(),
                self.state.storage(),
                self.held.clone(),
            );
            self.state.block_concurrency_while(refresh).await?;
        }
        let held = self.held.borrow().clone();
        match held {
            None => Response::error("no snapshot yet: the origin has not been reachable", 503),
            Some(h) if Some(h.version) == have => {
                let mut resp = Response::empty()?.with_status(304);
                resp.headers_mut()
                    .set(VERSION_HEADER, &h.version.to_string())?;
                Ok(resp)
            }
            Some(h) => {
                let mut resp = Response::ok(h.json)?;
                resp.headers_mut()
                    .set(VERSION_HEADER, &h.version.to_string())?;
                Ok(resp)
            }
        }
    }
}

impl ConfigCoordinator {
    fn needs_refresh(&self, cfg: &EdgeConfig) -> bool {
        match &*self.held.borrow() {
            None => true,
            // Half the window here plus half in the isolate keeps the total within it.
            Some(h) => now_ms().saturating_sub(h.checked_at_ms) >= cfg.refresh_ms / 2,
        }
    }
}

async fn refresh(
    cfg: EdgeConfig,
    env: Env,
    storage: Storage,
    held: Rc<RefCell<Option<Held>>>,
) -> worker::Result<()> {
    if held.borrow().is_none() {
        if let Ok(Some(stored)) = storage.get::<Held>("snapshot").await {
            *held.borrow_mut() = Some(stored);
        }
    }
    // Re-check: another refresh may have finished while this one waited its turn.
    if let Some(h) = &*held.borrow() {
        if now_ms().saturating_sub(h.checked_at_ms) < cfg.refresh_ms / 2 {
            return Ok(());
        }
    }
    let have = held.borrow().as_ref().map(|h| h.version);
    match fetch_snapshot(&cfg, have).await {
        Ok(SnapshotAnswer::Unchanged) => {
            if let Some(h) = held.borrow_mut().as_mut() {
                h.checked_at_ms = now_ms();
            }
        }
        Ok(SnapshotAnswer::Changed(json, version)) => {
            let fresh = Held {
                json,
                version,
                checked_at_ms: now_ms(),
            };
            if let Err(e) = storage.put("snapshot", &fresh).await {
                worker::console_error!("coordinator: could not store the snapshot: {e}");
            }
            if let Ok(kv) = env.kv(crate::snapshot_store::KV_BINDING) {
                if let Ok(put) = kv.put(KV_SNAPSHOT_KEY, fresh.json.as_str()) {
                    if let Err(e) = put.execute().await {
                        worker::console_error!(
                            "coordinator: could not mirror the snapshot to KV: {e}"
                        );
                    }
                }
            }
            *held.borrow_mut() = Some(fresh);
        }
        // Origin down: keep serving the last snapshot and try again after half a window,
        // so an outage does not turn every isolate request into an origin attempt.
        Err(e) => {
            worker::console_warn!("coordinator: keeping snapshot v{have:?}: {e}");
            if let Some(h) = held.borrow_mut().as_mut() {
                h.checked_at_ms = now_ms();
            }
        }
    }
    Ok(())
}
