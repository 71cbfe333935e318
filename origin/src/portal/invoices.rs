//! The developer's invoices: the list, one invoice with its lines and their explanations
//! (how each amount was rated), and the printable page the admin API also renders. Only
//! the signed-in developer's own invoices (404 for anyone else's).

use super::accounts::page;
use super::pages::{render, Chrome, PortalError};
use super::session::{self, User};
use super::PortalSettings;
use crate::invoices::html;
use crate::invoices::store::{self, Invoice, InvoiceRow};
use crate::routes::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use std::sync::Arc;
use tollgate_core::rating::Currency;

/// The printable page's CSP: no script at all, its own inline stylesheet.
pub const PRINT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// An invoice in the list.
pub struct InvoiceLine {
    pub id: String,
    pub period: String,
    pub status: String,
    pub total: String,
}

/// An invoice line as the page shows it.
pub struct LineView {
    pub explanation: String,
    pub quantity: i64,
    pub amount: String,
}

fn money(currency: &str, minor: i64) -> String {
    Currency::of(currency)
        .map(|c| c.format(i128::from(minor)))
        .unwrap_or_else(|| format!("{minor} (minor units of {currency})"))
}

fn day(rfc3339: &str) -> &str {
    rfc3339.get(..10).unwrap_or(rfc3339)
}

#[derive(Template)]
#[template(path = "invoices.html")]
struct InvoicesPage {
    chrome: Chrome,
    invoices: Vec<InvoiceLine>,
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct InvoicePage {
    chrome: Chrome,
    invoice: Invoice,
    lines: Vec<LineView>,
    credits: Vec<LineView>,
    subtotal: String,
    total: String,
}

/// `GET /portal/invoices`.
pub async fn invoices_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let user = session.user()?;
    let mut conn = state.db.acquire().await?;
    let rows = store::list(&mut conn, Some(user.consumer_id.as_str()), None).await?;
    let mut invoices = Vec::with_capacity(rows.len());
    for row in rows {
        let view = store::view(&mut conn, &row).await?;
        invoices.push(InvoiceLine {
            period: format!("{} – {}", day(&view.period_start), day(&view.period_end)),
            status: view.status.clone(),
            total: money(&view.currency, view.total_minor),
            id: view.id,
        });
    }
    let html = render(&InvoicesPage {
        chrome: session.chrome(),
        invoices,
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

async fn own_invoice(state: &AppState, user: &User, id: &str) -> Result<Invoice, PortalError> {
    let mut conn = state.db.acquire().await?;
    let row: Option<InvoiceRow> = store::load(&mut conn, id).await?;
    let row = row
        .filter(|r| r.consumer_id == user.consumer_id)
        .ok_or(PortalError::NotFound("invoice"))?;
    Ok(store::view(&mut conn, &row).await?)
}

/// `GET /portal/invoices/{id}`.
pub async fn invoice_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let user = session.user()?;
    let invoice = own_invoice(&state, user, &id).await?;
    let cur = invoice.currency.clone();
    let lines = invoice
        .lines
        .iter()
        .map(|l| LineView {
            explanation: l.explanation.clone(),
            quantity: l.quantity,
            amount: money(&cur, l.amount_minor),
        })
        .collect();
    let credits = invoice
        .credit_notes
        .iter()
        .map(|n| LineView {
            explanation: format!("Credit note {}: {}", n.id, n.reason),
            quantity: 1,
            amount: format!("-{}", money(&cur, n.amount_minor)),
        })
        .collect();
    let html = render(&InvoicePage {
        chrome: session.chrome(),
        subtotal: money(&cur, invoice.subtotal_minor),
        total: money(&cur, invoice.total_minor),
        invoice,
        lines,
        credits,
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

/// `GET /portal/invoices/{id}/print`: the printable page (the admin API's rendering).
pub async fn invoice_print(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let session = session::current(&state.db, &headers).await?;
    let Some(user) = session.and_then(|s| s.user) else {
        return Err(PortalError::LoginRequired);
    };
    let invoice = own_invoice(&state, &user, &id).await?;
    let (name, email): (String, String) =
        sqlx::query_as("SELECT name, email FROM consumers WHERE id = $1")
            .bind(&user.consumer_id)
            .fetch_one(&state.db)
            .await?;
    Ok((
        [(header::CONTENT_SECURITY_POLICY, PRINT_CSP)],
        Html(html::render(&invoice, &name, &email)),
    )
        .into_response())
}
