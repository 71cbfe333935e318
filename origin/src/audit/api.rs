//! `GET /admin/v1/audit`: page through the audit log, oldest first.

use super::verify::{AuditRow, SELECT_ENTRIES};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause};
use crate::tenancy::Actor;
use axum::extract::{Query, State};
use axum::Extension;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1_000;

/// Which page to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Return entries with `seq` greater than this (0 or absent: from the start).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub after: Option<String>,
    /// Entries per page, 1–1000 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

/// A page of entries and where the next one starts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

/// Pages through the audit log.
#[utoipa::path(
    get,
    path = "/admin/v1/audit",
    tag = "audit",
    params(AuditQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of entries, oldest first", body = AuditPage),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`after` or `limit` out of range (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_audit(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<AuditPage>, AppError> {
    let Query(query) = query.map_err(|e| {
        AppError::invalid("query", format!("{e}; use `after` and `limit` as integers"))
    })?;
    let int = |field: &str, raw: Option<String>| -> Result<Option<i64>, AppError> {
        raw.map(|r| {
            r.trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid(field, "must be an integer"))
        })
        .transpose()
    };
    let after = int("after", query.after)?.unwrap_or(0);
    if after < 0 {
        return Err(AppError::invalid(
            "after",
            "must be 0 or a positive entry number",
        ));
    }
    let limit = int("limit", query.limit)?.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    // An organisation reads its own entries; the platform operator reads the whole chain.
    let (clause, org) = org_clause(&actor, "org_id", 3);
    let sql = format!("{SELECT_ENTRIES} WHERE seq > $1{clause} ORDER BY seq LIMIT $2");
    let query = bind_org(sqlx::query_as(&sql).bind(after).bind(limit + 1), org);
    let rows: Vec<AuditRow> = query.fetch_all(&state.db).await?;
    let more = rows.len() as i64 > limit;
    let entries: Vec<AuditEntryView> = rows
        .into_iter()
        .take(limit as usize)
        .map(AuditRow::into_view)
        .collect();
    let next_after = if more {
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(axum::Json(AuditPage {
        entries,
        next_after,
    }))
}
