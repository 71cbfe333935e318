//! The Stripe adapter: form-encoded calls to Stripe's REST API with the secret key as a
//! Bearer token and an `Idempotency-Key` derived from our ids on every POST, and the
//! verification of `Stripe-Signature` on incoming events (the check is in the core).
//! API reference: <https://docs.stripe.com/api>.

use super::config::StripeConfig;
use super::form::Form;
use super::{
    Customer, EventError, NewInvoice, NewLine, PaymentAdapter, ProviderError, ProviderEvent,
};
use async_trait::async_trait;
use serde_json::Value;
use std::time::Duration;
use tollgate_core::payment::{idempotency_key, Operation};
use tollgate_core::payment_signature::verify_signature;

const PROVIDER: &str = "Stripe";
/// How long one Stripe call may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Longest provider message kept in an error.
const MAX_MESSAGE: usize = 500;

/// Talks to Stripe (or anything serving its API, such as a mock).
#[derive(Debug)]
pub struct StripeAdapter {
    config: StripeConfig,
    http: reqwest::Client,
}

impl StripeAdapter {
    /// An adapter with its own HTTP client (no redirects: Stripe never redirects the API).
    pub fn new(config: StripeConfig) -> anyhow::Result<StripeAdapter> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(StripeAdapter { config, http })
    }

    /// POSTs `form` to `path` with `key`; returns the answer's JSON object.
    async fn post(
        &self,
        operation: &'static str,
        path: &str,
        key: &str,
        form: &Form,
    ) -> Result<Value, ProviderError> {
        let unreachable = |e: reqwest::Error| ProviderError::Unreachable {
            provider: PROVIDER,
            operation,
            message: e.without_url().to_string(),
        };
        let response = self
            .http
            .post(format!("{}{path}", self.config.api_base))
            .bearer_auth(self.config.secret_key.expose())
            .header("Idempotency-Key", key)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.encode())
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(ProviderError::Refused {
                provider: PROVIDER,
                operation,
                status: status.as_u16(),
                message: error_message(&text),
            });
        }
        serde_json::from_str::<Value>(&text)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| ProviderError::Unexpected {
                provider: PROVIDER,
                operation,
                message: format!("not a JSON object: {}", clip(&text)),
            })
    }

    async fn post_for_id(
        &self,
        operation: &'static str,
        path: &str,
        key: &str,
        form: &Form,
    ) -> Result<String, ProviderError> {
        let answer = self.post(operation, path, key, form).await?;
        answer["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ProviderError::Unexpected {
                provider: PROVIDER,
                operation,
                message: "the answer has no `id`".into(),
            })
    }
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_MESSAGE).collect()
}

/// The message of a Stripe error (`{"error":{"message"}}`), else of a mock's problem
/// document (`detail` and each `validation[].message`), else the text itself.
fn error_message(text: &str) -> String {
    let Ok(body) = serde_json::from_str::<Value>(text) else {
        return clip(text.trim());
    };
    if let Some(message) = body["error"]["message"].as_str() {
        return clip(message);
    }
    let mut parts: Vec<String> = body["detail"]
        .as_str()
        .map(str::to_owned)
        .into_iter()
        .collect();
    if let Some(issues) = body["validation"].as_array() {
        for issue in issues {
            let at = issue["location"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .unwrap_or_default();
            if let Some(m) = issue["message"].as_str() {
                parts.push(format!("{at}: {m}"));
            }
        }
    }
    if parts.is_empty() {
        clip(text.trim())
    } else {
        clip(&parts.join("; "))
    }
}

#[async_trait]
impl PaymentAdapter for StripeAdapter {
    fn provider(&self) -> &'static str {
        "stripe"
    }

    async fn ensure_customer(&self, customer: &Customer<'_>) -> Result<String, ProviderError> {
        let form = Form::new()
            .field("name", customer.name)
            .field("email", customer.email)
            .nested("metadata", "tollgate_consumer_id", customer.consumer_id);
        let key = idempotency_key(Operation::Customer {
            consumer_id: customer.consumer_id,
        });
        self.post_for_id("customer creation", "/v1/customers", &key, &form)
            .await
    }

    async fn create_invoice(&self, invoice: &NewInvoice<'_>) -> Result<String, ProviderError> {
        // `exclude`: only the lines we add, never other pending items of the customer.
        let form = Form::new()
            .field("customer", invoice.provider_customer_id)
            .field("pending_invoice_items_behavior", "exclude")
            .field("auto_advance", "false")
            .nested("metadata", "tollgate_invoice_id", invoice.invoice_id)
            .nested("metadata", "period_start", invoice.period_start_secs)
            .nested("metadata", "period_end", invoice.period_end_secs);
        let key = idempotency_key(Operation::Invoice {
            invoice_id: invoice.invoice_id,
        });
        self.post_for_id("invoice creation", "/v1/invoices", &key, &form)
            .await
    }

    async fn add_line(&self, line: &NewLine<'_>) -> Result<(), ProviderError> {
        let form = Form::new()
            .field("customer", line.provider_customer_id)
            .field("invoice", line.provider_invoice_id)
            .field("amount", line.amount_minor)
            .field("currency", line.currency)
            .field("description", line.description)
            .nested("period", "start", line.period_start_secs)
            .nested("period", "end", line.period_end_secs)
            .nested("metadata", "tollgate_invoice_id", line.invoice_id)
            .nested("metadata", "tollgate_line", line.position);
        let key = idempotency_key(Operation::Line {
            invoice_id: line.invoice_id,
            position: line.position,
        });
        self.post("invoice item creation", "/v1/invoiceitems", &key, &form)
            .await
            .map(drop)
    }

    async fn finalize_invoice(
        &self,
        invoice_id: &str,
        provider_invoice_id: &str,
    ) -> Result<(), ProviderError> {
        // Stripe then collects it (charges the default payment method or sends it).
        let form = Form::new().field("auto_advance", "true");
        let key = idempotency_key(Operation::Finalize { invoice_id });
        let path = format!(
            "/v1/invoices/{}/finalize",
            form_urlencoded::byte_serialize(provider_invoice_id.as_bytes()).collect::<String>()
        );
        self.post("invoice finalization", &path, &key, &form)
            .await
            .map(drop)
    }

    fn verify_event(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now_secs: i64,
    ) -> Result<ProviderEvent, EventError> {
        let secret = self
            .config
            .webhook_secret
            .as_ref()
            .map(|s| s.expose().as_bytes())
            .unwrap_or_default();
        verify_signature(signature, body, secret, now_secs)?;
        read_event(body)
    }

    fn accepts_webhooks(&self) -> bool {
        self.config.webhook_secret.is_some()
    }
}

/// Reads the members we use from a verified Stripe event.
fn read_event(body: &[u8]) -> Result<ProviderEvent, EventError> {
    let event: Value =
        serde_json::from_slice(body).map_err(|e| EventError::NotJson(e.to_string()))?;
    if !event.is_object() {
        return Err(EventError::NotJson("not a JSON object".into()));
    }
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let id = text(&event["id"]).ok_or(EventError::Missing("id"))?;
    let event_type = text(&event["type"]).ok_or(EventError::Missing("type"))?;
    let object = &event["data"]["object"];
    let failure = (event_type == "invoice.payment_failed").then(|| {
        let attempts = object["attempt_count"].as_i64().unwrap_or(0);
        let reason = text(&object["last_finalization_error"]["message"])
            .unwrap_or_else(|| "the payment attempt failed".into());
        format!("{reason} (attempt {attempts})")
    });
    Ok(ProviderEvent {
        id,
        event_type,
        object_id: text(&object["id"]),
        invoice_id: text(&object["metadata"]["tollgate_invoice_id"]),
        failure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_stripe_or_the_mock() {
        let stripe =
            r#"{"error":{"message":"No such customer: 'cus_x'","type":"invalid_request_error"}}"#;
        assert_eq!(error_message(stripe), "No such customer: 'cus_x'");
        let prism = r#"{"detail":"Your request is not valid","validation":[{"location":["body","amount"],"message":"must be integer"}]}"#;
        assert_eq!(
            error_message(prism),
            "Your request is not valid; body.amount: must be integer"
        );
        assert_eq!(error_message("  bad gateway "), "bad gateway");
        assert_eq!(error_message(&"x".repeat(2000)).len(), MAX_MESSAGE);
    }

    #[test]
    fn events_are_read_and_incomplete_ones_refused() {
        let paid = br#"{"id":"evt_1","type":"invoice.paid","data":{"object":{"id":"in_1","metadata":{"tollgate_invoice_id":"inv_1"}}}}"#;
        let event = read_event(paid).unwrap();
        assert_eq!(event.id, "evt_1");
        assert_eq!(event.object_id.as_deref(), Some("in_1"));
        assert_eq!(event.invoice_id.as_deref(), Some("inv_1"));
        assert_eq!(event.failure, None);
        let failed = br#"{"id":"evt_2","type":"invoice.payment_failed","data":{"object":{"id":"in_1","attempt_count":2}}}"#;
        assert_eq!(
            read_event(failed).unwrap().failure.as_deref(),
            Some("the payment attempt failed (attempt 2)")
        );
        assert_eq!(
            read_event(b"[1]"),
            Err(EventError::NotJson("not a JSON object".into()))
        );
        assert!(matches!(read_event(b"nope"), Err(EventError::NotJson(_))));
        assert_eq!(
            read_event(br#"{"type":"x"}"#),
            Err(EventError::Missing("id"))
        );
        assert_eq!(
            read_event(br#"{"id":"e","type":""}"#),
            Err(EventError::Missing("type"))
        );
    }
}
