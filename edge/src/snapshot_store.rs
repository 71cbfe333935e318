//! The isolate's view of the config snapshot: held in memory, refreshed from one of
//! the `ConfigCoordinator` replicas at most once per half refresh window, falling back to the KV mirror
//! when the coordinator cannot answer and nothing is held yet.

use crate::config::{now_ms, EdgeConfig};
use crate::coordinator::KV_SNAPSHOT_KEY;
use crate::isolate_cache::RoutedSnapshot;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tollgate_core::ConfigSnapshot;
use worker::Env;

/// KV namespace binding (snapshot mirror and key cache).
pub const KV_BINDING: &str = "TOLLGATE_KV";
/// Durable Object binding of the coordinator.
pub const COORDINATOR_BINDING: &str = "CONFIG_COORDINATOR";

thread_local! {
    static CURRENT: RefCell<Option<Rc<RoutedSnapshot>>> = const { RefCell::new(None) };
    /// Which coordinator replica this isolate asks, picked once per isolate so the load
    /// of many isolates spreads over `COORDINATOR_SHARDS` objects.
    static SHARD: Cell<Option<u64>> = const { Cell::new(None) };
}

fn coordinator_name(shards: u64) -> String {
    let shard = SHARD.with(|s| match s.get() {
        Some(n) => n,
        None => {
            let n = now_ms() % shards.max(1);
            s.set(Some(n));
            n
        }
    });
    format!("config-{shard}")
}

/// The snapshot to route by, or `None` when this edge has never had one.
pub async fn current_snapshot(env: &Env, cfg: &EdgeConfig) -> Option<Rc<RoutedSnapshot>> {
    let now = now_ms();
    let held = CURRENT.with(|c| c.borrow().clone());
    if let Some(s) = &held {
        if now.saturating_sub(s.checked_at_ms.get()) < cfg.refresh_ms / 2 {
            return held;
        }
    }
    match ask_coordinator(
        env,
        &coordinator_name(cfg.coordinator_shards),
        held.as_ref().map(|s| s.version),
    )
    .await
    {
        Ok(Some(snapshot)) => Some(install(snapshot, now)),
        Ok(None) => {
            if let Some(s) = &held {
                s.checked_at_ms.set(now);
            }
            held
        }
        Err(e) => {
            worker::console_warn!("edge: coordinator unavailable: {e}");
            match held {
                Some(s) => {
                    // Retry after half a window rather than on every request.
                    s.checked_at_ms.set(now);
                    Some(s)
                }
                None => read_kv_mirror(env)
                    .await
                    .map(|snapshot| install(snapshot, now)),
            }
        }
    }
}

fn install(snapshot: ConfigSnapshot, now: u64) -> Rc<RoutedSnapshot> {
    let routed = Rc::new(RoutedSnapshot::new(snapshot, now));
    CURRENT.with(|c| *c.borrow_mut() = Some(routed.clone()));
    routed
}

/// `Ok(None)` means the version we hold is current.
async fn ask_coordinator(
    env: &Env,
    name: &str,
    have: Option<u64>,
) -> Result<Option<ConfigSnapshot>, String> {
    let stub = env
        .durable_object(COORDINATOR_BINDING)
        .and_then(|ns| ns.get_by_name(name))
        .map_err(|e| e.to_string())?;
    let url = match have {
        Some(v) => format!("https://coordinator/snapshot?have={v}"),
        None => "https://coordinator/snapshot".to_owned(),
    };
    let mut resp = stub.fetch_with_str(&url).await.map_err(|e| e.to_string())?;
    match resp.status_code() {
        304 => Ok(None),
        200 => {
            let body = resp.text().await.map_err(|e| e.to_string())?;
            serde_json::from_str(&body)
                .map(Some)
                .map_err(|e| e.to_string())
        }
        s => Err(format!("coordinator answered {s}")),
    }
}

async fn read_kv_mirror(env: &Env) -> Option<ConfigSnapshot> {
    let kv = env.kv(KV_BINDING).ok()?;
    kv.get(KV_SNAPSHOT_KEY)
        .json::<ConfigSnapshot>()
        .await
        .ok()
        .flatten()
}
