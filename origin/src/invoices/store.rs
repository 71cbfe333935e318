//! Invoices as stored and as the admin API shows them: the invoice with its lines and
//! credit notes, and the look-ups the handlers share.

use crate::clock::format_rfc3339;
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tollgate_core::invoice::InvoiceStatus;
use utoipa::ToSchema;

/// One line of an invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceLine {
    pub subscription_id: Option<String>,
    pub api_id: Option<String>,
    pub plan_id: Option<String>,
    /// `flat`, `usage`, `minimum` or `trial`.
    pub kind: String,
    pub quantity: i64,
    /// Price of `unit_per` units, in minor units.
    pub unit_price_minor: i64,
    pub unit_per: i64,
    pub amount_minor: i64,
    /// How the amount was computed, in plain language.
    pub explanation: String,
}

/// A credit note against a finalized or paid invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreditNote {
    pub id: String,
    pub amount_minor: i64,
    pub reason: String,
    pub created_at: String,
}

/// An invoice of one consumer for one billing period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invoice {
    pub id: String,
    pub consumer_id: String,
    /// RFC 3339, inclusive.
    pub period_start: String,
    /// RFC 3339, exclusive.
    pub period_end: String,
    /// ISO 4217 (`XXX` when nothing is priced).
    pub currency: String,
    /// `draft`, `finalized`, `paid` or `void`.
    #[schema(pattern = "^(draft|finalized|paid|void)$")]
    pub status: String,
    /// Sum of the lines, in minor units.
    pub subtotal_minor: i64,
    /// Sum of the credit notes.
    pub credited_minor: i64,
    /// What is due: subtotal less credits.
    pub total_minor: i64,
    pub created_at: String,
    pub updated_at: String,
    pub finalized_at: Option<String>,
    pub paid_at: Option<String>,
    pub voided_at: Option<String>,
    pub lines: Vec<InvoiceLine>,
    pub credit_notes: Vec<CreditNote>,
    /// How it stands with the payment provider; null when it was never sent.
    pub payment: Option<crate::payments::store::PaymentSync>,
}

/// A stored invoice.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRow {
    pub id: String,
    pub consumer_id: String,
    pub org_id: Option<String>,
    pub period_start: i64,
    pub period_end: i64,
    pub currency: String,
    pub status: String,
    pub subtotal_minor: i64,
    pub credited_minor: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub finalized_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub voided_at: Option<i64>,
}

const SELECT_INVOICES: &str = "SELECT id, consumer_id, org_id, period_start, period_end, currency, status, \
     subtotal_minor, credited_minor, created_at, updated_at, finalized_at, paid_at, voided_at FROM invoices";

impl InvoiceRow {
    /// Its status (a stored name the core does not know reads as void, which allows nothing).
    pub fn status(&self) -> InvoiceStatus {
        InvoiceStatus::parse(&self.status).unwrap_or(InvoiceStatus::Void)
    }
}

/// The invoice `id`, if it exists.
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<InvoiceRow>, AppError> {
    Ok(sqlx::query_as(&format!("{SELECT_INVOICES} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The invoice of `consumer_id` for the period starting at `period_start`, if any.
pub async fn find(
    conn: &mut AnyConnection,
    consumer_id: &str,
    period_start: i64,
) -> Result<Option<InvoiceRow>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT_INVOICES} WHERE consumer_id = $1 AND period_start = $2"
    ))
    .bind(consumer_id)
    .bind(period_start)
    .fetch_optional(conn)
    .await?)
}

/// Invoices of a consumer (or all), scoped to `org` when given, newest period first.
pub async fn list(
    conn: &mut AnyConnection,
    consumer_id: Option<&str>,
    org: Option<&str>,
) -> Result<Vec<InvoiceRow>, AppError> {
    let sql = format!(
        "{SELECT_INVOICES} WHERE ($1 = '' OR consumer_id = $1) AND ($2 = '' OR org_id = $2) \
         ORDER BY period_start DESC, id LIMIT 500"
    );
    Ok(sqlx::query_as(&sql)
        .bind(consumer_id.unwrap_or(""))
        .bind(org.unwrap_or(""))
        .fetch_all(conn)
        .await?)
}

/// The full view of `row`: its lines and credit notes.
pub async fn view(conn: &mut AnyConnection, row: &InvoiceRow) -> Result<Invoice, AppError> {
    type LineRow = (
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        i64,
        i64,
        i64,
        i64,
        String,
    );
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT subscription_id, api_id, plan_id, kind, quantity, unit_price_minor, unit_per, amount_minor, explanation \
         FROM invoice_lines WHERE invoice_id = $1 ORDER BY position",
    )
    .bind(&row.id)
    .fetch_all(&mut *conn)
    .await?;
    let notes: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT id, amount_minor, reason, created_at FROM credit_notes WHERE invoice_id = $1 ORDER BY created_at, id",
    )
    .bind(&row.id)
    .fetch_all(&mut *conn)
    .await?;
    let payment = crate::payments::sync::payment_of(conn, &row.id).await?;
    Ok(Invoice {
        id: row.id.clone(),
        consumer_id: row.consumer_id.clone(),
        period_start: format_rfc3339(row.period_start),
        period_end: format_rfc3339(row.period_end),
        currency: row.currency.clone(),
        status: row.status.clone(),
        subtotal_minor: row.subtotal_minor,
        credited_minor: row.credited_minor,
        total_minor: row.subtotal_minor - row.credited_minor,
        created_at: format_rfc3339(row.created_at),
        updated_at: format_rfc3339(row.updated_at),
        finalized_at: row.finalized_at.map(format_rfc3339),
        paid_at: row.paid_at.map(format_rfc3339),
        voided_at: row.voided_at.map(format_rfc3339),
        lines: lines
            .into_iter()
            .map(|l| InvoiceLine {
                subscription_id: l.0,
                api_id: l.1,
                plan_id: l.2,
                kind: l.3,
                quantity: l.4,
                unit_price_minor: l.5,
                unit_per: l.6,
                amount_minor: l.7,
                explanation: l.8,
            })
            .collect(),
        credit_notes: notes
            .into_iter()
            .map(|n| CreditNote {
                id: n.0,
                amount_minor: n.1,
                reason: n.2,
                created_at: format_rfc3339(n.3),
            })
            .collect(),
        payment,
    })
}
