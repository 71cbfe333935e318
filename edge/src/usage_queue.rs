//! Delivery of usage events: buffered in the isolate and sent with `send_batch` (≤ 100)
//! to the `USAGE_QUEUE` Queue in `waitUntil`, so answers are never delayed and a flood is
//! a few batches, not one send per request. The queue's consumer posts each batch to the
//! origin (`POST /edge/v1/usage`, signed) and asks for redelivery when that fails; the
//! origin ingests idempotently. Without the queue binding, or when a send fails, the
//! batch goes straight to the origin.

use crate::background::try_in_background;
use crate::config::{now_ms, EdgeConfig};
use crate::origin_client::with_timeout;
use std::cell::{Cell, RefCell};
use tollgate_core::edge_auth::{sign_edge_request, EDGE_SIGNATURE_HEADER};
use tollgate_core::usage::UsageEvent;
use worker::{Delay, Env, Fetch, Headers, MessageBatch, Method, Request, RequestInit};

/// The Queue binding.
pub const QUEUE_BINDING: &str = "USAGE_QUEUE";
/// Most messages per `send_batch` (the Queues limit).
const MAX_SEND_BATCH: usize = 100;
/// Events waiting in one isolate at most; beyond it new events are dropped (and logged).
const MAX_BUFFERED: usize = 10_000;
/// How long the first event waits for others before the buffer is sent.
const FLUSH_DELAY_MS: u64 = 50;
/// The origin's time to answer one batch.
const INGEST_TIMEOUT_MS: u64 = 10_000;
const INGEST_PATH: &str = "/edge/v1/usage";

thread_local! {
    static BUFFER: RefCell<Vec<UsageEvent>> = const { RefCell::new(Vec::new()) };
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
}

/// Buffers an event and makes sure a flush is scheduled.
pub fn enqueue(env: &Env, event: UsageEvent) {
    let full = BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() >= MAX_BUFFERED {
            return true;
        }
        b.push(event);
        false
    });
    if full {
        worker::console_error!("edge: usage buffer full; an event was dropped");
    }
    if !SCHEDULED.with(|s| s.replace(true)) {
        let env = env.clone();
        if !try_in_background(async move { flush_soon(env).await }) {
            SCHEDULED.with(|s| s.set(false));
        }
    }
}

async fn flush_soon(env: Env) {
    Delay::from(std::time::Duration::from_millis(FLUSH_DELAY_MS)).await;
    SCHEDULED.with(|s| s.set(false));
    let events = BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()));
    let Ok(cfg) = EdgeConfig::from_env(&env) else {
        worker::console_error!("edge: not configured; {} usage events lost", events.len());
        return;
    };
    for chunk in events.chunks(MAX_SEND_BATCH) {
        deliver(&env, &cfg, chunk).await;
    }
}

async fn deliver(env: &Env, cfg: &EdgeConfig, events: &[UsageEvent]) {
    if let Ok(queue) = env.queue(QUEUE_BINDING) {
        // Each message is the event's JSON text: sent as an object, serde-wasm-bindgen turns
        // maps (the custom `meters`) into JS `Map`s, which the queue delivers back empty.
        let messages: Vec<String> = events
            .iter()
            .filter_map(|e| serde_json::to_string(e).ok())
            .collect();
        match queue.send_batch(messages).await {
            Ok(()) => return,
            Err(e) => {
                worker::console_warn!("edge: usage queue send failed ({e}); posting to the origin")
            }
        }
    }
    let body = serde_json::to_string(events).unwrap_or_else(|_| "[]".into());
    if let Err(e) = post_to_origin(cfg, body).await {
        worker::console_error!("edge: {} usage events lost: {e}", events.len());
    }
}

/// Posts a JSON array of events to the origin; `Err` when it did not take them.
pub async fn post_to_origin(cfg: &EdgeConfig, body: String) -> Result<(), String> {
    let headers = Headers::new();
    let sig = sign_edge_request(
        cfg.edge_secret.as_bytes(),
        now_ms() / 1_000,
        "POST",
        INGEST_PATH,
    );
    headers
        .set(EDGE_SIGNATURE_HEADER, &sig)
        .map_err(|e| e.to_string())?;
    headers
        .set("content-type", "application/json")
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let req = Request::new_with_init(&format!("{}{INGEST_PATH}", cfg.origin_url), &init)
        .map_err(|e| e.to_string())?;
    match with_timeout(INGEST_TIMEOUT_MS, Fetch::Request(req).send()).await {
        Some(Ok(resp)) if resp.status_code() == 200 => Ok(()),
        Some(Ok(resp)) => Err(format!("origin answered {}", resp.status_code())),
        Some(Err(e)) => Err(format!("origin unreachable: {e}")),
        None => Err("origin timed out".into()),
    }
}

/// A message's event: JSON text (what [`deliver`] sends) or, from older edges, an object.
fn event_json(body: serde_json::Value) -> serde_json::Value {
    match body {
        serde_json::Value::String(text) => {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        }
        other => other,
    }
}

/// The queue consumer: posts the batch to the origin, or has it redelivered. Never
/// returns an error (that would abort the isolate; see docs/edge-toolchain notes).
pub async fn consume(batch: MessageBatch<serde_json::Value>, env: &Env) {
    let Ok(cfg) = EdgeConfig::from_env(env) else {
        batch.retry_all();
        return;
    };
    let events: Vec<serde_json::Value> = match batch.messages() {
        Ok(m) => m.into_iter().map(|m| event_json(m.into_body())).collect(),
        Err(e) => {
            worker::console_error!("edge: unreadable usage batch: {e}");
            batch.retry_all();
            return;
        }
    };
    let body = serde_json::to_string(&events).unwrap_or_else(|_| "[]".into());
    match post_to_origin(&cfg, body).await {
        Ok(()) => batch.ack_all(),
        Err(e) => {
            worker::console_warn!("edge: usage batch not ingested ({e}); will be redelivered");
            batch.retry_all();
        }
    }
}
