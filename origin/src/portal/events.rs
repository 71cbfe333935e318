//! `GET /portal/events`: the developer's own events — quota alerts (80 % and 100 % of a
//! plan's quota per key and period) fired from the usage ledger, newest first.

use super::accounts::page;
use super::pages::{render, Chrome, PortalError};
use super::session;
use super::PortalSettings;
use crate::routes::AppState;
use crate::usage::alerts::list_alerts;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use std::sync::Arc;

/// Most events the page shows.
const SHOWN: i64 = 200;

/// One line of the event list.
pub struct EventLine {
    pub kind: String,
    pub title: String,
    pub key_id: String,
    pub period: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    events: Vec<EventLine>,
}

/// `GET /portal/events`.
pub async fn events_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let user = session.user()?;
    let alerts = list_alerts(&state.ledger, Some(&user.consumer_id), None, SHOWN).await?;
    let events = alerts
        .into_iter()
        .map(|a| EventLine {
            title: if a.threshold >= 100 {
                format!("Quota used up: {} of {} requests", a.used, a.quota)
            } else {
                format!(
                    "{} % of your quota used: {} of {} requests",
                    a.threshold, a.used, a.quota
                )
            },
            kind: a.kind,
            key_id: a.key_id,
            period: format!("{} – {}", a.period_start, a.period_end),
            at: a.created_at,
        })
        .collect();
    let html = render(&EventsPage {
        chrome: session.chrome(),
        events,
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}
