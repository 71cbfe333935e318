//! `POST /payments/stripe/webhook`: Stripe's events about the invoices we pushed. The
//! signature is checked over the raw body first (400 with the reason otherwise); each
//! event id is processed once (a table of processed events, in the same transaction as
//! its effect), so Stripe's redeliveries change nothing twice. `invoice.paid` pays our
//! invoice through the same life-cycle transition as the admin pay;
//! `invoice.payment_failed` is recorded on it; every other type is acknowledged and ignored.

use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::error::{problem_response, AppError};
use crate::invoices::handlers::apply_action;
use crate::invoices::store as invoices;
use crate::routes::AppState;
use crate::tenancy::Tenant;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sqlx::AnyConnection;
use tollgate_core::invoice::InvoiceAction;
use tollgate_core::payment::{apply_paid, effect_of, EventEffect};
use tollgate_core::rbac::Role;
use tollgate_core::{Problem, ProblemKind};

/// The header Stripe signs its deliveries with.
pub const SIGNATURE_HEADER: &str = "stripe-signature";

fn bad_request(detail: impl Into<String>) -> Response {
    problem_response(&Problem::new(ProblemKind::MalformedRequest, detail.into()))
}

/// The audit actor of a provider event: the provider, within the invoice's organisation.
fn provider_actor(org_id: Option<&str>) -> Actor {
    Actor {
        who: "stripe-webhook".to_owned(),
        tenant: match org_id {
            Some(id) => Tenant::Org {
                id: id.to_owned(),
                role: Role::Billing,
            },
            None => Tenant::Platform,
        },
    }
}

/// Receives one Stripe event.
#[utoipa::path(
    post,
    path = "/payments/stripe/webhook",
    tag = "payments",
    request_body(content = String, description = "A Stripe event, exactly as Stripe sent it", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "`t=<unix s>,v1=<hex HMAC-SHA256>`")),
    responses(
        (status = 200, description = "Processed, a repeat of a processed event, or ignored"),
        (status = 400, description = "Missing, malformed, stale or wrong signature, or not an event", body = crate::core_schemas::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Stripe webhooks are not configured", body = crate::core_schemas::ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(adapter) = state
        .payments
        .adapter()
        .filter(|a| a.provider() == "stripe" && a.accepts_webhooks())
        .cloned()
    else {
        return problem_response(&Problem::new(
            ProblemKind::NotFound,
            "Stripe webhooks are not configured here: set TOLLGATE_STRIPE_SECRET_KEY and TOLLGATE_STRIPE_WEBHOOK_SECRET",
        ));
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status().as_u16();
            let kind = if status == 413 {
                ProblemKind::PayloadTooLarge
            } else {
                ProblemKind::MalformedRequest
            };
            return problem_response(&Problem::new(kind, rejection.body_text()));
        }
    };
    let signature = match headers.get(SIGNATURE_HEADER).map(|v| v.to_str()) {
        None => None,
        Some(Ok(text)) => Some(text),
        Some(Err(_)) => return bad_request("the Stripe-Signature header is not ASCII text"),
    };
    let event = match adapter.verify_event(signature, &body, now_ms() / 1000) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(reason = %e, "refused a Stripe webhook");
            return bad_request(e.to_string());
        }
    };
    match process(&state, adapter.provider(), &event).await {
        Ok(outcome) => {
            tracing::info!(event_id = %event.id, event_type = %event.event_type, %outcome, "Stripe event");
            axum::Json(json!({"received": true, "outcome": outcome})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Applies one verified event once; returns what it did.
async fn process(
    state: &AppState,
    provider: &str,
    event: &super::ProviderEvent,
) -> Result<String, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let fresh = sqlx::query(
        "INSERT INTO payment_events (provider, event_id, event_type, outcome, received_at) \
         VALUES ($1, $2, $3, 'processing', $4) ON CONFLICT (provider, event_id) DO NOTHING",
    )
    .bind(provider)
    .bind(&event.id)
    .bind(&event.event_type)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if fresh == 0 {
        tx.commit().await?;
        return Ok("duplicate: this event was already processed".into());
    }
    let effect = effect_of(&event.event_type);
    let invoice = match effect {
        EventEffect::Ignored => None,
        _ => find_invoice(&mut tx, provider, event).await?,
    };
    let outcome = match (effect, &invoice) {
        (EventEffect::Ignored, _) => "ignored: not an event tollgate acts on".to_owned(),
        (_, None) => "ignored: no tollgate invoice matches this event".to_owned(),
        (EventEffect::Paid, Some(row)) => {
            let actor = provider_actor(row.org_id.as_deref());
            match apply_paid(row.status()) {
                Ok(Some(_)) => {
                    apply_action(&mut tx, &actor, &row.id, InvoiceAction::Pay, now).await?;
                    "invoice paid".to_owned()
                }
                Ok(None) => "invoice already paid".to_owned(),
                Err(e) => {
                    tracing::warn!(invoice_id = %row.id, reason = %e, "Stripe reports a payment tollgate cannot apply");
                    format!("not applied: {e}")
                }
            }
        }
        (EventEffect::PaymentFailed, Some(row)) => {
            let reason = event
                .failure
                .as_deref()
                .unwrap_or("the payment attempt failed");
            let before = invoices::view(&mut tx, row).await?;
            super::store::record_payment_failure(&mut tx, &row.id, reason, now).await?;
            let after = invoices::view(&mut tx, row).await?;
            let change = audit::Change {
                action: "invoice.payment_failed",
                target_type: "invoice",
                target_id: &row.id,
                before: audit::snapshot_of(&before),
                after: audit::snapshot_of(&after),
            };
            audit::record(&mut tx, &provider_actor(row.org_id.as_deref()), now, change).await?;
            "payment failure recorded".to_owned()
        }
    };
    sqlx::query(
        "UPDATE payment_events SET outcome = $1, invoice_id = $2 WHERE provider = $3 AND event_id = $4",
    )
    .bind(&outcome)
    .bind(invoice.as_ref().map(|r| r.id.clone()))
    .bind(provider)
    .bind(&event.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Our invoice an event is about: the one we pushed as the event's provider invoice, else
/// the one named in the metadata we attached.
async fn find_invoice(
    conn: &mut AnyConnection,
    provider: &str,
    event: &super::ProviderEvent,
) -> Result<Option<invoices::InvoiceRow>, AppError> {
    let by_provider_id = match &event.object_id {
        Some(object) => super::store::invoice_of(conn, provider, object).await?,
        None => None,
    };
    let Some(id) = by_provider_id.or_else(|| event.invoice_id.clone()) else {
        return Ok(None);
    };
    invoices::load(conn, &id).await
}
