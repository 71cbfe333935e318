//! `GET /console/settings`: a read-only view of what the edge is configured from (config
//! version, edge URL, refresh window), the webhooks that receive the audit trail (for roles
//! that read the audit log) and the organisation's members (organisations, for the
//! platform operator), and which organisation the session acts for.

use super::operator::Operator;
use super::orgs::choices;
use super::pages::{render, Chrome, ConsoleError};
use super::ConsoleSettings;
use crate::config_version;
use crate::extract::Path as AdminPath;
use crate::routes::AppState;
use crate::tenancy::admin::{list_members, list_orgs, Member, Org};
use crate::webhooks::endpoints::{list_webhooks, Webhook};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use std::sync::Arc;
use tollgate_core::rbac::Permission;

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    config_version: u64,
    edge_url: String,
    webhooks: Option<Vec<Webhook>>,
    members: Vec<Member>,
    orgs: Vec<Org>,
    /// What the operator may act for: (organisation id or `""`, label).
    choices: Vec<(String, String)>,
    current: String,
}

/// `GET /console/settings`.
pub async fn show(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<ConsoleSettings>>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_page(&state.db, &headers, Permission::MembersRead).await?;
    let actor = || Extension(op.actor.clone());
    let webhooks = if op.may(Permission::AuditRead) {
        let axum::Json(hooks) = list_webhooks(State(state.clone()), actor()).await?;
        Some(hooks)
    } else {
        None
    };
    let (members, orgs) = match op.actor.org_id() {
        Some(org) => {
            let axum::Json(members) =
                list_members(State(state.clone()), AdminPath(org.to_owned())).await?;
            (members, Vec::new())
        }
        None => {
            let axum::Json(orgs) = list_orgs(State(state.clone()), actor()).await?;
            (Vec::new(), orgs)
        }
    };
    render(
        StatusCode::OK,
        &SettingsPage {
            chrome: op.chrome(),
            config_version: config_version::current(&state.db).await?,
            edge_url: settings.edge_url.clone(),
            webhooks,
            members,
            orgs,
            choices: choices(&state.db, &op.user_id).await?,
            current: op.actor.org_id().unwrap_or_default().to_owned(),
        },
    )
}
