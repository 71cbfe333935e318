//! tollgate-edge: the Cloudflare Worker that runs tollgate's request pipeline.
//!
//! Only the `#[event]` entry point and wiring live here; each binding has its own module
//! and every decision comes from `tollgate-core`. Pure parts (the isolate caches) are
//! compiled natively too so they are unit-tested without workerd.

pub mod entitlements;
pub mod isolate_cache;

#[cfg(target_arch = "wasm32")]
mod background;
#[cfg(target_arch = "wasm32")]
mod cache_entry;
#[cfg(target_arch = "wasm32")]
mod cache_layer;
#[cfg(target_arch = "wasm32")]
mod cache_store;
#[cfg(target_arch = "wasm32")]
mod config;
#[cfg(target_arch = "wasm32")]
mod coordinator;
#[cfg(target_arch = "wasm32")]
mod guard;
#[cfg(target_arch = "wasm32")]
mod identity_jwt;
#[cfg(target_arch = "wasm32")]
mod jwks_store;
#[cfg(target_arch = "wasm32")]
mod jwt_auth;
#[cfg(target_arch = "wasm32")]
mod key_store;
#[cfg(target_arch = "wasm32")]
mod limit_answers;
#[cfg(target_arch = "wasm32")]
mod limiter;
#[cfg(target_arch = "wasm32")]
mod limiter_client;
#[cfg(target_arch = "wasm32")]
mod limits;
#[cfg(target_arch = "wasm32")]
mod metrics;
#[cfg(target_arch = "wasm32")]
mod mtls_auth;
#[cfg(target_arch = "wasm32")]
mod origin_client;
#[cfg(target_arch = "wasm32")]
mod pipeline;
#[cfg(target_arch = "wasm32")]
mod policies;
#[cfg(target_arch = "wasm32")]
mod problem_response;
#[cfg(target_arch = "wasm32")]
mod proxy;
#[cfg(target_arch = "wasm32")]
mod shedding;
#[cfg(target_arch = "wasm32")]
mod snapshot_store;
#[cfg(target_arch = "wasm32")]
mod usage_meter;
#[cfg(target_arch = "wasm32")]
mod usage_queue;
#[cfg(target_arch = "wasm32")]
mod validation_gate;

#[cfg(target_arch = "wasm32")]
pub use coordinator::ConfigCoordinator;
#[cfg(target_arch = "wasm32")]
pub use limiter::RateLimiter;

#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(
    req: worker::Request,
    env: worker::Env,
    ctx: worker::Context,
) -> worker::Result<worker::Response> {
    // The context is reachable while the pipeline runs, for cache writes after the answer
    // and the request's usage event.
    let bytes_in = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    background::with_context(
        ctx,
        usage_meter::metered(&env, bytes_in, pipeline::handle(req, &env)),
    )
    .await
}

/// The usage queue's consumer: batches of usage events go to the origin.
#[cfg(target_arch = "wasm32")]
#[worker::event(queue)]
async fn consume_usage(
    batch: worker::MessageBatch<serde_json::Value>,
    env: worker::Env,
    _ctx: worker::Context,
) -> worker::Result<()> {
    usage_queue::consume(batch, &env).await;
    Ok(())
}
