//! The admin API of invoices: generate, list, show, the life-cycle actions, credit notes
//! and the printable HTML. Every write is audited inside its transaction.

use super::generate::rate_consumer;
use super::store::{self, Invoice, InvoiceRow};
use crate::admin::cache::object_body;
use crate::admin::fields::{self, Table};
use crate::audit::{self, Actor};
use crate::clock::{calendar_month, now_ms, parse_rfc3339};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path, Query};
use crate::ids::prefixed_id;
use crate::routes::AppState;
use crate::tenancy::scope::visible;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::Extension;
use serde::Deserialize;
use sqlx::AnyConnection;
use tollgate_core::invoice::{check_credit, transition, InvoiceAction, InvoiceStatus};
use tollgate_core::rating::{LineKind, Period};
use utoipa::{IntoParams, ToSchema};

/// Body of `POST /admin/v1/invoices/generate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateInvoice {
    #[schema(min_length = 1)]
    pub consumer_id: String,
    /// Any instant (RFC 3339) of the month to invoice; default: the current month.
    #[serde(default)]
    pub period_start: Option<String>,
}

/// Body of `POST /admin/v1/invoices/{id}/credit-notes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCreditNote {
    /// At most what remains to credit, in minor units.
    #[schema(minimum = 1)]
    pub amount_minor: i64,
    #[schema(min_length = 1, max_length = 200)]
    pub reason: String,
}

/// Query of `GET /admin/v1/invoices`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct InvoiceQuery {
    /// Only this consumer's invoices.
    pub consumer_id: Option<String>,
}

fn kind_name(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Flat => "flat",
        LineKind::Usage => "usage",
        LineKind::Minimum => "minimum",
        LineKind::Trial => "trial",
    }
}

async fn load(conn: &mut AnyConnection, id: &str) -> Result<InvoiceRow, AppError> {
    store::load(conn, id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "invoice",
            id: id.to_owned(),
        })
}

async fn audited(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: i64,
    action: &'static str,
    before: Option<&Invoice>,
    after: &Invoice,
) -> Result<(), AppError> {
    let change = audit::Change {
        action,
        target_type: "invoice",
        target_id: &after.id,
        before: before.and_then(audit::snapshot_of),
        after: audit::snapshot_of(after),
    };
    audit::record(conn, actor, now, change).await?;
    Ok(())
}

/// Creates or refreshes the draft invoice of a consumer for a month from its usage and
/// subscriptions. Idempotent: the same usage gives the same lines.
#[utoipa::path(
    post,
    path = "/admin/v1/invoices/generate",
    tag = "invoices",
    request_body = GenerateInvoice,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The draft invoice", body = Invoice),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No consumer has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The period's invoice is no longer a draft, or plans mix currencies", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn generate_invoice(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<serde_json::Value>,
) -> Result<axum::Json<Invoice>, AppError> {
    let body: GenerateInvoice = object_body(body)?;
    let consumer_id = fields::text("consumer_id", &body.consumer_id)?;
    let now = now_ms();
    let at = match body.period_start.as_deref() {
        None => now,
        Some(text) => parse_rfc3339(text).ok_or_else(|| {
            AppError::invalid(
                "period_start",
                "must be an RFC 3339 time like `2026-11-01T00:00:00Z`",
            )
        })?,
    };
    let (start, end) = calendar_month(at);
    if !visible(&state.db, Table::Consumers, &consumer_id, &actor).await? {
        return Err(AppError::NotFound {
            what: "consumer",
            id: consumer_id,
        });
    }
    crate::usage::fold::catch_up(&state.ledger).await?;
    let mut tx = crate::db::begin(&state.db).await?;
    let existing = store::find(&mut tx, &consumer_id, start).await?;
    if let Some(row) = &existing {
        transition(row.status(), InvoiceAction::Regenerate).map_err(|e| AppError::Conflict(e.0))?;
    }
    let rated = rate_consumer(
        &mut tx,
        &consumer_id,
        Period {
            start_ms: start,
            end_ms: end,
        },
    )
    .await?;
    let subtotal = rated
        .lines
        .iter()
        .try_fold(0i64, |sum, l| sum.checked_add(l.item.amount_minor))
        .ok_or_else(|| {
            AppError::Conflict("the invoice total exceeds the largest representable sum".into())
        })?;
    let currency = rated.currency.unwrap_or_else(|| "XXX".to_owned());
    let before = match &existing {
        Some(row) => Some(store::view(&mut tx, row).await?),
        None => None,
    };
    let id = match &existing {
        Some(row) => {
            sqlx::query("DELETE FROM invoice_lines WHERE invoice_id = $1")
                .bind(&row.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE invoices SET currency = $1, subtotal_minor = $2, updated_at = $3 WHERE id = $4")
                .bind(&currency)
                .bind(subtotal)
                .bind(now)
                .bind(&row.id)
                .execute(&mut *tx)
                .await?;
            row.id.clone()
        }
        None => {
            let id = prefixed_id("inv");
            let (org,): (Option<String>,) =
                sqlx::query_as("SELECT org_id FROM consumers WHERE id = $1")
                    .bind(&consumer_id)
                    .fetch_one(&mut *tx)
                    .await?;
            sqlx::query(
                "INSERT INTO invoices (id, consumer_id, org_id, period_start, period_end, currency, status, \
                 subtotal_minor, credited_minor, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, 0, $8, $8)",
            )
            .bind(&id)
            .bind(&consumer_id)
            .bind(org)
            .bind(start)
            .bind(end)
            .bind(&currency)
            .bind(subtotal)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if fields::is_unique_violation(&e) {
                    AppError::Conflict("this invoice is being generated by another request; retry".into())
                } else {
                    e.into()
                }
            })?;
            id
        }
    };
    for (position, line) in rated.lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO invoice_lines (invoice_id, position, subscription_id, api_id, plan_id, kind, quantity, \
             unit_price_minor, unit_per, amount_minor, explanation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(position as i64)
        .bind(&line.subscription_id)
        .bind(&line.api_id)
        .bind(&line.plan_id)
        .bind(kind_name(line.item.kind))
        .bind(i64::try_from(line.item.quantity).unwrap_or(i64::MAX))
        .bind(line.item.unit_price_minor)
        .bind(i64::try_from(line.item.unit_per).unwrap_or(i64::MAX))
        .bind(line.item.amount_minor)
        .bind(&line.item.explanation)
        .execute(&mut *tx)
        .await?;
    }
    let row = load(&mut tx, &id).await?;
    let after = store::view(&mut tx, &row).await?;
    audited(
        &mut tx,
        &actor,
        now,
        "invoice.generate",
        before.as_ref(),
        &after,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(invoice_id = %id, consumer_id = %consumer_id, subtotal, "invoice draft generated");
    Ok(axum::Json(after))
}

/// Lists invoices, newest period first (of one consumer with `consumer_id`).
#[utoipa::path(
    get,
    path = "/admin/v1/invoices",
    tag = "invoices",
    params(InvoiceQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Invoices", body = [Invoice]),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No consumer has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_invoices(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(query): Query<InvoiceQuery>,
) -> Result<axum::Json<Vec<Invoice>>, AppError> {
    let consumer = query.consumer_id.filter(|c| !c.is_empty());
    if let Some(c) = &consumer {
        if !visible(&state.db, Table::Consumers, c, &actor).await? {
            return Err(AppError::NotFound {
                what: "consumer",
                id: c.clone(),
            });
        }
    }
    let mut conn = state.db.acquire().await?;
    let rows = store::list(&mut conn, consumer.as_deref(), actor.org_id()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(store::view(&mut conn, row).await?);
    }
    Ok(axum::Json(out))
}

/// Shows one invoice with its lines and credit notes.
#[utoipa::path(
    get,
    path = "/admin/v1/invoices/{id}",
    tag = "invoices",
    params(("id" = String, Path, description = "Invoice id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The invoice", body = Invoice),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No invoice has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_invoice(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Invoice>, AppError> {
    let mut conn = state.db.acquire().await?;
    let row = load(&mut conn, &id).await?;
    Ok(axum::Json(store::view(&mut conn, &row).await?))
}

/// Moves invoice `id` through the life cycle by `action` inside `conn`'s transaction,
/// audited as `actor`; the one path for the admin actions and provider events alike.
pub(crate) async fn apply_action(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    action: InvoiceAction,
    now: i64,
) -> Result<Invoice, AppError> {
    let row = load(conn, id).await?;
    let next = transition(row.status(), action).map_err(|e| AppError::Conflict(e.0))?;
    let before = store::view(conn, &row).await?;
    let (column, name) = match next {
        InvoiceStatus::Finalized => ("finalized_at", "invoice.finalize"),
        InvoiceStatus::Paid => ("paid_at", "invoice.pay"),
        _ => ("voided_at", "invoice.void"),
    };
    sqlx::query(&format!(
        "UPDATE invoices SET status = $1, {column} = $2, updated_at = $2 WHERE id = $3"
    ))
    .bind(next.as_str())
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let row = load(conn, id).await?;
    let after = store::view(conn, &row).await?;
    audited(conn, actor, now, name, Some(&before), &after).await?;
    Ok(after)
}

async fn advance(
    state: &AppState,
    actor: &Actor,
    id: &str,
    action: InvoiceAction,
) -> Result<axum::Json<Invoice>, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let after = apply_action(&mut tx, actor, id, action, now).await?;
    tx.commit().await?;
    // A finalized invoice goes to the payment provider, if one is configured. It is
    // already committed: a provider failure is recorded on it, never undoes it.
    if action == InvoiceAction::Finalize && state.payments.adapter().is_some() {
        match crate::payments::sync::sync_invoice(state, actor, id).await {
            Ok(synced) => return Ok(axum::Json(synced)),
            // The finalization stands; `POST …/sync` retries the send.
            Err(e) => {
                tracing::warn!(invoice_id = %id, error = %e, "not sent to the payment provider")
            }
        }
    }
    Ok(axum::Json(after))
}

macro_rules! life_cycle {
    ($name:ident, $path:literal, $action:expr, $doc:literal, $conflict:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post,
            path = $path,
            tag = "invoices",
            params(("id" = String, Path, description = "Invoice id")),
            security(("admin_token" = [])),
            responses(
                (status = 200, description = "The invoice after the action", body = Invoice),
                (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
                (status = 404, description = "No invoice has this id", body = ProblemDoc, content_type = "application/problem+json"),
                (status = 409, description = $conflict, body = ProblemDoc, content_type = "application/problem+json"),
            )
        )]
        pub async fn $name(
            State(state): State<AppState>,
            Extension(actor): Extension<Actor>,
            Path(id): Path<String>,
        ) -> Result<axum::Json<Invoice>, AppError> {
            advance(&state, &actor, &id, $action).await
        }
    };
}

life_cycle!(
    finalize_invoice,
    "/admin/v1/invoices/{id}/finalize",
    InvoiceAction::Finalize,
    "Finalizes a draft: from now on it never changes. With a payment provider configured it is then sent there (see `payment` in the answer).",
    "The invoice is not a draft"
);
life_cycle!(
    pay_invoice,
    "/admin/v1/invoices/{id}/pay",
    InvoiceAction::Pay,
    "Records the payment of a finalized invoice.",
    "The invoice is not finalized"
);
life_cycle!(
    void_invoice,
    "/admin/v1/invoices/{id}/void",
    InvoiceAction::Void,
    "Voids a draft or finalized invoice.",
    "The invoice is paid or already void"
);

/// Issues a credit note against a finalized or paid invoice, at most what remains.
#[utoipa::path(
    post,
    path = "/admin/v1/invoices/{id}/credit-notes",
    tag = "invoices",
    params(("id" = String, Path, description = "Invoice id")),
    request_body = NewCreditNote,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "The invoice with the new credit note", body = Invoice),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No invoice has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "A draft or void invoice, or more than remains to credit", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_credit_note(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<(StatusCode, axum::Json<Invoice>), AppError> {
    let body: NewCreditNote = object_body(body)?;
    let reason = fields::text("reason", &body.reason)?;
    if body.amount_minor <= 0 {
        return Err(AppError::invalid("amount_minor", "must be at least 1"));
    }
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let row = load(&mut tx, &id).await?;
    transition(row.status(), InvoiceAction::Credit).map_err(|e| AppError::Conflict(e.0))?;
    check_credit(row.subtotal_minor, row.credited_minor, body.amount_minor)
        .map_err(|e| AppError::Conflict(e.0))?;
    let before = store::view(&mut tx, &row).await?;
    sqlx::query("INSERT INTO credit_notes (id, invoice_id, amount_minor, reason, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(prefixed_id("cn"))
        .bind(&id)
        .bind(body.amount_minor)
        .bind(&reason)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE invoices SET credited_minor = credited_minor + $1, updated_at = $2 WHERE id = $3",
    )
    .bind(body.amount_minor)
    .bind(now)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    let row = load(&mut tx, &id).await?;
    let after = store::view(&mut tx, &row).await?;
    audited(
        &mut tx,
        &actor,
        now,
        "invoice.credit",
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(after)))
}

/// The invoice as a printable HTML page.
#[utoipa::path(
    get,
    path = "/admin/v1/invoices/{id}/html",
    tag = "invoices",
    params(("id" = String, Path, description = "Invoice id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Printable invoice", body = String, content_type = "text/html"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No invoice has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn invoice_html(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    let row = load(&mut conn, &id).await?;
    let invoice = store::view(&mut conn, &row).await?;
    let (name, email): (String, String) =
        sqlx::query_as("SELECT name, email FROM consumers WHERE id = $1")
            .bind(&row.consumer_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Html(super::html::render(&invoice, &name, &email)))
}

/// The invoice routes, merged into the admin router (behind its authentication and access check).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/admin/v1/invoices", get(list_invoices))
        .route("/admin/v1/invoices/generate", post(generate_invoice))
        .route("/admin/v1/invoices/{id}", get(get_invoice))
        .route("/admin/v1/invoices/{id}/finalize", post(finalize_invoice))
        .route("/admin/v1/invoices/{id}/pay", post(pay_invoice))
        .route("/admin/v1/invoices/{id}/void", post(void_invoice))
        .route(
            "/admin/v1/invoices/{id}/credit-notes",
            post(create_credit_note),
        )
        .route("/admin/v1/invoices/{id}/html", get(invoice_html))
}
