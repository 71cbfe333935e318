//! Pushing a finalized invoice to the payment provider: the consumer's provider customer
//! (created once, mapping kept), an empty provider invoice, one invoice item per line
//! (plus a negative line for credit notes issued before the push), then finalization.
//!
//! Each step's result is stored before the next starts, and each provider call carries an
//! idempotency key derived from our ids, so a retry after a failure (or a crash) resumes
//! where the last attempt stopped and a repeated request is recognised by the provider.
//! A failure leaves the invoice finalized with sync state `failed` and the reason.

use super::store::{self, SyncRow};
use super::{Customer, NewInvoice, NewLine, PaymentAdapter, ProviderError};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::error::AppError;
use crate::invoices::store::{self as invoices, Invoice, InvoiceRow};
use crate::routes::AppState;
use sqlx::AnyConnection;
use std::sync::Arc;
use tollgate_core::payment::{plan_sync, provider_currency, SyncDecision, SyncState};

/// A `pending` sync younger than this is taken to be running: a second one is refused.
const PENDING_FOR_MS: i64 = 60_000;

/// Sends invoice `id` to the configured provider (or resumes a failed push); answers the
/// invoice with its sync state. 409 when there is no provider or the invoice is not
/// finalized; a provider failure is not an error of this call but a recorded state.
pub async fn sync_invoice(state: &AppState, actor: &Actor, id: &str) -> Result<Invoice, AppError> {
    let adapter = state.payments.adapter().cloned().ok_or_else(|| {
        AppError::Conflict(
            "no payment provider is configured: set TOLLGATE_STRIPE_SECRET_KEY to send invoices to Stripe"
                .into(),
        )
    })?;
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let invoice = invoices::load(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "invoice",
            id: id.to_owned(),
        })?;
    let existing = store::load(&mut tx, id).await?;
    let decision = plan_sync(invoice.status(), existing.as_ref().map(SyncRow::state))
        .map_err(|e| AppError::Conflict(e.0))?;
    if decision == SyncDecision::Done {
        let view = invoices::view(&mut tx, &invoice).await?;
        tx.commit().await?;
        return Ok(view);
    }
    if let Some(row) = &existing {
        if row.state() == SyncState::Pending && now - row.updated_at < PENDING_FOR_MS {
            return Err(AppError::Conflict(
                "this invoice is being sent to the payment provider right now; retry in a minute"
                    .into(),
            ));
        }
    }
    let Some(currency) = provider_currency(&invoice.currency) else {
        store::start_attempt(&mut tx, id, adapter.provider(), SyncState::Skipped, now).await?;
        return finish_audited(tx, actor, &invoice, now).await;
    };
    store::start_attempt(&mut tx, id, adapter.provider(), SyncState::Pending, now).await?;
    let mut row = store::load(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("sync row vanished")))?;
    let (name, email): (String, String) =
        sqlx::query_as("SELECT name, email FROM consumers WHERE id = $1")
            .bind(&invoice.consumer_id)
            .fetch_one(&mut *tx)
            .await?;
    let lines = invoices::view(&mut tx, &invoice).await?;
    tx.commit().await?;

    let push = Push {
        state,
        adapter: &adapter,
        invoice: &invoice,
        view: &lines,
        currency: &currency,
    };
    let outcome = push.run(&mut row, &name, &email).await;
    let error = match outcome {
        Ok(()) => None,
        Err(PushError::Provider(e)) => Some(e.to_string()),
        Err(PushError::Ours(e)) => return Err(e),
    };
    if let Some(reason) = &error {
        tracing::warn!(invoice_id = %id, %reason, "sending the invoice to the payment provider failed");
    }
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    store::finish(&mut tx, id, error.as_deref(), now).await?;
    finish_audited(tx, actor, &invoice, now).await
}

/// Records `invoice.sync` with the invoice as it now stands, commits and answers it.
async fn finish_audited(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    actor: &Actor,
    invoice: &InvoiceRow,
    now: i64,
) -> Result<Invoice, AppError> {
    let after = invoices::view(&mut tx, invoice).await?;
    let change = audit::Change {
        action: "invoice.sync",
        target_type: "invoice",
        target_id: &invoice.id,
        before: None,
        after: audit::snapshot_of(&after),
    };
    audit::record(&mut tx, actor, now, change).await?;
    tx.commit().await?;
    Ok(after)
}

enum PushError {
    Provider(ProviderError),
    Ours(AppError),
}

impl From<ProviderError> for PushError {
    fn from(e: ProviderError) -> PushError {
        PushError::Provider(e)
    }
}

impl From<AppError> for PushError {
    fn from(e: AppError) -> PushError {
        PushError::Ours(e)
    }
}

struct Push<'a> {
    state: &'a AppState,
    adapter: &'a Arc<dyn PaymentAdapter>,
    invoice: &'a InvoiceRow,
    view: &'a Invoice,
    currency: &'a str,
}

impl Push<'_> {
    async fn save(&self, row: &SyncRow) -> Result<(), AppError> {
        let mut conn = self.state.db.acquire().await?;
        store::save_progress(&mut conn, row, now_ms()).await
    }

    async fn customer(&self, name: &str, email: &str) -> Result<String, PushError> {
        let provider = self.adapter.provider();
        let consumer_id = &self.invoice.consumer_id;
        let mut conn = self.state.db.acquire().await.map_err(AppError::from)?;
        if let Some(known) = store::customer(&mut conn, consumer_id, provider).await? {
            return Ok(known);
        }
        drop(conn);
        let created = self
            .adapter
            .ensure_customer(&Customer {
                consumer_id,
                name,
                email,
            })
            .await?;
        let mut conn = self.state.db.acquire().await.map_err(AppError::from)?;
        store::save_customer(&mut conn, consumer_id, provider, &created, now_ms()).await?;
        // The first mapping stored wins, should two pushes have raced.
        Ok(store::customer(&mut conn, consumer_id, provider)
            .await?
            .unwrap_or(created))
    }

    async fn run(&self, row: &mut SyncRow, name: &str, email: &str) -> Result<(), PushError> {
        let id = &self.invoice.id;
        let period_start_secs = self.invoice.period_start / 1000;
        let period_end_secs = self.invoice.period_end / 1000;
        if row.provider_customer_id.is_none() {
            row.provider_customer_id = Some(self.customer(name, email).await?);
            self.save(row).await?;
        }
        let customer = row.provider_customer_id.clone().unwrap_or_default();
        if row.provider_invoice_id.is_none() {
            let created = self
                .adapter
                .create_invoice(&NewInvoice {
                    invoice_id: id,
                    provider_customer_id: &customer,
                    period_start_secs,
                    period_end_secs,
                })
                .await?;
            row.provider_invoice_id = Some(created);
            self.save(row).await?;
        }
        let provider_invoice = row.provider_invoice_id.clone().unwrap_or_default();
        let mut lines: Vec<(i64, String)> = self
            .view
            .lines
            .iter()
            .map(|l| (l.amount_minor, l.explanation.clone()))
            .collect();
        if self.view.credited_minor > 0 {
            lines.push((
                -self.view.credited_minor,
                "Credit notes issued before payment".to_owned(),
            ));
        }
        for (position, (amount_minor, description)) in lines.iter().enumerate() {
            let position = position as i64;
            if position < row.lines_pushed {
                continue;
            }
            self.adapter
                .add_line(&NewLine {
                    invoice_id: id,
                    position,
                    provider_customer_id: &customer,
                    provider_invoice_id: &provider_invoice,
                    amount_minor: *amount_minor,
                    currency: self.currency,
                    description,
                    period_start_secs,
                    period_end_secs,
                })
                .await?;
            row.lines_pushed = position + 1;
            self.save(row).await?;
        }
        self.adapter.finalize_invoice(id, &provider_invoice).await?;
        Ok(())
    }
}

/// The sync row of `invoice_id` as the invoice view shows it.
pub async fn payment_of(
    conn: &mut AnyConnection,
    invoice_id: &str,
) -> Result<Option<store::PaymentSync>, AppError> {
    Ok(store::load(conn, invoice_id)
        .await?
        .as_ref()
        .map(store::view))
}
