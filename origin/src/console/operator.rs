//! Who an operator is and what they may do, re-read from the control plane on every
//! request: a signed-in user who is a platform operator (`platform_operators`: acts for
//! the whole platform) or a member of the organisation the session acts for (their
//! `memberships` role, checked with `tollgate_core::rbac`). Ids in a path are checked
//! against the organisation with the admin API's own scoping (404 when not theirs).

use super::orgs::is_platform_operator;
use super::pages::{Chrome, ConsoleError, Nav};
use super::session::{self, Session};
use crate::admin::fields::Table;
use crate::db::Db;
use crate::tenancy::scope::visible;
use crate::tenancy::{Actor, Tenant};
use axum::http::HeaderMap;
use std::collections::HashMap;
use tollgate_core::rbac::{Permission, Role};

/// A signed-in operator for one request.
#[derive(Debug, Clone)]
pub struct Operator {
    pub user_id: String,
    pub name: String,
    /// How the admin logic sees them: `console:<user id>`, platform or org with role.
    pub actor: Actor,
    /// The organisation's name, `None` for the platform.
    pub org_name: Option<String>,
    pub session: Session,
}

impl Operator {
    /// The operator of `session`, with their current role; log-in again when they are
    /// signed out or no longer hold the grant the session was opened with.
    pub async fn of(db: &Db, session: Session) -> Result<Operator, ConsoleError> {
        let user_id = session.user_id.clone().ok_or(ConsoleError::LoginRequired)?;
        let user: Option<(String,)> = sqlx::query_as("SELECT name FROM users WHERE id = $1")
            .bind(&user_id)
            .fetch_optional(db)
            .await?;
        let (name,) = user.ok_or(ConsoleError::LoginRequired)?;
        let (tenant, org_name) = match &session.org_id {
            None => {
                if !is_platform_operator(db, &user_id).await? {
                    return Err(ConsoleError::LoginRequired);
                }
                (Tenant::Platform, None)
            }
            Some(org) => {
                let member: Option<(String, String)> = sqlx::query_as(
                    "SELECT m.role, o.name FROM memberships m JOIN organisations o ON o.id = m.org_id \
                     WHERE m.user_id = $1 AND m.org_id = $2",
                )
                .bind(&user_id)
                .bind(org)
                .fetch_optional(db)
                .await?;
                let (role, org_name) = match member {
                    Some((role, name)) => (Role::parse(&role), name),
                    // A platform operator may act for any organisation, as its owner.
                    None if is_platform_operator(db, &user_id).await? => {
                        let found: Option<(String,)> =
                            sqlx::query_as("SELECT name FROM organisations WHERE id = $1")
                                .bind(org)
                                .fetch_optional(db)
                                .await?;
                        let (name,) = found.ok_or(ConsoleError::LoginRequired)?;
                        (Some(Role::Owner), name)
                    }
                    None => return Err(ConsoleError::LoginRequired),
                };
                let role = role.ok_or(ConsoleError::LoginRequired)?;
                let tenant = Tenant::Org {
                    id: org.clone(),
                    role,
                };
                (tenant, Some(org_name))
            }
        };
        Ok(Operator {
            actor: Actor {
                who: format!("console:{user_id}"),
                tenant,
            },
            user_id,
            name,
            org_name,
            session,
        })
    }

    /// The operator of a page request (to the log-in page when signed out), who must
    /// hold `permission`.
    pub async fn for_page(
        db: &Db,
        headers: &HeaderMap,
        permission: Permission,
    ) -> Result<Operator, ConsoleError> {
        let session = session::current(db, headers)
            .await?
            .ok_or(ConsoleError::LoginRequired)?;
        let operator = Operator::of(db, session).await?;
        operator.need(permission)?;
        Ok(operator)
    }

    /// The operator of a form POST: the CSRF token first, then `permission`.
    pub async fn for_post(
        db: &Db,
        headers: &HeaderMap,
        form: &HashMap<String, String>,
        permission: Permission,
    ) -> Result<Operator, ConsoleError> {
        let session = session::for_post(db, headers, form).await?;
        let operator = Operator::of(db, session).await?;
        operator.need(permission)?;
        Ok(operator)
    }

    /// 403 unless the operator's role allows `permission`.
    pub fn need(&self, permission: Permission) -> Result<(), ConsoleError> {
        if self.actor.may(permission) {
            return Ok(());
        }
        let role = match &self.actor.tenant {
            Tenant::Org { role, .. } => role.as_str(),
            Tenant::Platform => "operator",
        };
        Err(ConsoleError::Forbidden(format!(
            "Your role ({role}) does not allow this ({}). Ask an owner or admin of the organisation.",
            describe(permission)
        )))
    }

    /// Whether the operator may do `permission` (to show or hide forms).
    pub fn may(&self, permission: Permission) -> bool {
        self.actor.may(permission)
    }

    /// 404 unless row `id` of `table` exists and belongs to the operator's organisation.
    pub async fn owns(&self, db: &Db, table: Table, id: &str) -> Result<(), ConsoleError> {
        if visible(db, table, id, &self.actor).await? {
            Ok(())
        } else {
            Err(ConsoleError::NotFound(table.noun()))
        }
    }

    /// The layout's data for this operator.
    pub fn chrome(&self) -> Chrome {
        let scope = match (&self.actor.tenant, &self.org_name) {
            (Tenant::Org { role, .. }, Some(org)) => format!("{org} · {}", role.as_str()),
            _ => "platform operator".to_owned(),
        };
        Chrome {
            operator: Some(self.name.clone()),
            scope,
            csrf: self.session.csrf.clone(),
            nav: Nav {
                apis: self.may(Permission::CatalogRead),
                plans: self.may(Permission::PlansRead),
                consumers: self.may(Permission::ConsumersRead),
                audit: self.may(Permission::AuditRead),
            },
        }
    }
}

/// What a permission lets one do, in words.
fn describe(permission: Permission) -> &'static str {
    use Permission::*;
    match permission {
        CatalogRead => "reading the catalog",
        CatalogWrite => "changing APIs and versions",
        PlansRead => "reading plans",
        PlansWrite => "changing plans",
        ConsumersRead => "reading consumers",
        ConsumersWrite => "changing consumers",
        KeysRead => "reading keys",
        KeysWrite => "issuing and revoking keys",
        UsageRead => "reading usage",
        BillingRead => "reading invoices",
        BillingWrite => "changing invoices",
        AuditRead => "reading the audit log",
        MembersRead => "reading members",
        MembersWrite => "managing members",
    }
}
