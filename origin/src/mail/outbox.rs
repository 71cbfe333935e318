//! Reading the outbox: `GET /admin/v1/mail/outbox` (platform operator only: the mails
//! carry sign-in links) and the `tollgate mail outbox` command, newest first.

use crate::clock::format_rfc3339;
use crate::core_schemas::ProblemDoc;
use crate::db::Db;
use crate::error::AppError;
use crate::routes::AppState;
use crate::tenancy::Actor;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use tollgate_core::portal_account::normalise_email;
use utoipa::{IntoParams, ToSchema};

/// Mails per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: i64 = 50;
/// The most mails one page shows.
pub const MAX_LIMIT: i64 = 500;

/// Which mails to show.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only mails to this address (case-insensitive).
    pub to: Option<String>,
    /// How many, 1–500 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

/// One mail in the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    /// The text; `null` once an SMTP server accepted the mail (its links are secrets).
    pub body: Option<String>,
    /// `outbox` (no SMTP configured), `sending`, `sent` or `failed`.
    pub status: String,
    /// Why SMTP delivery failed.
    pub error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when an SMTP server accepted it.
    pub sent_at: Option<String>,
}

/// The newest mails.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxPage {
    pub mails: Vec<OutboxMail>,
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
    Option<i64>,
);

/// The newest `limit` mails, to `to` when given.
pub async fn list(db: &Db, to: Option<&str>, limit: i64) -> Result<Vec<OutboxMail>, sqlx::Error> {
    let columns =
        "SELECT id, to_addr, subject, body, status, error, created_at, sent_at FROM mail_outbox";
    let rows: Vec<Row> = match to {
        Some(to) => {
            sqlx::query_as(&format!(
                "{columns} WHERE LOWER(to_addr) = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
            ))
            .bind(normalise_email(to))
            .bind(limit)
            .fetch_all(db)
            .await?
        }
        None => {
            sqlx::query_as(&format!(
                "{columns} ORDER BY created_at DESC, id DESC LIMIT $1"
            ))
            .bind(limit)
            .fetch_all(db)
            .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(
            |(id, to, subject, body, status, error, created_at, sent_at)| OutboxMail {
                id,
                to,
                subject,
                body,
                status,
                error,
                created_at: format_rfc3339(created_at),
                sent_at: sent_at.map(format_rfc3339),
            },
        )
        .collect())
}

/// Lists the mail outbox.
#[utoipa::path(
    get,
    path = "/admin/v1/mail/outbox",
    tag = "mail",
    params(OutboxQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The newest mails first", body = OutboxPage),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Only the platform operator reads the outbox", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`limit` out of range", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_outbox(
    State(state): State<AppState>,
    Extension(_actor): Extension<Actor>,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<OutboxPage>, AppError> {
    let Query(query) =
        query.map_err(|e| AppError::invalid("query", format!("{e}; use `to` and `limit`")))?;
    let limit = match query.limit.as_deref().map(str::trim) {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::invalid("limit", format!("must be an integer from 1 to {MAX_LIMIT}"))
            })?,
    };
    let to = query.to.as_deref().map(str::trim).filter(|t| !t.is_empty());
    Ok(Json(OutboxPage {
        mails: list(&state.db, to, limit).await?,
    }))
}

/// The outbox's admin route (platform-only: `mail` is not in the RBAC map).
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/admin/v1/mail/outbox", axum::routing::get(list_outbox))
}
