//! `GET /console`: the operator's overview. Requests per day over the last 30 days from
//! the usage roll-ups, and revenue per billing period from the invoices (net of credit
//! notes, void ones left out), both as server-rendered SVG bar charts; each chart only for
//! roles that may read usage or billing, each scoped to the operator's organisation.

use super::charts::{bar_chart, money, BarChart};
use super::operator::Operator;
use super::pages::{render, Chrome, ConsoleError};
use crate::clock::{format_rfc3339, now_ms};
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tollgate_core::rbac::Permission;

const DAY_MS: i64 = 86_400_000;
/// Days on the requests chart.
pub const DAYS: i64 = 30;
/// Billing periods on the revenue chart.
pub const PERIODS: i64 = 12;

/// A chart with its heading.
pub struct Figure {
    pub heading: String,
    pub chart: BarChart,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    requests: Option<Figure>,
    revenue: Vec<Figure>,
    counts: Vec<(&'static str, i64)>,
}

/// Part of an instant's date: `chars` 5..10 is `11-28`, 0..7 is `2026-11`.
fn date_part(ms: i64, chars: std::ops::Range<usize>) -> String {
    format_rfc3339(ms)
        .chars()
        .skip(chars.start)
        .take(chars.len())
        .collect()
}

async fn requests_per_day(state: &AppState, op: &Operator) -> Result<Figure, ConsoleError> {
    crate::usage::fold::catch_up(&state.ledger).await?;
    let today = now_ms().div_euclid(DAY_MS) * DAY_MS;
    let from = today - (DAYS - 1) * DAY_MS;
    let (clause, org) = org_clause(&op.actor, "a.org_id", 2);
    let sql = format!(
        "SELECT r.bucket_start, CAST(SUM(r.requests) AS BIGINT) FROM usage_rollups r \
         LEFT JOIN apis a ON a.id = r.api_id WHERE r.granularity = 'day' AND r.bucket_start >= $1{clause} \
         GROUP BY r.bucket_start"
    );
    let rows: Vec<(i64, i64)> = bind_org(sqlx::query_as(&sql).bind(from), org)
        .fetch_all(&state.db)
        .await?;
    let points: Vec<(String, i64)> = (0..DAYS)
        .map(|i| {
            let day = from + i * DAY_MS;
            let n = rows
                .iter()
                .filter(|(start, _)| start.div_euclid(DAY_MS) * DAY_MS == day)
                .map(|(_, n)| n)
                .sum();
            (date_part(day, 5..10), n)
        })
        .collect();
    Ok(Figure {
        heading: format!("Requests per day, last {DAYS} days"),
        chart: bar_chart(&points, |v| v.to_string()),
    })
}

async fn revenue_per_period(state: &AppState, op: &Operator) -> Result<Vec<Figure>, ConsoleError> {
    let (clause, org) = org_clause(&op.actor, "org_id", 1);
    let sql = format!(
        "SELECT period_start, currency, CAST(SUM(subtotal_minor - credited_minor) AS BIGINT) FROM invoices \
         WHERE status <> 'void'{clause} GROUP BY period_start, currency ORDER BY period_start"
    );
    let rows: Vec<(i64, String, i64)> = bind_org(sqlx::query_as(&sql), org)
        .fetch_all(&state.db)
        .await?;
    let mut currencies: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
    currencies.sort();
    currencies.dedup();
    let figures = currencies
        .into_iter()
        .map(|currency| {
            let mine: Vec<&(i64, String, i64)> = rows.iter().filter(|r| r.1 == currency).collect();
            let skip = mine.len().saturating_sub(PERIODS as usize);
            let points: Vec<(String, i64)> = mine[skip..]
                .iter()
                .map(|(start, _, amount)| (date_part(*start, 0..7), *amount))
                .collect();
            let unit = currency.to_uppercase();
            Figure {
                heading: format!("Revenue per billing period ({unit}), net of credit notes"),
                chart: bar_chart(&points, |v| format!("{} {unit}", money(v))),
            }
        })
        .collect();
    Ok(figures)
}

async fn count(state: &AppState, op: &Operator, table: &str) -> Result<i64, ConsoleError> {
    let (clause, org) = org_clause(&op.actor, "org_id", 1);
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE 1 = 1{clause}");
    let (n,): (i64,) = bind_org(sqlx::query_as(&sql), org)
        .fetch_one(&state.db)
        .await?;
    Ok(n)
}

/// `GET /console`.
pub async fn overview(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_page(&state.db, &headers, Permission::CatalogRead).await?;
    let requests = if op.may(Permission::UsageRead) {
        Some(requests_per_day(&state, &op).await?)
    } else {
        None
    };
    let revenue = if op.may(Permission::BillingRead) {
        revenue_per_period(&state, &op).await?
    } else {
        Vec::new()
    };
    let mut counts = vec![("APIs", count(&state, &op, "apis").await?)];
    if op.may(Permission::ConsumersRead) {
        counts.push(("Consumers", count(&state, &op, "consumers").await?));
    }
    if op.may(Permission::PlansRead) {
        counts.push(("Plans", count(&state, &op, "plans").await?));
    }
    if op.may(Permission::KeysRead) {
        let (clause, org) = org_clause(&op.actor, "org_id", 1);
        let sql = format!("SELECT COUNT(*) FROM keys WHERE status = 'active'{clause}");
        let (n,): (i64,) = bind_org(sqlx::query_as(&sql), org)
            .fetch_one(&state.db)
            .await?;
        counts.push(("Active keys", n));
    }
    render(
        StatusCode::OK,
        &OverviewPage {
            chrome: op.chrome(),
            requests,
            revenue,
            counts,
        },
    )
}
