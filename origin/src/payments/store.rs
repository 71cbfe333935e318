//! The payment rows: customer mappings, each invoice's sync progress and state, and the
//! view of it shown on the invoice.

use crate::clock::format_rfc3339;
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tollgate_core::payment::SyncState;
use utoipa::ToSchema;

/// How an invoice stands with the payment provider (absent when never sent).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaymentSync {
    /// `stripe`.
    pub provider: String,
    /// `pending`, `synced`, `failed` or `skipped` (nothing priced).
    #[schema(pattern = "^(pending|synced|failed|skipped)$")]
    pub sync_state: String,
    pub provider_customer_id: Option<String>,
    pub provider_invoice_id: Option<String>,
    /// Why the last attempt failed; retry with `POST /admin/v1/invoices/{id}/sync`.
    pub last_error: Option<String>,
    pub attempts: i64,
    pub synced_at: Option<String>,
    /// The last failed payment attempt the provider reported.
    pub payment_error: Option<String>,
    pub payment_failed_at: Option<String>,
    pub updated_at: String,
}

/// A stored sync row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SyncRow {
    pub invoice_id: String,
    pub provider: String,
    pub provider_customer_id: Option<String>,
    pub provider_invoice_id: Option<String>,
    pub lines_pushed: i64,
    pub sync_state: String,
    pub last_error: Option<String>,
    pub attempts: i64,
    pub synced_at: Option<i64>,
    pub payment_error: Option<String>,
    pub payment_failed_at: Option<i64>,
    pub updated_at: i64,
}

impl SyncRow {
    /// Its state (an unknown stored name reads as failed, which allows a retry).
    pub fn state(&self) -> SyncState {
        SyncState::parse(&self.sync_state).unwrap_or(SyncState::Failed)
    }
}

/// The sync row of `invoice_id`, if it was ever sent.
pub async fn load(conn: &mut AnyConnection, invoice_id: &str) -> Result<Option<SyncRow>, AppError> {
    Ok(sqlx::query_as(
        "SELECT invoice_id, provider, provider_customer_id, provider_invoice_id, lines_pushed, sync_state, \
         last_error, attempts, synced_at, payment_error, payment_failed_at, updated_at \
         FROM invoice_payments WHERE invoice_id = $1",
    )
    .bind(invoice_id)
    .fetch_optional(conn)
    .await?)
}

/// Our invoice whose provider invoice is `provider_invoice_id`.
pub async fn invoice_of(
    conn: &mut AnyConnection,
    provider: &str,
    provider_invoice_id: &str,
) -> Result<Option<String>, AppError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT invoice_id FROM invoice_payments WHERE provider = $1 AND provider_invoice_id = $2",
    )
    .bind(provider)
    .bind(provider_invoice_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.0))
}

/// The view of a sync row.
pub fn view(row: &SyncRow) -> PaymentSync {
    PaymentSync {
        provider: row.provider.clone(),
        sync_state: row.sync_state.clone(),
        provider_customer_id: row.provider_customer_id.clone(),
        provider_invoice_id: row.provider_invoice_id.clone(),
        last_error: row.last_error.clone(),
        attempts: row.attempts,
        synced_at: row.synced_at.map(format_rfc3339),
        payment_error: row.payment_error.clone(),
        payment_failed_at: row.payment_failed_at.map(format_rfc3339),
        updated_at: format_rfc3339(row.updated_at),
    }
}

/// The provider customer of a consumer, if one was created.
pub async fn customer(
    conn: &mut AnyConnection,
    consumer_id: &str,
    provider: &str,
) -> Result<Option<String>, AppError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT provider_customer_id FROM payment_customers WHERE consumer_id = $1 AND provider = $2",
    )
    .bind(consumer_id)
    .bind(provider)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Remembers the provider customer of a consumer (the first one stored wins).
pub async fn save_customer(
    conn: &mut AnyConnection,
    consumer_id: &str,
    provider: &str,
    provider_customer_id: &str,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO payment_customers (consumer_id, provider, provider_customer_id, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (consumer_id, provider) DO NOTHING",
    )
    .bind(consumer_id)
    .bind(provider)
    .bind(provider_customer_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Starts an attempt: the state becomes `state`, the attempt is counted.
pub async fn start_attempt(
    conn: &mut AnyConnection,
    invoice_id: &str,
    provider: &str,
    state: SyncState,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO invoice_payments (invoice_id, provider, lines_pushed, sync_state, attempts, updated_at) \
         VALUES ($1, $2, 0, $3, 1, $4) ON CONFLICT (invoice_id) DO UPDATE SET \
         sync_state = $3, attempts = invoice_payments.attempts + 1, updated_at = $4",
    )
    .bind(invoice_id)
    .bind(provider)
    .bind(state.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records how far a push got, so a retry resumes from there.
pub async fn save_progress(
    conn: &mut AnyConnection,
    row: &SyncRow,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE invoice_payments SET provider_customer_id = $1, provider_invoice_id = $2, \
         lines_pushed = $3, updated_at = $4 WHERE invoice_id = $5",
    )
    .bind(&row.provider_customer_id)
    .bind(&row.provider_invoice_id)
    .bind(row.lines_pushed)
    .bind(now)
    .bind(&row.invoice_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends an attempt as synced (no error) or failed (with why).
pub async fn finish(
    conn: &mut AnyConnection,
    invoice_id: &str,
    error: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    let state = if error.is_some() {
        SyncState::Failed
    } else {
        SyncState::Synced
    };
    let synced_at = error.is_none().then_some(now);
    sqlx::query(
        "UPDATE invoice_payments SET sync_state = $1, last_error = $2, \
         synced_at = COALESCE($3, synced_at), updated_at = $4 WHERE invoice_id = $5",
    )
    .bind(state.as_str())
    .bind(error)
    .bind(synced_at)
    .bind(now)
    .bind(invoice_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed payment attempt reported by the provider.
pub async fn record_payment_failure(
    conn: &mut AnyConnection,
    invoice_id: &str,
    reason: &str,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE invoice_payments SET payment_error = $1, payment_failed_at = $2, updated_at = $2 WHERE invoice_id = $3",
    )
    .bind(reason)
    .bind(now)
    .bind(invoice_id)
    .execute(conn)
    .await?;
    Ok(())
}
