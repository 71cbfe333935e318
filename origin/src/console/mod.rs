//! The operator console: server-rendered pages under `/console` (templates in
//! /portal/templates/console) where an operator manages APIs and versions, plans,
//! consumers and keys, and reads usage, revenue, the audit log and settings.
//!
//! An operator is a `users` row with a password who is either a platform operator
//! (`platform_operators`) or a member of an organisation (`memberships`, with a role).
//! Every page re-reads that grant, checks the role's `tollgate_core::rbac` permission
//! (403 page otherwise) and that ids in the path are the organisation's (404), then calls
//! the admin API's own handlers as `console:<user id>`, so validation, audit entries and
//! config versions are the admin API's. Works without JavaScript; the portal's strict CSP,
//! session and CSRF helpers are reused.

mod accounts;
mod apis;
mod assets;
mod audit;
mod charts;
mod consumers;
mod operator;
mod orgs;
mod overview;
mod pages;
mod plans;
mod session;
mod settings;

pub use accounts::{create_operator, Grant};

use crate::portal::{security_headers, PortalSettings};
use crate::routes::AppState;
use axum::middleware::from_fn;
use axum::routing::{get, post};
use axum::{Extension, Router};
use std::sync::Arc;

/// The console's settings: the portal's (edge URL, secure cookies).
pub type ConsoleSettings = PortalSettings;

/// The console's routes, with its settings from the environment.
pub fn router() -> Router<AppState> {
    let settings = Arc::new(PortalSettings::from_lookup(|n| std::env::var(n).ok()));
    Router::new()
        .route("/console", get(overview::overview))
        .route("/console/", get(overview::overview))
        .route(
            "/console/login",
            get(accounts::log_in_page).post(accounts::log_in),
        )
        .route("/console/logout", post(accounts::log_out))
        .route("/console/apis", get(apis::list).post(apis::create))
        .route("/console/apis/{id}", get(apis::show))
        .route("/console/apis/{id}/versions", post(apis::upload))
        .route(
            "/console/apis/{id}/versions/{version}/publish",
            post(apis::publish),
        )
        .route(
            "/console/apis/{id}/versions/{version}/deprecate",
            post(apis::deprecate),
        )
        .route(
            "/console/apis/{id}/versions/{version}/retire",
            post(apis::retire),
        )
        .route("/console/plans", get(plans::list).post(plans::create))
        .route(
            "/console/consumers",
            get(consumers::list).post(consumers::create),
        )
        .route("/console/consumers/{id}", get(consumers::show))
        .route("/console/consumers/{id}/keys", post(consumers::issue))
        .route("/console/keys/{id}/revoke", post(consumers::revoke))
        .route("/console/audit", get(audit::list))
        .route("/console/settings", get(settings::show))
        .route("/console/org", post(orgs::switch))
        .route("/console/static/{file}", get(assets::asset))
        .layer(Extension(settings))
        .layer(from_fn(security_headers))
}
