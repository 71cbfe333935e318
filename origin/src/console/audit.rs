//! `GET /console/audit?after=N`: the organisation's audit log (the whole chain for the
//! platform operator), 50 entries a page, oldest first, through the admin API's
//! `list_audit` so scoping and paging are the same.

use super::operator::Operator;
use super::pages::{render, Chrome, ConsoleError};
use crate::audit::api::{AuditEntryView, AuditQuery};
use crate::audit::list_audit;
use crate::routes::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use std::collections::HashMap;
use tollgate_core::rbac::Permission;

/// Entries per page.
pub const PAGE: &str = "50";

/// An entry as one table row.
pub struct EntryLine {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<EntryLine>,
    next_after: Option<i64>,
}

fn line(e: AuditEntryView) -> EntryLine {
    EntryLine {
        seq: e.seq,
        at: e.at,
        actor: e.actor,
        action: e.action,
        target: format!("{} {}", e.target_type, e.target_id),
    }
}

/// `GET /console/audit`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_page(&state.db, &headers, Permission::AuditRead).await?;
    let query = AuditQuery {
        after: query.get("after").cloned(),
        limit: Some(PAGE.into()),
    };
    let axum::Json(page) = list_audit(
        State(state.clone()),
        Extension(op.actor.clone()),
        Ok(Query(query)),
    )
    .await?;
    render(
        StatusCode::OK,
        &AuditPage {
            chrome: op.chrome(),
            entries: page.entries.into_iter().map(line).collect(),
            next_after: page.next_after,
        },
    )
}
