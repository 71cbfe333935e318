//! `POST /edge/v1/usage`: a JSON array of usage events from the edge (its queue consumer or
//! its fallback). Each event is checked on its own: a malformed, oversized or too-late one
//! is listed with its reason and the rest of the batch is still recorded. Ingestion is
//! idempotent on the event id, so redelivered batches never count twice. New events are
//! queued in `usage_pending` in the same transaction (see `ledger` for how) and folded into
//! the aggregates shortly after (see `fold`). A batch is answered once it is committed.

use super::store::NewEvent;
use crate::clock::now_ms;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::routes::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tollgate_core::usage::rollup::{admit_time, GRACE_MS};
use tollgate_core::usage::{validate, UsageEvent};
use utoipa::ToSchema;

/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 1_000;
/// Largest batch body.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Largest single event.
pub const MAX_EVENT_BYTES: usize = 16 * 1024;

/// One refused event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RejectedEvent {
    /// Position in the batch (from 0).
    pub index: usize,
    /// The event's id when it could be read.
    pub id: Option<String>,
    pub reason: String,
}

/// What became of a batch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IngestResult {
    /// Events recorded for the first time.
    pub accepted: usize,
    /// Events already recorded (redeliveries), not counted again.
    pub duplicates: usize,
    pub rejected: Vec<RejectedEvent>,
}

fn reject(index: usize, id: Option<String>, reason: impl Into<String>) -> RejectedEvent {
    RejectedEvent {
        index,
        id,
        reason: reason.into(),
    }
}

/// Reads and checks every event; the valid ones (with their text as sent), and the
/// refusals with reasons.
fn check_batch(raw: Vec<Box<RawValue>>, now: i64) -> (Vec<NewEvent>, Vec<RejectedEvent>) {
    let mut valid = Vec::with_capacity(raw.len());
    let mut rejected = Vec::new();
    for (index, item) in raw.into_iter().enumerate() {
        let text = item.get();
        if text.len() > MAX_EVENT_BYTES {
            rejected.push(reject(
                index,
                None,
                format!(
                    "the event is {} bytes; the limit is {MAX_EVENT_BYTES}",
                    text.len()
                ),
            ));
            continue;
        }
        let event: UsageEvent = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => {
                let id = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned));
                rejected.push(reject(index, id, format!("not a usage event: {e}")));
                continue;
            }
        };
        let id = Some(event.id.clone());
        match validate(event).and_then(|v| admit_time(v.time_ms, now, GRACE_MS).map(|()| v)) {
            Ok(v) => valid.push(NewEvent {
                valid: v,
                body: item.into(),
            }),
            Err(reason) => rejected.push(reject(index, id, reason)),
        }
    }
    (valid, rejected)
}

/// Records a batch of usage events.
#[utoipa::path(
    post,
    path = "/edge/v1/usage",
    tag = "edge",
    request_body(content = Vec<serde_json::Value>, description = "Usage events (CloudEvents 1.0, type `dev.tollgate.request`), at most 1,000 and 4 MiB"),
    security(("edge_signature" = [])),
    responses(
        (status = 200, description = "Per-event results", body = IngestResult),
        (status = 400, description = "The body is not a JSON array", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid edge signature", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Too many events or bytes", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn ingest_usage(
    State(state): State<AppState>,
    body: Body,
) -> Result<Json<IngestResult>, AppError> {
    let bytes = axum::body::to_bytes(body, MAX_BATCH_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge {
            limit: MAX_BATCH_BYTES,
        })?;
    let raw: Vec<Box<RawValue>> = serde_json::from_slice(&bytes).map_err(|e| {
        AppError::Malformed(format!(
            "the body must be a JSON array of usage events: {e}"
        ))
    })?;
    if raw.len() > MAX_BATCH_EVENTS {
        return Err(AppError::Malformed(format!(
            "the batch has {} events; send at most {MAX_BATCH_EVENTS} per request",
            raw.len()
        )));
    }
    let now = now_ms();
    let (valid, rejected) = check_batch(raw, now);
    let received = valid.len();
    let accepted = state.ledger.record(valid).await?;
    Ok(Json(IngestResult {
        accepted,
        duplicates: received - accepted,
        rejected,
    }))
}
