//! Writes of the usage ledger: the ledger rows of one accepted batch (`INSERT … ON CONFLICT
//! (id) DO NOTHING`), the pending rows of the events that were new (copied from their
//! ledger rows inside the database), and the aggregate upserts a fold makes. Multi-row
//! statements keep a batch of 1,000 to a few round trips.

use sqlx::{Any, Row, Transaction};
use std::collections::HashSet;
use tollgate_core::usage::rollup::{RollupKey, Totals};
use tollgate_core::usage::{billable, ValidEvent};

/// An accepted event: validated, with its JSON text exactly as the edge sent it (kept as
/// the ledger row's `body`).
pub struct NewEvent {
    pub valid: ValidEvent,
    pub body: Box<str>,
}

impl NewEvent {
    pub fn id(&self) -> &str {
        &self.valid.event.id
    }
}

/// How one backend wants a multi-row statement's parameters written.
#[derive(Clone, Copy)]
struct Binds {
    /// Anonymous `?` (SQLite) rather than numbered `$N` (PostgreSQL).
    anonymous: bool,
}

impl Binds {
    fn of(tx: &Transaction<'_, Any>) -> Binds {
        Binds {
            anonymous: tx.backend_name() == "SQLite",
        }
    }

    /// Rows per multi-row statement. sqlx's SQLite driver asks SQLite for every numbered
    /// parameter's name, which SQLite finds by a linear scan, so a statement with `$N`
    /// parameters costs the square of their count (measured: a fifth of the ingest time at
    /// 25 rows); anonymous `?` parameters have no names to scan and allow long statements.
    fn rows_per_statement(self) -> usize {
        if self.anonymous {
            200
        } else {
            25
        }
    }

    fn placeholders(self, rows: usize, cols: usize) -> String {
        (0..rows)
            .map(|r| {
                let cells: Vec<String> = (1..=cols)
                    .map(|c| {
                        if self.anonymous {
                            "?".to_owned()
                        } else {
                            format!("${}", r * cols + c)
                        }
                    })
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Inserts the events into the ledger; returns the ids that were not there before.
///
/// On SQLite a write transaction holds the database's only write lock, so rowids only grow
/// while it runs: when a statement inserted fewer rows than it carried, the new ones are
/// those past the largest rowid before it. Usually every row is new and nothing is read
/// back, where `RETURNING id` hands back every new id, each a row through the driver
/// (measured: a third of the insert's time). PostgreSQL transactions insert concurrently,
/// so there `RETURNING` tells which rows were new.
pub async fn insert_events(
    tx: &mut Transaction<'_, Any>,
    events: &[&NewEvent],
    now_ms: i64,
) -> Result<HashSet<String>, sqlx::Error> {
    let binds = Binds::of(tx);
    let mut inserted = HashSet::new();
    for chunk in events.chunks(binds.rows_per_statement()) {
        let sql = format!(
            "INSERT INTO usage_events (id, time_ms, received_at, api_id, consumer_id, key_id, \
             plan_id, status, billable, body, bytes_in, bytes_out, latency_ms, meters) \
             VALUES {} ON CONFLICT (id) DO NOTHING{}",
            binds.placeholders(chunk.len(), 14),
            if binds.anonymous { "" } else { " RETURNING id" }
        );
        let mut q = sqlx::query(&sql);
        for e in chunk {
            let v = &e.valid;
            let d = &v.event.data;
            q = q
                .bind(v.event.id.as_str())
                .bind(v.time_ms)
                .bind(now_ms)
                .bind(d.api_id.as_str())
                .bind(d.consumer_id.as_deref().unwrap_or_default())
                .bind(d.key_id.as_deref().unwrap_or_default())
                .bind(d.plan_id.as_deref().unwrap_or_default())
                .bind(i32::from(d.status))
                .bind(i32::from(billable(d.status)))
                .bind(&*e.body)
                .bind(clamp(d.bytes_in))
                .bind(clamp(d.bytes_out))
                .bind(clamp(d.latency_ms))
                .bind(meters_text(&d.meters));
        }
        if !binds.anonymous {
            for row in q.fetch_all(&mut **tx).await? {
                inserted.insert(row.try_get::<String, _>(0)?);
            }
            continue;
        }
        let (before,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(rowid), 0) FROM usage_events")
            .fetch_one(&mut **tx)
            .await?;
        let added = q.execute(&mut **tx).await?.rows_affected();
        if usize::try_from(added).is_ok_and(|n| n == chunk.len()) {
            inserted.extend(chunk.iter().map(|e| e.id().to_owned()));
        } else {
            let new: Vec<(String,)> =
                sqlx::query_as("SELECT id FROM usage_events WHERE rowid > $1")
                    .bind(before)
                    .fetch_all(&mut **tx)
                    .await?;
            inserted.extend(new.into_iter().map(|(id,)| id));
        }
    }
    Ok(inserted)
}

fn bind_key<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    k: &RollupKey,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    q.bind(k.granularity.as_str())
        .bind(k.bucket_start)
        .bind(k.consumer_id.clone())
        .bind(k.key_id.clone())
        .bind(k.api_id.clone())
        .bind(k.plan_id.clone())
}

/// A row's `meters`: the JSON object of custom meters, "" when there are none.
fn meters_text(meters: &std::collections::BTreeMap<String, u64>) -> String {
    if meters.is_empty() {
        String::new()
    } else {
        serde_json::to_string(meters).unwrap_or_default()
    }
}

/// The largest ledger rowid (SQLite): rows inserted later in the same write transaction
/// are past it.
pub async fn last_ledger_rowid(tx: &mut Transaction<'_, Any>) -> Result<i64, sqlx::Error> {
    let (last,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(rowid), 0) FROM usage_events")
        .fetch_one(&mut **tx)
        .await?;
    Ok(last)
}

/// SQLite: queues the ledger rows past `after` (this transaction's new events) for folding,
/// copying their columns inside SQLite (binding each pending value through the driver
/// again cost a fifth of ingestion).
pub async fn pending_from_ledger(
    tx: &mut Transaction<'_, Any>,
    after: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO usage_pending (time_ms, api_id, consumer_id, key_id, plan_id, status, \
         bytes_in, bytes_out, latency_ms, meters) \
         SELECT time_ms, api_id, consumer_id, key_id, plan_id, status, bytes_in, bytes_out, \
         latency_ms, meters FROM usage_events WHERE rowid > $1 ORDER BY rowid",
    )
    .bind(after)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// PostgreSQL: queues the events with these ids (this transaction's new ledger rows) for
/// folding, copying their ledger columns inside the database: one bound id per event
/// instead of every value again.
pub async fn pending_from_ledger_ids(
    tx: &mut Transaction<'_, Any>,
    ids: &[&str],
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(1_000) {
        let list: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "INSERT INTO usage_pending (time_ms, api_id, consumer_id, key_id, plan_id, status, \
             bytes_in, bytes_out, latency_ms, meters) \
             SELECT time_ms, api_id, consumer_id, key_id, plan_id, status, bytes_in, bytes_out, \
             latency_ms, meters FROM usage_events WHERE id IN ({})",
            list.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The columns of `usage_rollups`, in the order the fold writes them.
pub const ROLLUP_COLUMNS: &str = "granularity, bucket_start, consumer_id, key_id, api_id, \
     plan_id, requests, billable, bytes_in, bytes_out, latency_ms_sum, latency_ms_max, server_errors";

/// Adds a new row of `usage_rollups` into the one already there.
pub const ROLLUP_UPSERT: &str = "ON CONFLICT (granularity, bucket_start, consumer_id, key_id, \
     api_id, plan_id) DO UPDATE SET requests = usage_rollups.requests + excluded.requests, \
     billable = usage_rollups.billable + excluded.billable, \
     bytes_in = usage_rollups.bytes_in + excluded.bytes_in, \
     bytes_out = usage_rollups.bytes_out + excluded.bytes_out, \
     latency_ms_sum = usage_rollups.latency_ms_sum + excluded.latency_ms_sum, \
     latency_ms_max = CASE WHEN excluded.latency_ms_max > usage_rollups.latency_ms_max \
     THEN excluded.latency_ms_max ELSE usage_rollups.latency_ms_max END, \
     server_errors = usage_rollups.server_errors + excluded.server_errors";

/// The columns of `usage_meter_rollups`, in the order the fold writes them.
pub const METER_COLUMNS: &str =
    "granularity, bucket_start, consumer_id, key_id, api_id, plan_id, meter, total, max_value";

/// Adds a new row of `usage_meter_rollups` into the one already there.
pub const METER_UPSERT: &str = "ON CONFLICT (granularity, bucket_start, consumer_id, key_id, \
     api_id, plan_id, meter) DO UPDATE SET total = usage_meter_rollups.total + excluded.total, \
     max_value = CASE WHEN excluded.max_value > usage_meter_rollups.max_value \
     THEN excluded.max_value ELSE usage_meter_rollups.max_value END";

/// Adds folded totals into the aggregates.
pub async fn add_to_aggregates(
    tx: &mut Transaction<'_, Any>,
    totals: &[(RollupKey, Totals)],
) -> Result<(), sqlx::Error> {
    let binds = Binds::of(tx);
    for chunk in totals.chunks(binds.rows_per_statement()) {
        let sql = format!(
            "INSERT INTO usage_rollups ({ROLLUP_COLUMNS}) VALUES {} {ROLLUP_UPSERT}",
            binds.placeholders(chunk.len(), 13)
        );
        let mut q = sqlx::query(&sql);
        for (k, t) in chunk {
            q = bind_key(q, k)
                .bind(t.requests)
                .bind(t.billable)
                .bind(t.bytes_in)
                .bind(t.bytes_out)
                .bind(t.latency_ms_sum)
                .bind(t.latency_ms_max)
                .bind(t.server_errors);
        }
        q.execute(&mut **tx).await?;
    }
    let meters: Vec<(&RollupKey, &String, i64, i64)> = totals
        .iter()
        .flat_map(|(k, t)| t.meters.iter().map(move |(m, (s, x))| (k, m, *s, *x)))
        .collect();
    for chunk in meters.chunks(binds.rows_per_statement()) {
        let sql = format!(
            "INSERT INTO usage_meter_rollups ({METER_COLUMNS}) VALUES {} {METER_UPSERT}",
            binds.placeholders(chunk.len(), 9)
        );
        let mut q = sqlx::query(&sql);
        for (k, m, sum, max) in chunk {
            q = bind_key(q, k).bind((*m).clone()).bind(*sum).bind(*max);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
