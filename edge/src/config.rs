//! The worker's settings, read from its vars and secrets (wrangler.toml `[vars]`, miniflare
//! `bindings`), with defaults that match docs/EDGE_API.md.

use worker::Env;

/// Settings of one worker deployment.
#[derive(Clone)]
pub struct EdgeConfig {
    /// Base URL of the origin, e.g. `http://127.0.0.1:8080`.
    pub origin_url: String,
    /// Shared secret for signing edge → origin calls.
    pub edge_secret: String,
    /// Revocations and config changes take effect within this window.
    pub refresh_ms: u64,
    /// How long the edge waits for an upstream answer's headers.
    pub upstream_timeout_ms: u64,
    /// How long the edge waits for the origin.
    pub origin_timeout_ms: u64,
    /// How many `ConfigCoordinator` replicas share the isolates' snapshot polls.
    pub coordinator_shards: u64,
    /// Largest request body accepted (by Content-Length), in bytes.
    pub max_body_bytes: u64,
    /// How long the edge waits for a `RateLimiter` object before its fail mode applies.
    pub limiter_timeout_ms: u64,
    /// Bearer token of `/.tollgate/metrics` (no endpoint when unset).
    pub metrics_token: Option<String>,
    /// Ed25519 key (JWK or base64 seed) signing identity JWTs (`IDENTITY_SIGNING_KEY`).
    pub identity_signing_key: Option<String>,
}

fn text(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|s| s.to_string()))
        .ok()
        .filter(|s| !s.is_empty())
}

fn number(env: &Env, name: &str, default: u64) -> u64 {
    text(env, name)
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

impl EdgeConfig {
    /// Reads the settings; `None` names the first missing required one.
    pub fn from_env(env: &Env) -> Result<EdgeConfig, &'static str> {
        Ok(EdgeConfig {
            origin_url: text(env, "ORIGIN_URL")
                .ok_or("ORIGIN_URL")?
                .trim_end_matches('/')
                .to_owned(),
            edge_secret: text(env, "EDGE_SECRET").ok_or("EDGE_SECRET")?,
            refresh_ms: number(env, "REFRESH_SECS", 10).max(1) * 1_000,
            upstream_timeout_ms: number(env, "UPSTREAM_TIMEOUT_SECS", 30).max(1) * 1_000,
            origin_timeout_ms: number(env, "ORIGIN_TIMEOUT_MS", 3_000).max(100),
            coordinator_shards: number(env, "COORDINATOR_SHARDS", 4).clamp(1, 64),
            max_body_bytes: number(env, "MAX_BODY_BYTES", 10 * 1024 * 1024),
            limiter_timeout_ms: number(env, "LIMITER_TIMEOUT_MS", 1_000).max(10),
            metrics_token: text(env, "METRICS_TOKEN"),
            identity_signing_key: text(env, "IDENTITY_SIGNING_KEY"),
        })
    }
}

/// Unix milliseconds from the runtime's clock.
pub fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}
