//! Folding: moves recorded events from `usage_pending` into the minute/hour/day aggregates.
//! Ingestion only appends (one ledger row and one pending row per new event), so its cost
//! does not grow with how many aggregate rows a batch touches; the fold rolls up thousands
//! of events at once, so a key's hour row is written once per fold instead of once per
//! batch. The delete of the pending rows and the upserts commit together: each event is
//! folded exactly once, whatever crashes. Readers call [`catch_up`] first, so a total is
//! never behind the ledger. Quota alerts are checked after each fold, from the aggregates
//! it just made current.

use super::store::add_to_aggregates;
use crate::db::{self, Db};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::Notify;
use tollgate_core::usage::{rollup_samples, Sample};

/// Most pending rows one fold transaction takes.
const FOLD_ROWS: i64 = 20_000;
/// How long the background folder waits for more events before folding what it has.
const FOLD_PAUSE: Duration = Duration::from_millis(100);

static WAKE: Notify = Notify::const_new();

/// One fold at a time in this process, so [`catch_up`] is a barrier: it returns only after
/// a fold that had already taken events out of `usage_pending` has committed and checked
/// their alerts.
static FOLDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Tells the background folder that events are pending.
pub fn wake() {
    WAKE.notify_one();
}

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
        // Written by `insert_pending` from a validated event; unreadable would be a bug, and
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

fn take_sql(db: &Db) -> &'static str {
    // A bounded DELETE … RETURNING: SQLite addresses rows by rowid, PostgreSQL by ctid.
    // FOR UPDATE without SKIP LOCKED: a fold waits for another origin's fold of the same
    // rows to commit (then finds them gone), so after a fold nothing older is in flight.
    if db.connect_options().database_url.scheme() == "sqlite" {
        "DELETE FROM usage_pending WHERE rowid IN (SELECT rowid FROM usage_pending LIMIT $1) \
         RETURNING time_ms, api_id, consumer_id, key_id, plan_id, status, bytes_in, bytes_out, \
         latency_ms, meters"
    } else {
        "DELETE FROM usage_pending WHERE ctid IN (SELECT ctid FROM usage_pending LIMIT $1 \
         FOR UPDATE) RETURNING time_ms, api_id, consumer_id, key_id, plan_id, \
         status, bytes_in, bytes_out, latency_ms, meters"
    }
}

/// Folds one bounded chunk of pending events; how many it folded.
async fn fold_once(db: &Db) -> Result<usize, sqlx::Error> {
    let mut tx = db::begin(db).await?;
    let rows: Vec<PendingRow> = sqlx::query_as(take_sql(db))
        .bind(FOLD_ROWS)
        .fetch_all(&mut *tx)
        .await?;
    if rows.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let n = rows.len();
    let samples: Vec<Sample> = rows.into_iter().map(sample).collect();
    let totals: Vec<_> = rollup_samples(&samples).into_iter().collect();
    add_to_aggregates(&mut tx, &totals).await?;
    tx.commit().await?;
    super::alerts::check_quotas(db, &samples).await;
    Ok(n)
}

/// Folds everything pending now; how many events it folded.
pub async fn fold_all(db: &Db) -> Result<usize, sqlx::Error> {
    let _turn = FOLDING.lock().await;
    fold_pending(db).await
}

/// [`fold_all`] for a caller that holds [`FOLDING`].
async fn fold_pending(db: &Db) -> Result<usize, sqlx::Error> {
    let mut total = 0;
    loop {
        let n = fold_once(db).await?;
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
pub async fn catch_up(db: &Db) -> Result<(), sqlx::Error> {
    let _turn = FOLDING.lock().await;
    let pending: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM usage_pending LIMIT 1")
        .fetch_optional(db)
        .await?;
    if pending.is_some() {
        fold_pending(db).await?;
    }
    Ok(())
}

/// Runs the background folder: after each wake-up (and at least every few seconds), waits a
/// moment for more events, then folds everything pending.
pub fn spawn(db: Db) {
    tokio::spawn(async move {
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(5), WAKE.notified()).await;
            tokio::time::sleep(FOLD_PAUSE).await;
            if let Err(e) = fold_all(&db).await {
                tracing::warn!(error = %e, "folding usage events into the aggregates failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
}
