//! The fold on SQLite, done inside the database: the pending rows of one chunk are summed
//! per minute into scratch tables, and the minutes into every granularity's aggregates
//! with `INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`; only the key spans the quota
//! check needs leave SQLite. Bringing every pending row through the driver to sum it in Rust cost as much as
//! ingesting it. The sums follow `tollgate_core::usage::rollup_samples` (the tests hold
//! the two to each other); SQLite's rowids, which only grow under its single write lock,
//! bound the chunk.

use super::store::{METER_COLUMNS, METER_UPSERT, ROLLUP_COLUMNS, ROLLUP_UPSERT};
use sqlx::{Any, Transaction};
use tollgate_core::usage::alerts::KeySpan;
use tollgate_core::usage::{Granularity, BILLABLE_STATUSES};

/// `status` is billable, in SQL (see `tollgate_core::usage::billable`).
fn billable_sql(column: &str) -> String {
    format!(
        "({column} >= {} AND {column} < {})",
        BILLABLE_STATUSES.start, BILLABLE_STATUSES.end
    )
}

/// The scratch tables a fold sums one chunk into, per minute, before adding the minutes
/// into every granularity: the pending rows are read twice (measures, meters) instead of
/// once per granularity. Temporary, so private to the writer connection.
pub const SCRATCH_TABLES: [&str; 2] = [
    "CREATE TEMP TABLE IF NOT EXISTS fold_minutes (bucket_start BIGINT, consumer_id TEXT, \
     key_id TEXT, api_id TEXT, plan_id TEXT, requests BIGINT, billable BIGINT, bytes_in BIGINT, \
     bytes_out BIGINT, latency_ms_sum BIGINT, latency_ms_max BIGINT, server_errors BIGINT, \
     first_billable_ms BIGINT, last_billable_ms BIGINT)",
    "CREATE TEMP TABLE IF NOT EXISTS fold_meter_minutes (bucket_start BIGINT, consumer_id TEXT, \
     key_id TEXT, api_id TEXT, plan_id TEXT, meter TEXT, total BIGINT, max_value BIGINT)",
];

/// Folds the oldest `limit` pending rows: adds them into the aggregates and deletes them,
/// in the caller's transaction (on the writer connection, which has the scratch tables).
/// How many it folded and the key spans for the quota check.
pub async fn fold_chunk(
    tx: &mut Transaction<'_, Any>,
    limit: i64,
) -> Result<(usize, Vec<KeySpan>), sqlx::Error> {
    let (n, last): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MAX(rowid) FROM \
         (SELECT rowid FROM usage_pending ORDER BY rowid LIMIT $1)",
    )
    .bind(limit)
    .fetch_one(&mut **tx)
    .await?;
    let Some(last) = last else {
        return Ok((0, Vec::new()));
    };
    let billable = billable_sql("status");
    let minute = Granularity::Minute.width_ms();
    let steps = [
        "DELETE FROM temp.fold_minutes".to_owned(),
        "DELETE FROM temp.fold_meter_minutes".to_owned(),
        format!(
            "INSERT INTO temp.fold_minutes SELECT time_ms - (time_ms % {minute}) AS b, \
             consumer_id, key_id, api_id, plan_id, COUNT(*), SUM({billable}), SUM(bytes_in), \
             SUM(bytes_out), SUM(latency_ms), MAX(latency_ms), SUM(status >= 500), \
             MIN(CASE WHEN {billable} THEN time_ms END), MAX(CASE WHEN {billable} THEN time_ms END) \
             FROM usage_pending WHERE rowid <= $1 \
             GROUP BY b, consumer_id, key_id, api_id, plan_id"
        ),
        format!(
            "INSERT INTO temp.fold_meter_minutes SELECT p.time_ms - (p.time_ms % {minute}) AS b, \
             p.consumer_id, p.key_id, p.api_id, p.plan_id, m.key, SUM(m.value), MAX(m.value) \
             FROM usage_pending AS p, json_each(NULLIF(p.meters, '')) AS m \
             WHERE p.rowid <= $1 AND {} \
             GROUP BY b, p.consumer_id, p.key_id, p.api_id, p.plan_id, m.key",
            billable_sql("p.status")
        ),
        "DELETE FROM usage_pending WHERE rowid <= $1".to_owned(),
    ];
    for sql in &steps {
        let q = sqlx::query(sql);
        let q = if sql.contains("$1") { q.bind(last) } else { q };
        q.execute(&mut **tx).await?;
    }
    for g in Granularity::ALL {
        let (name, width) = (g.as_str(), g.width_ms());
        sqlx::query(&format!(
            "INSERT INTO usage_rollups ({ROLLUP_COLUMNS}) \
             SELECT '{name}', bucket_start - (bucket_start % {width}) AS b, consumer_id, key_id, \
             api_id, plan_id, SUM(requests), SUM(billable), SUM(bytes_in), SUM(bytes_out), \
             SUM(latency_ms_sum), MAX(latency_ms_max), SUM(server_errors) \
             FROM temp.fold_minutes WHERE true GROUP BY b, consumer_id, key_id, api_id, plan_id \
             {ROLLUP_UPSERT}"
        ))
        .execute(&mut **tx)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO usage_meter_rollups ({METER_COLUMNS}) \
             SELECT '{name}', bucket_start - (bucket_start % {width}) AS b, consumer_id, key_id, \
             api_id, plan_id, meter, SUM(total), MAX(max_value) \
             FROM temp.fold_meter_minutes WHERE true \
             GROUP BY b, consumer_id, key_id, api_id, plan_id, meter {METER_UPSERT}"
        ))
        .execute(&mut **tx)
        .await?;
    }
    let spans: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT consumer_id, key_id, plan_id, MIN(first_billable_ms), MAX(last_billable_ms) \
         FROM temp.fold_minutes WHERE consumer_id <> '' AND key_id <> '' AND plan_id <> '' \
         AND first_billable_ms IS NOT NULL GROUP BY consumer_id, key_id, plan_id",
    )
    .fetch_all(&mut **tx)
    .await?;
    let spans = spans
        .into_iter()
        .map(|(consumer_id, key_id, plan_id, first_ms, last_ms)| KeySpan {
            consumer_id,
            key_id,
            plan_id,
            first_ms,
            last_ms,
        })
        .collect();
    Ok((usize::try_from(n).unwrap_or(0), spans))
}
