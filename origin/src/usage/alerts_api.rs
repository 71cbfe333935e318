//! `GET /admin/v1/usage/alerts`: the quota alerts fired from the ledger (80 % and 100 %
//! of a plan's quota per key and period), newest first. Tenant-scoped like every list.

use super::alerts::{list_alerts, QuotaAlert};
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
use utoipa::{IntoParams, ToSchema};

/// Most alerts one answer lists.
pub const MAX_LIMIT: i64 = 1_000;

/// Query of `GET /admin/v1/usage/alerts`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AlertQuery {
    pub consumer_id: Option<String>,
    /// How many, newest first (1..=1000, default 100).
    pub limit: Option<i64>,
}

/// The answer of `GET /admin/v1/usage/alerts`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Alerts {
    pub alerts: Vec<QuotaAlert>,
}

/// Lists quota alerts.
#[utoipa::path(
    get,
    path = "/admin/v1/usage/alerts",
    tag = "usage",
    params(AlertQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Alerts, newest first", body = Alerts),
        (status = 400, description = "Unreadable query", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No consumer has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is invalid", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_alerts(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Alerts>, AppError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
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
    let alerts = list_alerts(
        &state.ledger,
        q.consumer_id.as_deref(),
        actor.org_id(),
        limit,
    )
    .await?;
    Ok(Json(Alerts { alerts }))
}
