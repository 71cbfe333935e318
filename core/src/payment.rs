//! Payment-provider decisions that do not depend on the provider's wire format: whether an
//! invoice may be pushed, the idempotency key of each provider operation (derived from our
//! ids, so a retry repeats the same request and never charges twice), and what a provider
//! event does to our invoice.

use crate::invoice::{transition, InvoiceAction, InvoiceConflict, InvoiceStatus};

/// Where pushing an invoice to the provider stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// A push started and has not finished (or the process stopped during it).
    Pending,
    /// The provider holds the finalized invoice.
    Synced,
    /// The last push failed; the reason is kept and a retry resumes it.
    Failed,
    /// Nothing is priced (no currency), so there is nothing to bill.
    Skipped,
}

impl SyncState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Pending => "pending",
            SyncState::Synced => "synced",
            SyncState::Failed => "failed",
            SyncState::Skipped => "skipped",
        }
    }

    /// The state named `name`, if any.
    pub fn parse(name: &str) -> Option<SyncState> {
        match name {
            "pending" => Some(SyncState::Pending),
            "synced" => Some(SyncState::Synced),
            "failed" => Some(SyncState::Failed),
            "skipped" => Some(SyncState::Skipped),
            _ => None,
        }
    }
}

/// What a sync request should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncDecision {
    /// Push (or resume pushing) the invoice.
    Push,
    /// Already done: answer with what is stored, call nobody.
    Done,
}

/// Decides a sync of an invoice in `status` whose last sync is `state` (None: never).
pub fn plan_sync(
    status: InvoiceStatus,
    state: Option<SyncState>,
) -> Result<SyncDecision, InvoiceConflict> {
    let refuse = |why: &str| {
        Err(InvoiceConflict(format!(
            "the invoice is {}: {why}",
            status.as_str()
        )))
    };
    match (status, state) {
        (_, Some(SyncState::Synced | SyncState::Skipped)) => Ok(SyncDecision::Done),
        (InvoiceStatus::Finalized, _) => Ok(SyncDecision::Push),
        (InvoiceStatus::Draft, _) => {
            refuse("finalize it before sending it to the payment provider")
        }
        (InvoiceStatus::Paid, _) => {
            refuse("it was paid outside the payment provider, so it is not billed again")
        }
        (InvoiceStatus::Void, _) => refuse("a void invoice is not billed"),
    }
}

/// The provider's currency code for ours (`usd` for `USD`); None for `XXX` (nothing priced).
pub fn provider_currency(currency: &str) -> Option<String> {
    let ok = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_alphabetic());
    (ok && !currency.eq_ignore_ascii_case("XXX")).then(|| currency.to_ascii_lowercase())
}

/// A provider operation, for its idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation<'a> {
    /// Creating the provider customer of a consumer.
    Customer { consumer_id: &'a str },
    /// Creating the provider invoice of an invoice.
    Invoice { invoice_id: &'a str },
    /// Adding one line (by position) to the provider invoice.
    Line { invoice_id: &'a str, position: i64 },
    /// Finalizing the provider invoice.
    Finalize { invoice_id: &'a str },
}

/// The `Idempotency-Key` of `op`: the same operation always gets the same key.
pub fn idempotency_key(op: Operation<'_>) -> String {
    match op {
        Operation::Customer { consumer_id } => format!("tollgate-customer-{consumer_id}"),
        Operation::Invoice { invoice_id } => format!("tollgate-invoice-{invoice_id}"),
        Operation::Line {
            invoice_id,
            position,
        } => format!("tollgate-line-{invoice_id}-{position}"),
        Operation::Finalize { invoice_id } => format!("tollgate-finalize-{invoice_id}"),
    }
}

/// What a provider event means for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventEffect {
    /// The provider collected the invoice: our invoice becomes paid.
    Paid,
    /// A payment attempt failed: recorded on the invoice, status unchanged.
    PaymentFailed,
    /// Not an event we act on (acknowledged with 200 so the provider stops resending).
    Ignored,
}

/// The effect of a Stripe event type.
pub fn effect_of(event_type: &str) -> EventEffect {
    match event_type {
        "invoice.paid" => EventEffect::Paid,
        "invoice.payment_failed" => EventEffect::PaymentFailed,
        _ => EventEffect::Ignored,
    }
}

/// What an `invoice.paid` does to an invoice in `status`: the new status through the
/// life cycle (as the admin pay), None when it is already paid (a repeated event), or
/// why it cannot apply (a void invoice, a draft).
pub fn apply_paid(status: InvoiceStatus) -> Result<Option<InvoiceStatus>, InvoiceConflict> {
    if status == InvoiceStatus::Paid {
        return Ok(None);
    }
    transition(status, InvoiceAction::Pay).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use InvoiceStatus as S;

    #[test]
    fn only_finalized_invoices_are_pushed_and_done_is_done() {
        assert_eq!(plan_sync(S::Finalized, None), Ok(SyncDecision::Push));
        assert_eq!(
            plan_sync(S::Finalized, Some(SyncState::Failed)),
            Ok(SyncDecision::Push)
        );
        assert_eq!(
            plan_sync(S::Finalized, Some(SyncState::Pending)),
            Ok(SyncDecision::Push)
        );
        assert_eq!(
            plan_sync(S::Paid, Some(SyncState::Synced)),
            Ok(SyncDecision::Done)
        );
        assert_eq!(
            plan_sync(S::Finalized, Some(SyncState::Skipped)),
            Ok(SyncDecision::Done)
        );
        assert!(plan_sync(S::Draft, None)
            .unwrap_err()
            .0
            .contains("finalize it"));
        assert!(plan_sync(S::Paid, None)
            .unwrap_err()
            .0
            .contains("not billed again"));
        assert!(plan_sync(S::Void, Some(SyncState::Failed)).is_err());
        for state in ["pending", "synced", "failed", "skipped"] {
            assert_eq!(SyncState::parse(state).map(SyncState::as_str), Some(state));
        }
        assert_eq!(SyncState::parse("Synced"), None);
    }

    #[test]
    fn currencies_are_lowercased_and_unpriced_is_none() {
        assert_eq!(provider_currency("USD").as_deref(), Some("usd"));
        assert_eq!(provider_currency("XXX"), None);
        assert_eq!(provider_currency("US"), None);
        assert_eq!(provider_currency("U$D"), None);
    }

    #[test]
    fn idempotency_keys_are_stable_and_distinct() {
        let keys = [
            idempotency_key(Operation::Customer { consumer_id: "c_1" }),
            idempotency_key(Operation::Invoice {
                invoice_id: "inv_1",
            }),
            idempotency_key(Operation::Line {
                invoice_id: "inv_1",
                position: 0,
            }),
            idempotency_key(Operation::Line {
                invoice_id: "inv_1",
                position: 1,
            }),
            idempotency_key(Operation::Finalize {
                invoice_id: "inv_1",
            }),
        ];
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
        assert_eq!(
            idempotency_key(Operation::Invoice {
                invoice_id: "inv_1"
            }),
            keys[1]
        );
        assert!(keys.iter().all(|k| k.len() <= 255));
    }

    #[test]
    fn events_map_to_the_life_cycle() {
        assert_eq!(effect_of("invoice.paid"), EventEffect::Paid);
        assert_eq!(
            effect_of("invoice.payment_failed"),
            EventEffect::PaymentFailed
        );
        assert_eq!(effect_of("customer.created"), EventEffect::Ignored);
        assert_eq!(apply_paid(S::Finalized), Ok(Some(S::Paid)));
        assert_eq!(apply_paid(S::Paid), Ok(None));
        assert!(apply_paid(S::Void).is_err());
        assert!(apply_paid(S::Draft).is_err());
    }
}
