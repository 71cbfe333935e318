//! Query-time meters of the aggregates API: the bucket kinds (stored minute/hour/day
//! roll-ups, or billing periods folded from day roll-ups) and unique counts, which cannot
//! be summed across roll-ups and so are counted from the ledger (`usage_events`) for the
//! queried range.

use crate::clock::calendar_month;
use crate::db::Db;
use crate::error::AppError;
use std::collections::{BTreeMap, HashSet};
use tollgate_core::usage::rollup::bucket_start;
use tollgate_core::usage::{Granularity, UsageEvent};

/// How rows are bucketed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buckets {
    /// A stored roll-up granularity.
    Fixed(Granularity),
    /// The billing period invoices use: the calendar month (UTC), from day roll-ups.
    Period,
}

impl Buckets {
    /// The roll-up granularity read.
    pub fn stored(self) -> Granularity {
        match self {
            Buckets::Fixed(g) => g,
            Buckets::Period => Granularity::Day,
        }
    }

    /// The start of the bucket holding `time_ms`.
    pub fn start(self, time_ms: i64) -> i64 {
        match self {
            Buckets::Fixed(g) => bucket_start(time_ms, g),
            Buckets::Period => calendar_month(time_ms).0,
        }
    }

    /// The narrowest width, for the bucket-count bound (a period counts as 28 days).
    pub fn width_ms(self) -> i64 {
        match self {
            Buckets::Fixed(g) => g.width_ms(),
            Buckets::Period => 28 * Granularity::Day.width_ms(),
        }
    }

    /// The name in queries and answers.
    pub fn name(self) -> &'static str {
        match self {
            Buckets::Fixed(g) => g.as_str(),
            Buckets::Period => "period",
        }
    }
}

/// What a unique count counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    Key,
    Consumer,
    Api,
    Operation,
    Version,
    Status,
}

/// Reads `unique=`.
pub fn parse_unique(v: &str) -> Result<UniqueField, AppError> {
    Ok(match v {
        "key" => UniqueField::Key,
        "consumer" => UniqueField::Consumer,
        "api" => UniqueField::Api,
        "operation" => UniqueField::Operation,
        "version" => UniqueField::Version,
        "status" => UniqueField::Status,
        _ => {
            return Err(AppError::invalid(
                "unique",
                "must be key, consumer, api, operation, version or status",
            ))
        }
    })
}

/// Most ledger rows one unique count reads.
pub const MAX_EVENTS: i64 = 2_000_000;

/// Distinct values per (bucket, group) over the ledger in `[from, to)`. `scope` is SQL
/// appended after the time range with `$3…` placeholders for `binds`.
pub async fn count_unique(
    db: &Db,
    field: UniqueField,
    group_col: Option<&str>,
    (from, to): (i64, i64),
    scope: &str,
    binds: &[String],
    bucket: impl Fn(i64) -> i64,
) -> Result<BTreeMap<(i64, String), i64>, AppError> {
    let group = group_col.unwrap_or("CAST('' AS TEXT)");
    let (value, needs_body) = match field {
        UniqueField::Key => ("key_id", false),
        UniqueField::Consumer => ("consumer_id", false),
        UniqueField::Api => ("api_id", false),
        UniqueField::Status => ("CAST(status AS TEXT)", false),
        UniqueField::Operation | UniqueField::Version => ("body", true),
    };
    let (n,): (i64,) = {
        let sql = format!(
            "SELECT COUNT(*) FROM usage_events WHERE time_ms >= $1 AND time_ms < $2{scope}"
        );
        let mut q = sqlx::query_as(&sql).bind(from).bind(to);
        for b in binds {
            q = q.bind(b.clone());
        }
        q.fetch_one(db).await?
    };
    if n > MAX_EVENTS {
        return Err(AppError::invalid(
            "unique",
            format!("the range holds {n} events; unique counts read at most {MAX_EVENTS}: narrow the range or filter by consumer, key or API"),
        ));
    }
    let sql = format!(
        "SELECT time_ms, {group}, {value} FROM usage_events WHERE time_ms >= $1 AND time_ms < $2{scope}"
    );
    let mut q = sqlx::query_as::<_, (i64, String, String)>(&sql)
        .bind(from)
        .bind(to);
    for b in binds {
        q = q.bind(b.clone());
    }
    let mut seen: BTreeMap<(i64, String), HashSet<String>> = BTreeMap::new();
    for (time, grp, v) in q.fetch_all(db).await? {
        let v = if needs_body {
            let Ok(event) = serde_json::from_str::<UsageEvent>(&v) else {
                continue;
            };
            let picked = match field {
                UniqueField::Operation => event.data.operation,
                _ => event.data.version,
            };
            match picked {
                Some(p) => p,
                None => continue,
            }
        } else {
            v
        };
        seen.entry((bucket(time), grp)).or_default().insert(v);
    }
    Ok(seen
        .into_iter()
        .map(|(k, set)| (k, set.len() as i64))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_calendar_months_and_bound_by_their_shortest() {
        // 2026-02-15T12:00:00Z → 2026-02-01T00:00:00Z
        assert_eq!(Buckets::Period.start(1_771_156_800_000), 1_769_904_000_000);
        assert_eq!(Buckets::Period.stored(), Granularity::Day);
        assert_eq!(Buckets::Period.name(), "period");
        assert_eq!(
            Buckets::Fixed(Granularity::Hour).start(3_600_001),
            3_600_000
        );
        assert!(parse_unique("plan").is_err());
        assert_eq!(parse_unique("operation").unwrap(), UniqueField::Operation);
    }
}
