//! Building a consumer's draft invoice for a period: each subscription split into plan
//! segments (plan changes), each segment's billable usage summed over its chargeable window
//! (after any trial) — whole hours from the hourly `usage_rollups`, partial hours from the
//! ledger — rated by the core, lines stored in order.

use super::history::{changes, segments};
use super::pricing::price_model;
use crate::admin::plan_price::PriceColumns;
use crate::admin::subscription_rows::{SubscriptionRow, SELECT_SUBSCRIPTIONS};
use crate::error::AppError;
use sqlx::AnyConnection;
use tollgate_core::rating::{rate, Coverage, Period};
use tollgate_core::usage::cover::cover;

/// A rated line with where it came from.
pub struct RatedLine {
    pub subscription_id: String,
    pub api_id: String,
    pub plan_id: String,
    pub item: tollgate_core::rating::LineItem,
}

/// The lines and currency of a consumer's invoice for `period`.
pub struct Rated {
    pub currency: Option<String>,
    pub lines: Vec<RatedLine>,
}

type PlanPriceRow = (
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

async fn plan_model(
    conn: &mut AnyConnection,
    plan_id: &str,
) -> Result<Option<tollgate_core::rating::PriceModel>, AppError> {
    let row: Option<PlanPriceRow> = sqlx::query_as(
        "SELECT name, price_currency, price_amount_minor, price_interval, unit_price_minor, unit_size, \
         included_units, price_extra_json FROM plans WHERE id = $1",
    )
    .bind(plan_id)
    .fetch_optional(conn)
    .await?;
    let Some((name, currency, amount, interval, unit_price, unit_size, included, extra)) = row
    else {
        return Ok(None);
    };
    let price = PriceColumns {
        currency,
        amount_minor: amount,
        interval,
        unit_price_minor: unit_price,
        unit_size,
        included_units: included,
        extra_json: extra,
    }
    .price();
    price.map(|p| price_model(&p, &name)).transpose()
}

async fn usage_in(
    conn: &mut AnyConnection,
    consumer_id: &str,
    api_id: &str,
    (from, to): (i64, i64),
) -> Result<u64, AppError> {
    // Whole hours and minutes from the roll-ups; the edges under a minute (a subscription
    // starting or a plan changing mid-minute) from the ledger itself, so no call is
    // dropped or counted in two segments.
    let mut total: i64 = 0;
    for piece in cover(from, to) {
        let sql = match piece.granularity {
            // SUM of BIGINT is NUMERIC on PostgreSQL; the cast keeps the result an integer.
            Some(g) => format!(
                "SELECT CAST(COALESCE(SUM(billable), 0) AS BIGINT) FROM usage_rollups \
                 WHERE granularity = '{}' AND consumer_id = $1 AND api_id = $2 \
                 AND bucket_start >= $3 AND bucket_start < $4",
                g.as_str()
            ),
            None => "SELECT COUNT(*) FROM usage_events WHERE consumer_id = $1 AND api_id = $2 \
                     AND billable = 1 AND time_ms >= $3 AND time_ms < $4"
                .to_owned(),
        };
        let (n,): (i64,) = sqlx::query_as(&sql)
            .bind(consumer_id)
            .bind(api_id)
            .bind(piece.from)
            .bind(piece.to)
            .fetch_one(&mut *conn)
            .await?;
        total = total.saturating_add(n);
    }
    Ok(u64::try_from(total).unwrap_or(0))
}

/// Rates every subscription of `consumer_id` that overlaps `period`.
pub async fn rate_consumer(
    conn: &mut AnyConnection,
    consumer_id: &str,
    period: Period,
) -> Result<Rated, AppError> {
    let subs: Vec<SubscriptionRow> = sqlx::query_as(&format!(
        "{SELECT_SUBSCRIPTIONS} WHERE s.consumer_id = $1 AND s.started_at < $2 ORDER BY s.started_at, s.id"
    ))
    .bind(consumer_id)
    .bind(period.end_ms)
    .fetch_all(&mut *conn)
    .await?;
    let mut rated = Rated {
        currency: None,
        lines: Vec::new(),
    };
    for sub in subs {
        let end = sub.times().effective_end().unwrap_or(i64::MAX);
        if end <= period.start_ms {
            continue;
        }
        let history = changes(&mut *conn, &sub.id).await?;
        for segment in segments(&sub.plan_id, sub.started_at, end, &history) {
            let Some(model) = plan_model(&mut *conn, &segment.plan_id).await? else {
                continue;
            };
            let coverage = Coverage {
                from_ms: segment.from_ms,
                to_ms: segment.to_ms,
                trial_ends_at_ms: sub.trial_ends_at,
            };
            let window = coverage.chargeable(period);
            let usage = usage_in(&mut *conn, consumer_id, &sub.api_id, window).await?;
            let items = rate(usage, &model, period, &coverage).map_err(|e| {
                AppError::Conflict(format!("plan `{}` cannot be rated: {e}", segment.plan_id))
            })?;
            if !items.is_empty() {
                match &rated.currency {
                    None => rated.currency = Some(model.currency.code.clone()),
                    Some(c) if *c != model.currency.code => {
                        return Err(AppError::Conflict(format!(
                            "the consumer's plans charge in {c} and {}; one invoice has one currency",
                            model.currency.code
                        )))
                    }
                    Some(_) => {}
                }
            }
            rated.lines.extend(items.into_iter().map(|item| RatedLine {
                subscription_id: sub.id.clone(),
                api_id: sub.api_id.clone(),
                plan_id: segment.plan_id.clone(),
                item,
            }));
        }
    }
    Ok(rated)
}
