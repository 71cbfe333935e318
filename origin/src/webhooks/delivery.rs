//! The delivery task: every half second it gives each due endpoint the audit events after
//! its cursor, in order, one POST per event, signed (Standard Webhooks headers). A 2xx moves
//! the cursor on; anything else stops that endpoint's batch and schedules a retry with
//! back-off, so events are delivered in order and at least once (`webhook-id` is stable
//! across retries, for receivers to drop duplicates). Endpoints do not wait for each other.

use super::{current_secret, previous_secret};
use crate::clock::{format_rfc3339, now_ms};
use crate::routes::AppState;
use crate::vault::open_secret;
use std::time::Duration;
use tollgate_core::webhook::{retry_delay_ms, signature_header, wants};

/// How often due endpoints are looked for.
pub const POLL: Duration = Duration::from_millis(500);
/// How long one delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Most events one endpoint is given per poll.
const BATCH: i64 = 50;

#[derive(sqlx::FromRow)]
struct Due {
    id: String,
    org_id: Option<String>,
    url: String,
    events_json: String,
    cursor_seq: i64,
    attempts: i64,
    previous_secret_until: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Event {
    seq: i64,
    at_ms: i64,
    actor: String,
    action: String,
    target_type: String,
    target_id: String,
    before_json: Option<String>,
    after_json: Option<String>,
}

/// What became of one endpoint's batch.
struct Outcome {
    cursor: i64,
    delivered: i64,
    failure: Option<(Option<i64>, String)>,
    last_status: Option<i64>,
}

/// Starts the delivery task; it runs until the runtime stops.
pub fn spawn(state: AppState) {
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("tollgate-webhooks")
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook delivery cannot start");
            return;
        }
    };
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due(&state, &client).await {
                tracing::warn!(error = %e, "webhook delivery round failed; retrying");
            }
            tokio::time::sleep(POLL).await;
        }
    });
}

async fn deliver_due(state: &AppState, client: &reqwest::Client) -> Result<(), sqlx::Error> {
    let due: Vec<Due> = sqlx::query_as(
        "SELECT id, org_id, url, events_json, cursor_seq, attempts, previous_secret_until \
         FROM webhook_endpoints WHERE next_attempt_at <= $1",
    )
    .bind(now_ms())
    .fetch_all(&state.db)
    .await?;
    let tasks: Vec<_> = due
        .into_iter()
        .map(|endpoint| {
            let (state, client) = (state.clone(), client.clone());
            tokio::spawn(async move {
                if let Err(e) = deliver_endpoint(&state, &client, endpoint).await {
                    tracing::warn!(error = %e, "webhook endpoint round failed");
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

async fn deliver_endpoint(
    state: &AppState,
    client: &reqwest::Client,
    endpoint: Due,
) -> Result<(), sqlx::Error> {
    let org_filter = if endpoint.org_id.is_some() {
        " AND org_id = $3"
    } else {
        ""
    };
    let sql = format!(
        "SELECT seq, at_ms, actor, action, target_type, target_id, before_json, after_json \
         FROM audit_log WHERE seq >= $1{org_filter} ORDER BY seq LIMIT $2"
    );
    let mut query = sqlx::query_as(&sql).bind(endpoint.cursor_seq).bind(BATCH);
    if let Some(org) = &endpoint.org_id {
        query = query.bind(org.clone());
    }
    let events: Vec<Event> = query.fetch_all(&state.db).await?;
    if events.is_empty() {
        return Ok(());
    }
    let patterns: Vec<String> = serde_json::from_str(&endpoint.events_json).unwrap_or_default();
    let now = now_ms();
    let secrets = signing_secrets(state, &endpoint, now).await?;
    let mut outcome = Outcome {
        cursor: endpoint.cursor_seq,
        delivered: 0,
        failure: None,
        last_status: None,
    };
    for event in events {
        if wants(&patterns, &event.action) {
            let sent = match &secrets {
                Ok(secrets) => send(client, &endpoint.url, secrets, &event).await,
                Err(reason) => Err((None, reason.clone())),
            };
            match sent {
                Ok(status) => {
                    outcome.delivered += 1;
                    outcome.last_status = Some(status);
                }
                Err(failure) => {
                    outcome.failure = Some(failure);
                    break;
                }
            }
        }
        outcome.cursor = event.seq + 1;
    }
    record(state, &endpoint, outcome).await
}

/// The secrets to sign with, newest first, or why there are none.
async fn signing_secrets(
    state: &AppState,
    endpoint: &Due,
    now: i64,
) -> Result<Result<Vec<Vec<u8>>, String>, sqlx::Error> {
    let mut names = vec![current_secret(&endpoint.id)];
    if endpoint
        .previous_secret_until
        .is_some_and(|until| until > now)
    {
        names.push(previous_secret(&endpoint.id));
    }
    let mut secrets = Vec::new();
    for name in names {
        match open_secret(&state.db, &state.master_keys, &name).await? {
            Some(Ok(secret)) => secrets.push(secret),
            Some(Err(_)) => {
                return Ok(Err("the signing secret cannot be opened with the configured master keys; check TOLLGATE_MASTER_KEY(_PREVIOUS)".into()))
            }
            None => {}
        }
    }
    Ok(if secrets.is_empty() {
        Err("the endpoint has no signing secret; rotate it".into())
    } else {
        Ok(secrets)
    })
}

/// POSTs one event; the status on a 2xx, else the status (if any) and a reason.
async fn send(
    client: &reqwest::Client,
    url: &str,
    secrets: &[Vec<u8>],
    event: &Event,
) -> Result<i64, (Option<i64>, String)> {
    let parse = |json: &Option<String>| {
        json.as_deref()
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
    };
    let body = serde_json::json!({
        "type": event.action,
        "timestamp": format_rfc3339(event.at_ms),
        "data": {
            "seq": event.seq,
            "actor": event.actor,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "before": parse(&event.before_json),
            "after": parse(&event.after_json),
        },
    })
    .to_string();
    let msg_id = format!("evt_{}", event.seq);
    let timestamp = now_ms() / 1000;
    let keys: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    let signature = signature_header(&keys, &msg_id, timestamp, body.as_bytes());
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| (None, describe(&e)))?;
    let status = i64::from(response.status().as_u16());
    if response.status().is_success() {
        Ok(status)
    } else {
        Err((
            Some(status),
            format!("the endpoint answered {status}; events wait until it answers 2xx"),
        ))
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if e.is_connect() {
        "the endpoint refused or could not be reached".into()
    } else {
        "the request failed before an answer".into()
    }
}

async fn record(state: &AppState, endpoint: &Due, outcome: Outcome) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let (attempts, next_at, last_error, last_status) = match &outcome.failure {
        Some((status, reason)) => {
            let attempts = endpoint.attempts + 1;
            let delay = retry_delay_ms(u32::try_from(attempts).unwrap_or(u32::MAX));
            (
                attempts,
                now + delay,
                Some(reason.clone()),
                status.or(outcome.last_status),
            )
        }
        None => (0, 0, None, outcome.last_status),
    };
    sqlx::query(
        "UPDATE webhook_endpoints SET cursor_seq = $1, attempts = $2, next_attempt_at = $3, \
         last_error = $4, \
         last_status = COALESCE($5, last_status), delivered = delivered + $6, \
         last_delivered_at = CASE WHEN $6 > 0 THEN $7 ELSE last_delivered_at END WHERE id = $8",
    )
    .bind(outcome.cursor)
    .bind(attempts)
    .bind(next_at)
    .bind(last_error)
    .bind(last_status)
    .bind(outcome.delivered)
    .bind(now)
    .bind(&endpoint.id)
    .execute(&state.db)
    .await?;
    Ok(())
}
