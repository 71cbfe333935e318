//! The developer portal: server-rendered pages under `/portal` (templates in
//! /portal/templates) where a developer signs up, subscribes to a plan, creates a key and
//! tries a call through the edge. Works without JavaScript; every page carries a strict
//! Content-Security-Policy and every POST a per-session CSRF token.
//!
//! A portal user is a `users` row (argon2 password) plus one developer `consumers` row in
//! the platform's own catalog (`org_id` NULL): the portal lists and sells the platform's
//! published APIs and acts through the admin API's logic as `portal:<user id>`.

pub(crate) mod accounts;
mod assets;
mod catalog;
mod events;
mod invoices;
mod key_rotation;
mod keys;
mod oidc;
mod oidc_link;
mod oidc_provider;
pub(crate) mod pages;
mod recovery;
mod reference;
pub(crate) mod session;
mod slo;
mod tokens;
mod try_it;
mod usage;
mod verification;
mod versions;

use crate::config::DEFAULT_ADDR;
use crate::mail::Mailer;
use crate::routes::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{from_fn, Next};
use axum::response::{Redirect, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Router};
use std::sync::Arc;
use std::time::Duration;

/// Default edge URL the try-it console calls (`TOLLGATE_EDGE_URL`).
pub const DEFAULT_EDGE_URL: &str = "http://127.0.0.1:8787";

/// The portal's settings, read once when the router is built.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// Where developers call APIs: shown on pages and used by the try-it console.
    pub edge_url: String,
    /// Whether cookies get `Secure` (the origin's public URL is https).
    pub secure_cookies: bool,
    /// Where browsers reach the origin: the base of links in mails and of OIDC redirects.
    pub public_url: String,
    /// Verification and reset mails go through this.
    pub mailer: Mailer,
    /// Single sign-on, when configured.
    pub oidc: Option<oidc::OidcSettings>,
    /// The availability objective the catalog's SLO status is assessed against.
    pub slo_objective: tollgate_core::slo::Objective,
    client: reqwest::Client,
}

impl PortalSettings {
    /// From `TOLLGATE_EDGE_URL`, `TOLLGATE_PUBLIC_URL` (else `http://` and
    /// `TOLLGATE_ORIGIN_ADDR`), `TOLLGATE_SMTP_URL`, `TOLLGATE_MAIL_FROM` and the
    /// `TOLLGATE_OIDC_*` variables and `TOLLGATE_SLO_AVAILABILITY`.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> PortalSettings {
        let var = |n: &str| var(n).filter(|v| !v.trim().is_empty());
        let edge_url = var("TOLLGATE_EDGE_URL").unwrap_or_else(|| DEFAULT_EDGE_URL.into());
        let secure_cookies = var("TOLLGATE_PUBLIC_URL").is_some_and(|u| u.starts_with("https://"));
        let public_url = var("TOLLGATE_PUBLIC_URL").unwrap_or_else(|| {
            let addr = var("TOLLGATE_ORIGIN_ADDR").unwrap_or_else(|| DEFAULT_ADDR.into());
            format!("http://{addr}")
        });
        let mailer = Mailer::from_lookup(var);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        PortalSettings {
            edge_url: edge_url.trim_end_matches('/').to_owned(),
            secure_cookies,
            public_url: public_url.trim_end_matches('/').to_owned(),
            mailer,
            oidc: oidc::OidcSettings::from_lookup(var),
            slo_objective: slo::objective_from(var(slo::OBJECTIVE_VAR).as_deref()),
            client,
        }
    }
}

/// The portal's routes, with its settings from the environment.
pub fn router() -> Router<AppState> {
    let settings = Arc::new(PortalSettings::from_lookup(|n| std::env::var(n).ok()));
    Router::new()
        .route("/portal", get(|| async { Redirect::to("/portal/apis") }))
        .route("/portal/", get(|| async { Redirect::to("/portal/apis") }))
        .route(
            "/portal/signup",
            get(accounts::sign_up_page).post(accounts::sign_up),
        )
        .route(
            "/portal/login",
            get(accounts::log_in_page).post(accounts::log_in),
        )
        .route("/portal/logout", post(accounts::log_out))
        .route("/portal/oidc/start", get(oidc::start))
        .route("/portal/oidc/callback", get(oidc::callback))
        .route("/portal/verify", get(verification::verify))
        .route("/portal/verify/resend", post(verification::resend))
        .route(
            "/portal/forgot",
            get(recovery::forgot_page).post(recovery::forgot),
        )
        .route(
            "/portal/reset",
            get(recovery::reset_page).post(recovery::reset),
        )
        .route("/portal/apis", get(catalog::catalog_page))
        .route("/portal/apis/{id}", get(catalog::api_page))
        .route("/portal/apis/{id}/subscribe", post(catalog::subscribe))
        .route(
            "/portal/apis/{id}/versions/{version}",
            get(versions::version_page),
        )
        .route(
            "/portal/apis/{id}/versions/{version}/openapi.json",
            get(versions::openapi_download),
        )
        .route(
            "/portal/apis/{id}/versions/{version}/postman.json",
            get(versions::postman_download),
        )
        .route(
            "/portal/apis/{id}/versions/{version}/reference",
            get(reference::reference_page),
        )
        .route("/portal/apis/{id}/proxy/{*path}", any(reference::proxy))
        .route("/portal/keys", get(keys::keys_page).post(keys::create_key))
        .route("/portal/keys/{id}/revoke", post(keys::revoke_key))
        .route("/portal/events", get(events::events_page))
        .route("/portal/keys/{id}/rotate", post(key_rotation::rotate_key))
        .route("/portal/try", post(try_it::try_call))
        .route("/portal/usage", get(usage::usage_page))
        .route("/portal/usage.json", get(usage::usage_json))
        .route("/portal/invoices", get(invoices::invoices_page))
        .route("/portal/invoices/{id}", get(invoices::invoice_page))
        .route("/portal/invoices/{id}/print", get(invoices::invoice_print))
        .route("/portal/static/{file}", get(assets::asset))
        .layer(Extension(settings))
        .layer(from_fn(security_headers))
}

/// The Content-Security-Policy of every portal answer: our own scripts and styles only,
/// never framed, forms post only to us.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the strict CSP and the other security headers to every answer (the console uses
/// it too).
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A page may set its own policy (the printable invoice: no script at all, inline styles).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Pages show keys and CSRF tokens: never cached by anyone.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_to_the_local_edge_and_secure_cookies_follow_https() {
        let s = PortalSettings::from_lookup(|_| None);
        assert_eq!(s.edge_url, DEFAULT_EDGE_URL);
        assert!(!s.secure_cookies);
        let s = PortalSettings::from_lookup(|n| match n {
            "TOLLGATE_PUBLIC_URL" => Some("https://api.example.com".into()),
            "TOLLGATE_EDGE_URL" => Some("https://edge.example.com/".into()),
            _ => None,
        });
        assert_eq!(s.edge_url, "https://edge.example.com");
        assert!(s.secure_cookies);
        assert_eq!(s.public_url, "https://api.example.com");
        let s = PortalSettings::from_lookup(|n| {
            (n == "TOLLGATE_ORIGIN_ADDR").then(|| "0.0.0.0:9000".to_owned())
        });
        assert_eq!(s.public_url, "http://0.0.0.0:9000");
    }
}
