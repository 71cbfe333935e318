//! `GET /admin/v1/usage/reconciliation?from=…&to=…`: does what the edge reported, what the
//! ledger holds and what invoices charge agree? Per key per UTC day: events received
//! (every request the edge reported), billable units in the ledger (`usage_events`),
//! billable units in the hourly roll-ups invoices rate, and the units of that day an
//! invoice covers; per invoice and API: ledger units in the invoice's period against the
//! units its usage lines charge. Each row has a `difference` that is 0 when they agree.

use crate::admin::fields::Table;
use crate::clock::format_rfc3339;
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
use tollgate_core::usage::time::parse_rfc3339_ms;
use utoipa::{IntoParams, ToSchema};

const DAY_MS: i64 = 86_400_000;
/// Longest range one report covers.
pub const MAX_DAYS: i64 = 366;

/// Query of `GET /admin/v1/usage/reconciliation`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ReconcileQuery {
    /// Start (RFC 3339, required; rounded down to the UTC day).
    pub from: Option<String>,
    /// End (RFC 3339, required, exclusive; rounded up to the UTC day).
    pub to: Option<String>,
    pub consumer_id: Option<String>,
}

/// One key's day.
#[derive(Debug, Serialize, Deserialize, ToSchema, Default, Clone)]
pub struct DayRow {
    /// The UTC day's start.
    pub day: String,
    pub consumer_id: String,
    pub key_id: String,
    pub api_id: String,
    /// Usage events the edge delivered (every routed request, billable or not).
    pub events_received: i64,
    /// Billable events in the ledger.
    pub billable_units: i64,
    /// Billable units in the hourly roll-ups (what invoices rate).
    pub rolled_up_units: i64,
    /// Roll-up units of the day covered by a draft, finalized or paid invoice with lines
    /// for this API; 0 when no invoice covers the day yet.
    pub invoiced_units: i64,
    /// `billable_units - invoiced_units`: units not (yet) on an invoice.
    pub difference: i64,
}

/// One API on one invoice.
#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
pub struct InvoiceRow {
    pub invoice_id: String,
    pub consumer_id: String,
    pub api_id: String,
    pub status: String,
    pub period_start: String,
    pub period_end: String,
    /// Billable events of the consumer on this API in the invoice's period.
    pub ledger_units: i64,
    /// Σ quantity of the invoice's `usage` lines for this API (units charged; an included
    /// allowance, trial time or package rounding shows up as a difference).
    pub billed_units: i64,
    /// `ledger_units - billed_units`.
    pub difference: i64,
}

/// The answer of `GET /admin/v1/usage/reconciliation`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Reconciliation {
    pub from: String,
    pub to: String,
    pub days: Vec<DayRow>,
    pub invoices: Vec<InvoiceRow>,
}

fn required_time(field: &str, v: Option<&str>) -> Result<i64, AppError> {
    let text = v.ok_or_else(|| {
        AppError::invalid(
            field,
            format!("`{field}` is required: an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z"),
        )
    })?;
    parse_rfc3339_ms(text).ok_or_else(|| {
        AppError::invalid(
            field,
            "must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z",
        )
    })
}

/// The report's filter: `consumer_id` and the caller's organisation, as SQL and binds
/// starting at placeholder `first`.
fn scope(q: &ReconcileQuery, actor: &Actor, first: usize) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    if let Some(c) = &q.consumer_id {
        binds.push(c.clone());
        sql.push_str(&format!(" AND consumer_id = ${}", first + binds.len() - 1));
    }
    if let Some(org) = actor.org_id() {
        binds.push(org.to_owned());
        sql.push_str(&format!(
            " AND consumer_id IN (SELECT id FROM consumers WHERE org_id = ${})",
            first + binds.len() - 1
        ));
    }
    (sql, binds)
}

type Key = (i64, String, String, String);

/// Reports whether edge, ledger and invoices agree.
#[utoipa::path(
    get,
    path = "/admin/v1/usage/reconciliation",
    tag = "usage",
    params(ReconcileQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Per key per day and per invoice", body = Reconciliation),
        (status = 400, description = "Unreadable query", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No consumer has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is invalid", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_reconciliation(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<ReconcileQuery>,
) -> Result<Json<Reconciliation>, AppError> {
    let from = required_time("from", q.from.as_deref())?.div_euclid(DAY_MS) * DAY_MS;
    let to_raw = required_time("to", q.to.as_deref())?;
    let to = (to_raw + DAY_MS - 1).div_euclid(DAY_MS) * DAY_MS;
    if from >= to_raw {
        return Err(AppError::invalid("from", "must be before `to`"));
    }
    if (to - from) / DAY_MS > MAX_DAYS {
        return Err(AppError::invalid(
            "from",
            format!("the range spans more than {MAX_DAYS} days; narrow it"),
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
    super::fold::catch_up(&state.ledger).await?;
    let (filter, binds) = scope(&q, &actor, 3);
    let mut days: BTreeMap<Key, DayRow> = BTreeMap::new();
    let sql = format!(
        "SELECT time_ms, consumer_id, key_id, api_id, CAST(billable AS BIGINT) FROM usage_events \
         WHERE time_ms >= $1 AND time_ms < $2{filter}"
    );
    let mut query = sqlx::query_as::<_, (i64, String, String, String, i64)>(&sql)
        .bind(from)
        .bind(to);
    for b in &binds {
        query = query.bind(b.clone());
    }
    // Counted here rather than with GROUP BY so day arithmetic is the same on both
    // databases; a range is bounded to MAX_DAYS.
    for (time, consumer, key, api, billable) in query.fetch_all(&state.db).await? {
        let day = time.div_euclid(DAY_MS) * DAY_MS;
        let row = days.entry((day, consumer, key, api)).or_default();
        row.events_received += 1;
        row.billable_units += billable;
    }
    let sql = format!(
        "SELECT bucket_start, consumer_id, key_id, api_id, CAST(SUM(billable) AS BIGINT) \
         FROM usage_rollups WHERE granularity = 'hour' AND bucket_start >= $1 AND bucket_start < $2{filter} \
         GROUP BY bucket_start, consumer_id, key_id, api_id"
    );
    let mut query = sqlx::query_as::<_, (i64, String, String, String, i64)>(&sql)
        .bind(from)
        .bind(to);
    for b in &binds {
        query = query.bind(b.clone());
    }
    for (hour, consumer, key, api, billable) in query.fetch_all(&state.db).await? {
        let day = hour.div_euclid(DAY_MS) * DAY_MS;
        days.entry((day, consumer, key, api))
            .or_default()
            .rolled_up_units += billable;
    }
    let invoices = invoice_rows(&state, &filter, &binds, from, to).await?;
    let mut covered: BTreeMap<(String, String), Vec<(i64, i64)>> = BTreeMap::new();
    for (inv, start, end) in &invoices.1 {
        covered
            .entry((inv.consumer_id.clone(), inv.api_id.clone()))
            .or_default()
            .push((*start, *end));
    }
    let days = days
        .into_iter()
        .map(|((day, consumer, key, api), mut row)| {
            let on_invoice = covered
                .get(&(consumer.clone(), api.clone()))
                .is_some_and(|periods| periods.iter().any(|(s, e)| *s <= day && day < *e));
            row.invoiced_units = if on_invoice { row.rolled_up_units } else { 0 };
            row.difference = row.billable_units - row.invoiced_units;
            DayRow {
                day: format_rfc3339(day),
                consumer_id: consumer,
                key_id: key,
                api_id: api,
                ..row
            }
        })
        .collect();
    Ok(Json(Reconciliation {
        from: format_rfc3339(from),
        to: format_rfc3339(to),
        days,
        invoices: invoices.0,
    }))
}

type InvoiceRows = (Vec<InvoiceRow>, Vec<(InvoiceRow, i64, i64)>);

/// The rows of non-void invoices overlapping `[from, to)`, and each with its period.
async fn invoice_rows(
    state: &AppState,
    filter: &str,
    binds: &[String],
    from: i64,
    to: i64,
) -> Result<InvoiceRows, AppError> {
    let sql = format!(
        "SELECT id, consumer_id, status, period_start, period_end FROM invoices \
         WHERE period_start < $2 AND period_end > $1 AND status <> 'void'{filter} \
         ORDER BY period_start, consumer_id, id"
    );
    let mut query = sqlx::query_as::<_, (String, String, String, i64, i64)>(&sql)
        .bind(from)
        .bind(to);
    for b in binds {
        query = query.bind(b.clone());
    }
    let mut rows = Vec::new();
    let mut periods = Vec::new();
    for (id, consumer, status, start, end) in query.fetch_all(&state.db).await? {
        let mut per_api: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let lines: Vec<(Option<String>, String, i64)> = sqlx::query_as(
            "SELECT api_id, kind, quantity FROM invoice_lines WHERE invoice_id = $1",
        )
        .bind(&id)
        .fetch_all(&state.db)
        .await?;
        for (api, kind, quantity) in lines {
            let Some(api) = api else { continue };
            let entry = per_api.entry(api).or_default();
            if kind == "usage" {
                entry.1 += quantity;
            }
        }
        let ledger: Vec<(String, i64)> = sqlx::query_as(
            "SELECT api_id, CAST(COALESCE(SUM(billable), 0) AS BIGINT) FROM usage_events \
             WHERE consumer_id = $1 AND time_ms >= $2 AND time_ms < $3 GROUP BY api_id",
        )
        .bind(&consumer)
        .bind(start)
        .bind(end)
        .fetch_all(&state.db)
        .await?;
        let on_invoice: Vec<String> = per_api.keys().cloned().collect();
        for (api, units) in ledger {
            per_api.entry(api).or_default().0 += units;
        }
        for (api, (ledger_units, billed_units)) in per_api {
            let row = InvoiceRow {
                invoice_id: id.clone(),
                consumer_id: consumer.clone(),
                api_id: api.clone(),
                status: status.clone(),
                period_start: format_rfc3339(start),
                period_end: format_rfc3339(end),
                ledger_units,
                billed_units,
                difference: ledger_units - billed_units,
            };
            if on_invoice.contains(&api) {
                periods.push((row.clone(), start, end));
            }
            rows.push(row);
        }
    }
    Ok((rows, periods))
}
