//! `GET /admin/v1/usage/aggregates`: usage totals per minute, hour, day or billing-period
//! bucket, filtered by consumer, key and API and optionally grouped by one of them, with
//! the sum and max of custom meters and, on request, a unique count (distinct keys,
//! consumers, APIs, operations, versions or statuses; computed at query time from the
//! ledger). Tenant-scoped: an organisation's members see only their consumers' usage.

use super::unique::{count_unique, parse_unique, Buckets};
use crate::admin::fields::Table;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::Query;
use crate::routes::AppState;
use crate::tenancy::scope::visible;
use crate::tenancy::Actor;
use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tollgate_core::usage::time::{format_rfc3339_ms, parse_rfc3339_ms};
use tollgate_core::usage::Granularity;
use utoipa::{IntoParams, ToSchema};

/// Most buckets one query may span.
pub const MAX_BUCKETS: i64 = 10_000;

/// Query of `GET /admin/v1/usage/aggregates`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AggregateQuery {
    pub consumer_id: Option<String>,
    pub key_id: Option<String>,
    pub api_id: Option<String>,
    /// Start (RFC 3339, inclusive; rounded down to the bucket). Default: 24 h before `to`.
    pub from: Option<String>,
    /// End (RFC 3339, exclusive). Default: now.
    pub to: Option<String>,
    /// `minute`, `hour` (default), `day` or `period` (the billing period invoices use:
    /// the calendar month, UTC).
    pub granularity: Option<String>,
    /// `consumer`, `key` or `api`; omitted: one row per bucket.
    pub group_by: Option<String>,
    /// Count distinct `key`, `consumer`, `api`, `operation`, `version` or `status` values
    /// per row (from the ledger, at query time).
    pub unique: Option<String>,
}

/// Totals of one bucket (and group).
#[derive(Debug, Serialize, Deserialize, ToSchema, Default)]
pub struct AggregateRow {
    pub bucket_start: String,
    /// The group's value when `group_by` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub requests: i64,
    /// Billable requests (1xx–3xx answers).
    pub billable: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub latency_ms_max: i64,
    /// Per custom meter: `{"sum": n, "max": n}` over billable requests.
    pub meters: BTreeMap<String, MeterTotals>,
    /// With `unique`: how many distinct values the row's requests have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique: Option<i64>,
}

/// A meter's totals in a bucket.
#[derive(Debug, Serialize, Deserialize, ToSchema, Default, Clone, Copy)]
pub struct MeterTotals {
    pub sum: i64,
    pub max: i64,
}

/// The answer of `GET /admin/v1/usage/aggregates`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Aggregates {
    pub granularity: String,
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique: Option<String>,
    pub rows: Vec<AggregateRow>,
}

fn parse_time(field: &str, v: Option<&str>, default: i64) -> Result<i64, AppError> {
    match v {
        None => Ok(default),
        Some(s) => parse_rfc3339_ms(s).ok_or_else(|| {
            AppError::invalid(
                field,
                "must be an RFC 3339 date-time, e.g. 2026-11-29T10:00:00Z",
            )
        }),
    }
}

/// Reports usage totals per bucket.
#[utoipa::path(
    get,
    path = "/admin/v1/usage/aggregates",
    tag = "usage",
    params(AggregateQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Totals per bucket", body = Aggregates),
        (status = 400, description = "Unreadable query", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No consumer has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is invalid", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_aggregates(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<AggregateQuery>,
) -> Result<Json<Aggregates>, AppError> {
    let buckets = match q.granularity.as_deref() {
        None | Some("hour") => Buckets::Fixed(Granularity::Hour),
        Some("minute") => Buckets::Fixed(Granularity::Minute),
        Some("day") => Buckets::Fixed(Granularity::Day),
        Some("period") => Buckets::Period,
        Some(_) => {
            return Err(AppError::invalid(
                "granularity",
                "must be minute, hour, day or period",
            ))
        }
    };
    let group_col = match q.group_by.as_deref() {
        None => None,
        Some("consumer") => Some("consumer_id"),
        Some("key") => Some("key_id"),
        Some("api") => Some("api_id"),
        Some(_) => {
            return Err(AppError::invalid(
                "group_by",
                "must be consumer, key or api",
            ))
        }
    };
    let unique = q.unique.as_deref().map(parse_unique).transpose()?;
    let to = parse_time("to", q.to.as_deref(), crate::clock::now_ms())?;
    let from = buckets.start(parse_time("from", q.from.as_deref(), to - 86_400_000)?);
    if from >= to {
        return Err(AppError::invalid("from", "must be before `to`"));
    }
    if (to - from) / buckets.width_ms() > MAX_BUCKETS {
        return Err(AppError::invalid(
            "from",
            format!("the range spans more than {MAX_BUCKETS} {} buckets; narrow it or use a coarser granularity", buckets.name()),
        ));
    }
    if let Some(c) = q.consumer_id.as_deref() {
        if !visible(&state.db, Table::Consumers, c, &actor).await? {
            return Err(AppError::NotFound {
                what: "consumer",
                id: c.to_owned(),
            });
        }
    }
    let g = buckets.stored();
    let mut filter = String::from("granularity = $1 AND bucket_start >= $2 AND bucket_start < $3");
    let mut binds: Vec<String> = Vec::new();
    let mut scope = String::new();
    for (col, v) in [
        ("consumer_id", &q.consumer_id),
        ("key_id", &q.key_id),
        ("api_id", &q.api_id),
    ] {
        if let Some(v) = v {
            binds.push(v.clone());
            scope.push_str(&format!(" AND {col} = ${}", binds.len() + 3));
        }
    }
    if let Some(org) = actor.org_id() {
        binds.push(org.to_owned());
        scope.push_str(&format!(
            " AND consumer_id IN (SELECT id FROM consumers WHERE org_id = ${})",
            binds.len() + 3
        ));
    }
    filter.push_str(&scope);
    let group = group_col.unwrap_or("CAST('' AS TEXT)");
    let group_by = group_col.map(|c| format!(", {c}")).unwrap_or_default();
    let sql = format!(
        "SELECT bucket_start, {group}, CAST(SUM(requests) AS BIGINT), CAST(SUM(billable) AS BIGINT), \
         CAST(SUM(bytes_in) AS BIGINT), CAST(SUM(bytes_out) AS BIGINT), CAST(MAX(latency_ms_max) AS BIGINT) \
         FROM usage_rollups WHERE {filter} GROUP BY bucket_start{group_by} ORDER BY bucket_start{group_by}"
    );
    let mut query = sqlx::query_as::<_, (i64, String, i64, i64, i64, i64, i64)>(&sql)
        .bind(g.as_str())
        .bind(from)
        .bind(to);
    for b in &binds {
        query = query.bind(b.clone());
    }
    super::fold::catch_up(&state.ledger).await?;
    let mut rows: BTreeMap<(i64, String), AggregateRow> = BTreeMap::new();
    for (start, grp, requests, billable, bytes_in, bytes_out, latency_ms_max) in
        query.fetch_all(&state.db).await?
    {
        let start = buckets.start(start);
        let row = rows
            .entry((start, grp.clone()))
            .or_insert_with(|| AggregateRow {
                bucket_start: format_rfc3339_ms(start),
                group: group_col.map(|_| grp),
                ..AggregateRow::default()
            });
        row.requests += requests;
        row.billable += billable;
        row.bytes_in += bytes_in;
        row.bytes_out += bytes_out;
        row.latency_ms_max = row.latency_ms_max.max(latency_ms_max);
    }
    let sql = format!(
        "SELECT bucket_start, {group}, meter, CAST(SUM(total) AS BIGINT), CAST(MAX(max_value) AS BIGINT) \
         FROM usage_meter_rollups WHERE {filter} GROUP BY bucket_start{group_by}, meter"
    );
    let mut query = sqlx::query_as::<_, (i64, String, String, i64, i64)>(&sql)
        .bind(g.as_str())
        .bind(from)
        .bind(to);
    for b in &binds {
        query = query.bind(b.clone());
    }
    for (start, grp, meter, sum, max) in query.fetch_all(&state.db).await? {
        if let Some(row) = rows.get_mut(&(buckets.start(start), grp)) {
            let m = row.meters.entry(meter).or_default();
            m.sum += sum;
            m.max = m.max.max(max);
        }
    }
    if let Some(field) = unique {
        // The same scope over the ledger: placeholders shift down by one (no granularity).
        let scope = (1..=binds.len()).fold(scope.clone(), |s, i| {
            s.replace(&format!("${}", i + 3), &format!("${}", i + 2))
        });
        let counts = count_unique(
            &state.db,
            field,
            group_col,
            (from, to),
            &scope,
            &binds,
            |t| buckets.start(t),
        )
        .await?;
        for (k, row) in rows.iter_mut() {
            row.unique = Some(counts.get(k).copied().unwrap_or(0));
        }
    }
    Ok(Json(Aggregates {
        granularity: buckets.name().to_owned(),
        from: format_rfc3339_ms(from),
        to: format_rfc3339_ms(to),
        group_by: q.group_by,
        unique: q.unique,
        rows: rows.into_values().collect(),
    }))
}
