//! Folding: moves recorded events from `usage_pending` into the minute/hour/day aggregates.
//! Ingestion only appends (one ledger row and one pending row per new event), so its cost
//! does not grow with how many aggregate rows a batch touches; the fold rolls up thousands
//! of events at once, so a key's hour row is written once per fold instead of once per
//! batch. The delete of the pending rows and the upserts commit together: each event is
//! folded exactly once, whatever crashes. Readers call [`catch_up`] first, so a total is
//! never behind the ledger. Quota alerts are checked after each fold, from the aggregates
//! it just made current.

use super::ledger::Ledger;
use super::store::add_to_aggregates;
use crate::db::is_sqlite_pool;
use sqlx::{Any, Transaction};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tollgate_core::usage::alerts::{key_spans, KeySpan};
use tollgate_core::usage::{rollup_samples, Sample};

/// Most pending rows one fold transaction takes.
const FOLD_ROWS: i64 = 20_000;
/// How long the background folder waits for more events before folding what it has. Longer
/// pauses fold more events per pass (a key's minute row is written once per pass), and
/// cost nothing in accuracy: every reader folds what is pending first. Quota alerts come
/// at most this much later.
const FOLD_PAUSE: Duration = Duration::from_millis(1000);

type PendingRow = (
    i64,
    String,
    String,
    String,
    String,
    i32,
    i64,
    i64,
    i64,
    String,
);

fn sample(row: PendingRow) -> Sample {
    let (time_ms, api_id, consumer_id, key_id, plan_id, status, bytes_in, bytes_out, latency, m) =
        row;
    let meters: BTreeMap<String, u64> = if m.is_empty() {
        BTreeMap::new()
    } else {
        // Copied from the ledger row of a validated event; unreadable would be a bug, and
        // dropping its meters beats refusing to fold its requests.
        serde_json::from_str(&m).unwrap_or_default()
    };
    let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
    Sample {
        time_ms,
        api_id,
        consumer_id,
        key_id,
        plan_id,
        status: u16::try_from(status).unwrap_or(0),
        bytes_in: unsigned(bytes_in),
        bytes_out: unsigned(bytes_out),
        latency_ms: unsigned(latency),
        meters,
    }
}

/// A bounded DELETE … RETURNING by ctid. FOR UPDATE without SKIP LOCKED: a fold waits
/// for another origin's fold of the same rows to commit (then finds them gone), so after a
/// fold nothing older is in flight.
const TAKE_SQL: &str = "DELETE FROM usage_pending WHERE ctid IN (SELECT ctid FROM usage_pending \
     LIMIT $1 FOR UPDATE) RETURNING time_ms, api_id, consumer_id, key_id, plan_id, \
     status, bytes_in, bytes_out, latency_ms, meters";

/// PostgreSQL's fold: takes a chunk of pending rows out and sums them in Rust.
async fn fold_chunk_in_rust(
    tx: &mut Transaction<'_, Any>,
) -> Result<(usize, Vec<KeySpan>), sqlx::Error> {
    let rows: Vec<PendingRow> = sqlx::query_as(TAKE_SQL)
        .bind(FOLD_ROWS)
        .fetch_all(&mut **tx)
        .await?;
    let samples: Vec<Sample> = rows.into_iter().map(sample).collect();
    let totals: Vec<_> = rollup_samples(&samples).into_iter().collect();
    add_to_aggregates(tx, &totals).await?;
    Ok((samples.len(), key_spans(&samples)))
}

/// Folds one bounded chunk of pending events, then checks the quotas of the keys in it;
/// how many it folded.
async fn fold_once(ledger: &Ledger) -> Result<usize, sqlx::Error> {
    let mut conn = ledger.connection().await?;
    let mut tx = conn.begin().await?;
    let (n, spans) = if is_sqlite_pool(ledger.db()) {
        super::fold_sqlite::fold_chunk(&mut tx, FOLD_ROWS).await?
    } else {
        fold_chunk_in_rust(&mut tx).await?
    };
    if n == 0 {
        tx.rollback().await?;
        return Ok(0);
    }
    tx.commit().await?;
    drop(conn);
    super::alerts::check_quotas(ledger.db(), &spans).await;
    Ok(n)
}

/// Folds everything pending now; how many events it folded. One fold at a time per
/// ledger (its `folding` turn), so [`catch_up`] is a barrier: it returns only after a fold
/// that had already taken events out of `usage_pending` has committed and checked their
/// alerts.
pub async fn fold_all(ledger: &Ledger) -> Result<usize, sqlx::Error> {
    let _turn = ledger.folding.lock().await;
    fold_pending(ledger).await
}

/// [`fold_all`] for a caller that holds the folding turn.
async fn fold_pending(ledger: &Ledger) -> Result<usize, sqlx::Error> {
    let mut total = 0;
    loop {
        let n = fold_once(ledger).await?;
        total += n;
        if n < usize::try_from(FOLD_ROWS).unwrap_or(usize::MAX) {
            return Ok(total);
        }
    }
}

/// Makes the aggregates (and the quota alerts) current before a read: waits for a fold
/// in progress in this process to finish, alert check included, then folds what is still
/// pending, if anything (a plain read when nothing is, so readers do not queue behind
/// writers).
pub async fn catch_up(ledger: &Ledger) -> Result<(), sqlx::Error> {
    let _turn = ledger.folding.lock().await;
    let pending: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM usage_pending LIMIT 1")
        .fetch_optional(ledger.db())
        .await?;
    if pending.is_some() {
        fold_pending(ledger).await?;
    }
    Ok(())
}

/// Runs the background folder: after each wake-up (and at least every few seconds), waits a
/// moment for more events, then folds everything pending.
pub fn spawn(ledger: Arc<Ledger>) {
    tokio::spawn(async move {
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(5), ledger.wake.notified()).await;
            tokio::time::sleep(FOLD_PAUSE).await;
            if let Err(e) = fold_all(&ledger).await {
                tracing::warn!(error = %e, "folding usage events into the aggregates failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
}
