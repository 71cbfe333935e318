//! The developer's usage: requests per hour (last 48 h) and per day (last 30 d), per key
//! and per API, from the usage ledger's roll-ups, as a page (tables that work without
//! JavaScript, charts drawn by uPlot from `/portal/usage.json`) and quota bars: what each
//! live subscription has used of its plan's quota in the current quota period.

use super::accounts::page;
use super::pages::{render, Chrome, PortalError};
use super::session;
use super::PortalSettings;
use crate::admin::plan_limits::quota_algorithm;
use crate::admin::plans::Quota;
use crate::clock::{format_rfc3339, now_ms};
use crate::db::Db;
use crate::routes::AppState;
use crate::usage::ledger::Ledger;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use tollgate_core::limits::calendar::period_bounds;
use tollgate_core::limits::Algorithm;
use tollgate_core::usage::series::{dense_series, percent_used, Series, Window};
use tollgate_core::usage::Granularity;

/// Hours shown in the hourly chart.
pub const HOURS: usize = 48;
/// Days shown in the daily chart.
pub const DAYS: usize = 30;

/// One chart's data: bucket starts (unix seconds, as uPlot wants) and series per key and API.
#[derive(Debug, Serialize)]
pub struct Chart {
    pub granularity: &'static str,
    pub buckets: Vec<i64>,
    pub keys: Vec<Series>,
    pub apis: Vec<Series>,
}

impl Chart {
    /// Requests in the whole window.
    pub fn total(&self) -> i64 {
        self.apis.iter().flat_map(|s| &s.values).sum()
    }
}

/// The answer of `GET /portal/usage.json`.
#[derive(Debug, Serialize)]
pub struct UsageData {
    pub hour: Chart,
    pub day: Chart,
}

/// A quota bar: one live subscription's use of its plan's quota this period.
pub struct QuotaBar {
    pub api_name: String,
    pub plan_name: String,
    pub used: i64,
    pub limit: i64,
    pub percent: u8,
    pub period: String,
    pub resets_at: String,
}

/// A table row: a bucket's label and its values in the table's column order.
pub struct TableRow {
    pub label: String,
    pub values: Vec<i64>,
}

/// A no-JavaScript table of one chart: columns are series, rows are buckets with calls.
pub struct Table {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<TableRow>,
}

fn table(caption: &str, chart: &Chart, series: &[Series]) -> Table {
    let rows = chart
        .buckets
        .iter()
        .enumerate()
        .filter(|(i, _)| series.iter().any(|s| s.values[*i] != 0))
        .map(|(i, start)| TableRow {
            label: format_rfc3339(start * 1000),
            values: series.iter().map(|s| s.values[i]).collect(),
        })
        .collect();
    Table {
        caption: caption.to_owned(),
        columns: series.iter().map(|s| s.label.clone()).collect(),
        rows,
    }
}

async fn chart(
    db: &Db,
    consumer_id: &str,
    g: Granularity,
    count: usize,
    now: i64,
) -> Result<Chart, sqlx::Error> {
    let window = Window::ending_at(now, g.width_ms(), count);
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT r.bucket_start, COALESCE(k.display_prefix, r.key_id), COALESCE(a.name, r.api_id), r.requests \
         FROM usage_rollups r LEFT JOIN keys k ON k.id = r.key_id LEFT JOIN apis a ON a.id = r.api_id \
         WHERE r.granularity = $1 AND r.consumer_id = $2 AND r.bucket_start >= $3",
    )
    .bind(g.as_str())
    .bind(consumer_id)
    .bind(window.first_ms)
    .fetch_all(db)
    .await?;
    let keys = dense_series(
        window,
        rows.iter()
            .map(|(start, key, _, n)| (*start, format!("{key}…"), *n)),
    );
    let apis = dense_series(
        window,
        rows.into_iter().map(|(start, _, api, n)| (start, api, n)),
    );
    Ok(Chart {
        granularity: g.as_str(),
        buckets: window.starts().into_iter().map(|ms| ms / 1000).collect(),
        keys,
        apis,
    })
}

/// The hourly and daily charts of a consumer.
pub async fn usage_data(
    ledger: &Ledger,
    consumer_id: &str,
    now: i64,
) -> Result<UsageData, sqlx::Error> {
    crate::usage::fold::catch_up(ledger).await?;
    let db = ledger.db();
    Ok(UsageData {
        hour: chart(db, consumer_id, Granularity::Hour, HOURS, now).await?,
        day: chart(db, consumer_id, Granularity::Day, DAYS, now).await?,
    })
}

/// Quota bars of the consumer's live subscriptions whose plan has a quota.
async fn quota_bars(db: &Db, consumer_id: &str, now: i64) -> Result<Vec<QuotaBar>, PortalError> {
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT s.api_id, a.name, p.name, p.quota_json, s.ends_at, s.canceled_at FROM subscriptions s \
         JOIN apis a ON a.id = s.api_id JOIN plans p ON p.id = s.plan_id WHERE s.consumer_id = $1 ORDER BY a.name, s.id",
    )
    .bind(consumer_id)
    .fetch_all(db)
    .await?;
    let mut bars = Vec::new();
    for (api_id, api_name, plan_name, quota, ends, canceled) in rows {
        let live = ends.is_none_or(|e| e > now) && canceled.is_none_or(|c| c > now);
        let Some(quota) = quota.filter(|_| live) else {
            continue;
        };
        // A quota the origin stored is valid; one that no longer parses shows no bar.
        let Ok(quota) = serde_json::from_str::<Quota>(&quota) else {
            continue;
        };
        let Ok(Algorithm::Quota {
            requests,
            period,
            anchor_ms,
            ..
        }) = quota_algorithm(&quota)
        else {
            continue;
        };
        let (start, end) = period_bounds(period, anchor_ms, now);
        // SUM of BIGINT is NUMERIC on PostgreSQL; the cast keeps it an integer on both.
        let (used,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(billable), 0) AS BIGINT) FROM usage_rollups \
             WHERE granularity = 'hour' AND consumer_id = $1 AND api_id = $2 AND bucket_start >= $3 AND bucket_start < $4",
        )
        .bind(consumer_id)
        .bind(&api_id)
        .bind(start - start.rem_euclid(Granularity::Hour.width_ms()))
        .bind(end)
        .fetch_one(db)
        .await?;
        let limit = i64::try_from(requests).unwrap_or(i64::MAX);
        bars.push(QuotaBar {
            api_name,
            plan_name,
            used,
            limit,
            percent: percent_used(used, limit),
            period: format!("{period:?}").to_lowercase(),
            resets_at: format_rfc3339(end),
        });
    }
    Ok(bars)
}

#[derive(Template)]
#[template(path = "usage.html")]
struct UsagePage {
    chrome: Chrome,
    quotas: Vec<QuotaBar>,
    hour_total: i64,
    day_total: i64,
    tables: Vec<Table>,
}

/// `GET /portal/usage`.
pub async fn usage_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let user = session.user()?;
    let now = now_ms();
    let data = usage_data(&state.ledger, &user.consumer_id, now).await?;
    let tables = vec![
        table("Requests per day and key", &data.day, &data.day.keys),
        table("Requests per day and API", &data.day, &data.day.apis),
        table("Requests per hour and key", &data.hour, &data.hour.keys),
        table("Requests per hour and API", &data.hour, &data.hour.apis),
    ];
    let html = render(&UsagePage {
        chrome: session.chrome(),
        quotas: quota_bars(&state.db, &user.consumer_id, now).await?,
        hour_total: data.hour.total(),
        day_total: data.day.total(),
        tables,
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

/// `GET /portal/usage.json`: the charts' data for the signed-in developer (401 otherwise).
pub async fn usage_json(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let session = session::current(&state.db, &headers).await?;
    let Some(user) = session.and_then(|s| s.user) else {
        let body = HashMap::from([("detail", "Log in to the portal to see your usage.")]);
        return Ok((StatusCode::UNAUTHORIZED, Json(body)).into_response());
    };
    let data = usage_data(&state.ledger, &user.consumer_id, now_ms()).await?;
    Ok(Json(data).into_response())
}
