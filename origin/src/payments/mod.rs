//! Payments through a provider (Stripe first): finalized invoices are pushed to the
//! provider as its own invoice, and the provider's signed webhooks mark ours paid. The
//! provider sits behind [`PaymentAdapter`]; with none configured invoices work locally as
//! before and nothing is sent anywhere.

pub mod config;
pub mod form;
pub mod handlers;
pub mod store;
pub mod stripe;
pub mod sync;
pub mod webhook;

use async_trait::async_trait;
use std::fmt;
use std::sync::Arc;

pub use config::{PaymentsConfig, StripeConfig};

/// The consumer a provider customer is created for.
#[derive(Debug, Clone)]
pub struct Customer<'a> {
    pub consumer_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
}

/// A provider invoice to create (empty; lines are added one by one).
#[derive(Debug, Clone)]
pub struct NewInvoice<'a> {
    pub invoice_id: &'a str,
    pub provider_customer_id: &'a str,
    /// Unix seconds, for the description and metadata.
    pub period_start_secs: i64,
    pub period_end_secs: i64,
}

/// One of our invoice lines, added to the provider invoice.
#[derive(Debug, Clone)]
pub struct NewLine<'a> {
    pub invoice_id: &'a str,
    pub position: i64,
    pub provider_customer_id: &'a str,
    pub provider_invoice_id: &'a str,
    /// Minor units (may be negative: a credit line).
    pub amount_minor: i64,
    /// The provider's currency code (`usd`).
    pub currency: &'a str,
    pub description: &'a str,
    pub period_start_secs: i64,
    pub period_end_secs: i64,
}

/// What a verified provider event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub id: String,
    pub event_type: String,
    /// The provider's id of the object (for invoice events, its invoice id).
    pub object_id: Option<String>,
    /// Our invoice id, from the metadata we attached.
    pub invoice_id: Option<String>,
    /// For failures: what the provider says went wrong.
    pub failure: Option<String>,
}

/// Why a provider call failed; the text is stored as the sync's last error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("{provider} refused {operation} with HTTP {status}: {message}")]
    Refused {
        provider: &'static str,
        operation: &'static str,
        status: u16,
        message: String,
    },
    #[error("{provider} could not be reached for {operation}: {message}")]
    Unreachable {
        provider: &'static str,
        operation: &'static str,
        message: String,
    },
    #[error("{provider} answered {operation} unexpectedly: {message}")]
    Unexpected {
        provider: &'static str,
        operation: &'static str,
        message: String,
    },
}

/// Why an incoming webhook was refused (all the sender's fault: 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("{0}")]
    Signature(#[from] tollgate_core::payment_signature::SignatureError),
    #[error("the payload is not a JSON event: {0}")]
    NotJson(String),
    #[error("the event has no `{0}`")]
    Missing(&'static str),
}

/// A payment provider. Every call is idempotent on our ids, so a retry after a failure
/// or a crash repeats requests the provider recognises instead of charging twice.
#[async_trait]
pub trait PaymentAdapter: Send + Sync + fmt::Debug {
    /// The provider's name, stored with every mapping (`stripe`).
    fn provider(&self) -> &'static str;
    /// Creates (idempotently) the provider customer of a consumer; returns its id.
    async fn ensure_customer(&self, customer: &Customer<'_>) -> Result<String, ProviderError>;
    /// Creates the empty provider invoice of one of ours; returns its id.
    async fn create_invoice(&self, invoice: &NewInvoice<'_>) -> Result<String, ProviderError>;
    /// Adds one of our lines to the provider invoice as an invoice item.
    async fn add_line(&self, line: &NewLine<'_>) -> Result<(), ProviderError>;
    /// Finalizes the provider invoice, after which the provider collects it.
    async fn finalize_invoice(
        &self,
        invoice_id: &str,
        provider_invoice_id: &str,
    ) -> Result<(), ProviderError>;
    /// Verifies an incoming webhook's signature and reads the event.
    fn verify_event(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now_secs: i64,
    ) -> Result<ProviderEvent, EventError>;
    /// Whether incoming webhooks can be verified (a webhook secret is configured).
    fn accepts_webhooks(&self) -> bool;
}

/// The configured adapter, if any (shared by every handler).
#[derive(Clone, Debug, Default)]
pub struct Payments(Option<Arc<dyn PaymentAdapter>>);

impl Payments {
    /// The adapter `config` asks for; none when no provider is configured.
    pub fn from_config(config: &PaymentsConfig) -> anyhow::Result<Payments> {
        Ok(match &config.stripe {
            Some(stripe) => Payments(Some(Arc::new(stripe::StripeAdapter::new(stripe.clone())?))),
            None => Payments(None),
        })
    }

    /// Wraps any adapter.
    pub fn with(adapter: Arc<dyn PaymentAdapter>) -> Payments {
        Payments(Some(adapter))
    }

    /// The adapter, when one is configured.
    pub fn adapter(&self) -> Option<&Arc<dyn PaymentAdapter>> {
        self.0.as_ref()
    }
}
