//! Usage per consumer for the current billing period (the calendar month, UTC). The
//! counts come from the hourly aggregates of the usage ledger (`usage_rollups`).

use crate::admin::fields::Table;
use crate::clock::{calendar_month, format_rfc3339, now_ms};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::Query;
use crate::routes::AppState;
use crate::tenancy::scope::visible;
use crate::tenancy::Actor;
use axum::extract::State;
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::ConsumerId;
use utoipa::{IntoParams, ToSchema};

/// Query of `GET /admin/v1/usage`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UsageQuery {
    /// The consumer to report on (required).
    #[param(required = true, min_length = 1)]
    pub consumer_id: Option<String>,
}

/// A consumer's usage in the current billing period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    #[schema(value_type = String)]
    pub consumer_id: ConsumerId,
    /// First instant of the period (RFC 3339, inclusive).
    pub period_start: String,
    /// First instant after the period (RFC 3339, exclusive).
    pub period_end: String,
    /// Requests billed to the consumer in the period, over all its keys.
    pub billable_requests: u64,
}

/// Reports a consumer's usage this billing period.
#[utoipa::path(
    get,
    path = "/admin/v1/usage",
    tag = "usage",
    params(UsageQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Usage this period", body = Usage),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No consumer has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`consumer_id` is missing", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_usage(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(query): Query<UsageQuery>,
) -> Result<axum::Json<Usage>, AppError> {
    let consumer_id = query
        .consumer_id
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| AppError::invalid("consumer_id", "query parameter is required"))?;
    if !visible(&state.db, Table::Consumers, &consumer_id, &actor).await? {
        return Err(AppError::NotFound {
            what: "consumer",
            id: consumer_id,
        });
    }
    let (start, end) = calendar_month(now_ms());
    crate::usage::fold::catch_up(&state.ledger).await?;
    // SUM of BIGINT is NUMERIC on PostgreSQL; the cast keeps the result an integer on both.
    let (billable,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(billable), 0) AS BIGINT) FROM usage_rollups \
         WHERE granularity = $1 AND consumer_id = $2 AND bucket_start >= $3 AND bucket_start < $4",
    )
    .bind("hour")
    .bind(&consumer_id)
    .bind(start)
    .bind(end)
    .fetch_one(&state.db)
    .await?;
    Ok(axum::Json(Usage {
        consumer_id: ConsumerId(consumer_id),
        period_start: format_rfc3339(start),
        period_end: format_rfc3339(end),
        billable_requests: u64::try_from(billable).unwrap_or(0),
    }))
}
