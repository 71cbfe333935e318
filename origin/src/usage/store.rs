//! Writes of the usage ledger: the ledger rows of one accepted batch (`INSERT … ON CONFLICT
//! (id) DO NOTHING RETURNING id`, portable across SQLite and PostgreSQL), the pending rows of
//! the events that were new, and the aggregate upserts a fold makes. Multi-row statements
//! keep a batch of 1,000 to a few round trips.

use sqlx::{Any, Transaction};
use std::collections::HashSet;
use tollgate_core::usage::rollup::{RollupKey, Totals};
use tollgate_core::usage::{billable, ValidEvent};

/// How one backend wants a multi-row statement's parameters written.
#[derive(Clone, Copy)]
struct Binds {
    /// Anonymous `?` (SQLite) rather than numbered `$N` (PostgreSQL).
    anonymous: bool,
}

impl Binds {
    fn of(tx: &Transaction<'static, Any>) -> Binds {
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
pub async fn insert_events(
    tx: &mut Transaction<'static, Any>,
    events: &[&ValidEvent],
    now_ms: i64,
) -> Result<HashSet<String>, sqlx::Error> {
    let binds = Binds::of(tx);
    let mut inserted = HashSet::new();
    for chunk in events.chunks(binds.rows_per_statement()) {
        let sql = format!(
            "INSERT INTO usage_events (id, time_ms, received_at, api_id, consumer_id, key_id, \
             plan_id, status, billable, body) VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
            binds.placeholders(chunk.len(), 10)
        );
        let mut q = sqlx::query_as::<_, (String,)>(&sql);
        for v in chunk {
            let d = &v.event.data;
            let body = serde_json::to_string(&v.event).unwrap_or_default();
            q = q
                .bind(v.event.id.clone())
                .bind(v.time_ms)
                .bind(now_ms)
                .bind(d.api_id.clone())
                .bind(d.consumer_id.clone().unwrap_or_default())
                .bind(d.key_id.clone().unwrap_or_default())
                .bind(d.plan_id.clone().unwrap_or_default())
                .bind(i32::from(d.status))
                .bind(i32::from(billable(d.status)))
                .bind(body);
        }
        for (id,) in q.fetch_all(&mut **tx).await? {
            inserted.insert(id);
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

/// Queues the new events for folding into the aggregates (`usage_pending`).
pub async fn insert_pending(
    tx: &mut Transaction<'static, Any>,
    events: &[&ValidEvent],
) -> Result<(), sqlx::Error> {
    let binds = Binds::of(tx);
    for chunk in events.chunks(binds.rows_per_statement()) {
        let sql = format!(
            "INSERT INTO usage_pending (time_ms, api_id, consumer_id, key_id, plan_id, status, \
             bytes_in, bytes_out, latency_ms, meters) VALUES {}",
            binds.placeholders(chunk.len(), 10)
        );
        let mut q = sqlx::query(&sql);
        for v in chunk {
            let d = &v.event.data;
            let meters = if d.meters.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&d.meters).unwrap_or_default()
            };
            q = q
                .bind(v.time_ms)
                .bind(d.api_id.clone())
                .bind(d.consumer_id.clone().unwrap_or_default())
                .bind(d.key_id.clone().unwrap_or_default())
                .bind(d.plan_id.clone().unwrap_or_default())
                .bind(i32::from(d.status))
                .bind(clamp(d.bytes_in))
                .bind(clamp(d.bytes_out))
                .bind(clamp(d.latency_ms))
                .bind(meters);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Adds folded totals into the aggregates.
pub async fn add_to_aggregates(
    tx: &mut Transaction<'static, Any>,
    totals: &[(RollupKey, Totals)],
) -> Result<(), sqlx::Error> {
    let binds = Binds::of(tx);
    for chunk in totals.chunks(binds.rows_per_statement()) {
        let sql = format!(
            "INSERT INTO usage_rollups (granularity, bucket_start, consumer_id, key_id, api_id, \
             plan_id, requests, billable, bytes_in, bytes_out, latency_ms_sum, latency_ms_max, \
             server_errors) VALUES {} ON CONFLICT (granularity, bucket_start, consumer_id, key_id, api_id, plan_id) \
             DO UPDATE SET requests = usage_rollups.requests + excluded.requests, \
             billable = usage_rollups.billable + excluded.billable, \
             bytes_in = usage_rollups.bytes_in + excluded.bytes_in, \
             bytes_out = usage_rollups.bytes_out + excluded.bytes_out, \
             latency_ms_sum = usage_rollups.latency_ms_sum + excluded.latency_ms_sum, \
             latency_ms_max = CASE WHEN excluded.latency_ms_max > usage_rollups.latency_ms_max \
             THEN excluded.latency_ms_max ELSE usage_rollups.latency_ms_max END, \
             server_errors = usage_rollups.server_errors + excluded.server_errors",
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
            "INSERT INTO usage_meter_rollups (granularity, bucket_start, consumer_id, key_id, \
             api_id, plan_id, meter, total, max_value) VALUES {} ON CONFLICT (granularity, \
             bucket_start, consumer_id, key_id, api_id, plan_id, meter) DO UPDATE SET \
             total = usage_meter_rollups.total + excluded.total, \
             max_value = CASE WHEN excluded.max_value > usage_meter_rollups.max_value \
             THEN excluded.max_value ELSE usage_meter_rollups.max_value END",
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
