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
        .map(
            |(consumer_id, key_id, plan_id, first_ms, last_ms)| KeySpan {
                consumer_id,
                key_id,
                plan_id,
                first_ms,
                last_ms,
            },
        )
        .collect();
    Ok((usize::try_from(n).unwrap_or(0), spans))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::ledger::Ledger;
    use std::collections::BTreeMap;
    use tollgate_core::usage::alerts::key_spans;
    use tollgate_core::usage::{rollup_samples, RollupKey, Sample, Totals};

    /// Samples over minute, hour and day boundaries, every kind of status, some with
    /// meters, some without consumer, key or plan (a small deterministic generator).
    fn samples(n: u64) -> Vec<Sample> {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let day0: i64 = 1_764_000_000_000 - 1_764_000_000_000 % 86_400_000;
        (0..n)
            .map(|_| {
                let who = next(7);
                let mut meters = BTreeMap::new();
                if next(3) == 0 {
                    meters.insert("tokens".to_owned(), next(1_000));
                    if next(2) == 0 {
                        meters.insert("rows".to_owned(), next(50));
                    }
                }
                Sample {
                    // Two days, so every granularity gets several buckets.
                    time_ms: day0 + i64::try_from(next(2 * 86_400_000)).unwrap(),
                    api_id: format!("api_{}", next(2)),
                    consumer_id: if who == 0 {
                        String::new()
                    } else {
                        format!("con_{}", who % 3)
                    },
                    key_id: if who == 1 {
                        String::new()
                    } else {
                        format!("key_{who}")
                    },
                    plan_id: if who == 2 {
                        String::new()
                    } else {
                        format!("plan_{}", who % 2)
                    },
                    status: [200, 201, 302, 399, 400, 404, 429, 500, 503, 101][next(10) as usize],
                    bytes_in: next(10_000),
                    bytes_out: next(100_000),
                    latency_ms: next(2_000),
                    meters,
                }
            })
            .collect()
    }

    async fn insert_pending(db: &crate::db::Db, samples: &[Sample]) {
        for s in samples {
            let meters = if s.meters.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&s.meters).unwrap()
            };
            sqlx::query(
                "INSERT INTO usage_pending (time_ms, api_id, consumer_id, key_id, plan_id, \
                 status, bytes_in, bytes_out, latency_ms, meters) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(s.time_ms)
            .bind(&s.api_id)
            .bind(&s.consumer_id)
            .bind(&s.key_id)
            .bind(&s.plan_id)
            .bind(i32::from(s.status))
            .bind(s.bytes_in as i64)
            .bind(s.bytes_out as i64)
            .bind(s.latency_ms as i64)
            .bind(meters)
            .execute(db)
            .await
            .unwrap();
        }
    }

    fn granularity(name: &str) -> Granularity {
        *Granularity::ALL
            .iter()
            .find(|g| g.as_str() == name)
            .unwrap()
    }

    type MeterRow = (
        String,
        i64,
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
    );
    type Row = (
        String,
        i64,
        String,
        String,
        String,
        String,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    );

    async fn stored(db: &crate::db::Db) -> BTreeMap<RollupKey, Totals> {
        let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {ROLLUP_COLUMNS} FROM usage_rollups"))
            .fetch_all(db)
            .await
            .unwrap();
        let mut out = BTreeMap::new();
        for (g, b, c, k, a, p, requests, billable, bytes_in, bytes_out, sum, max, errors) in rows {
            let key = RollupKey {
                granularity: granularity(&g),
                bucket_start: b,
                consumer_id: c,
                key_id: k,
                api_id: a,
                plan_id: p,
            };
            out.insert(
                key,
                Totals {
                    requests,
                    billable,
                    bytes_in,
                    bytes_out,
                    latency_ms_sum: sum,
                    latency_ms_max: max,
                    server_errors: errors,
                    meters: BTreeMap::new(),
                },
            );
        }
        let meters: Vec<MeterRow> =
            sqlx::query_as(&format!("SELECT {METER_COLUMNS} FROM usage_meter_rollups"))
                .fetch_all(db)
                .await
                .unwrap();
        for (g, b, c, k, a, p, meter, total, max) in meters {
            let key = RollupKey {
                granularity: granularity(&g),
                bucket_start: b,
                consumer_id: c,
                key_id: k,
                api_id: a,
                plan_id: p,
            };
            out.get_mut(&key)
                .expect("a meter row has its bucket's row")
                .meters
                .insert(meter, (total, max));
        }
        out
    }

    #[tokio::test]
    async fn the_fold_in_sqlite_sums_as_the_core_rollup_does() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let ledger = Ledger::open(db.clone()).await.unwrap();
        let all = samples(3_000);
        // Two folds into the same buckets: the second adds into what the first wrote.
        let (first, second) = all.split_at(1_200);
        let mut spans = Vec::new();
        for part in [first, second] {
            insert_pending(&db, part).await;
            let mut conn = ledger.connection().await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            let (n, s) = fold_chunk(&mut tx, 1_000_000).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(n, part.len());
            assert_eq!(
                s,
                key_spans(part),
                "the quota check sees the spans core computes"
            );
            spans.extend(s);
        }
        assert!(!spans.is_empty());
        let expected = rollup_samples(&all);
        let got = stored(&db).await;
        assert_eq!(got.len(), expected.len());
        for (key, totals) in &expected {
            assert_eq!(got.get(key), Some(totals), "bucket {key:?}");
        }
        let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM usage_pending")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn a_chunk_takes_the_oldest_rows_and_an_empty_queue_folds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let ledger = Ledger::open(db.clone()).await.unwrap();
        let mut conn = ledger.connection().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        assert_eq!(fold_chunk(&mut tx, 10).await.unwrap(), (0, Vec::new()));
        tx.rollback().await.unwrap();
        drop(conn);
        let all = samples(25);
        insert_pending(&db, &all).await;
        let mut conn = ledger.connection().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let (n, _) = fold_chunk(&mut tx, 10).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(n, 10);
        let requests: Vec<(i64,)> = sqlx::query_as(
            "SELECT CAST(SUM(requests) AS BIGINT) FROM usage_rollups WHERE granularity = 'day'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        assert_eq!(requests, vec![(10,)]);
        let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM usage_pending")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(left, 15);
    }
}
