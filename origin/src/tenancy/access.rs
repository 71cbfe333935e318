//! The admin API's access check, run on every admin request after authentication: the
//! permission each route needs (by method and route template), and that every resource
//! id in the path belongs to the caller's organisation (404 when it does not).
//! A route missing from [`required`] is platform-only, so a new route fails closed.

use super::scope::visible;
use super::Actor;
use crate::admin::fields::Table;
use crate::error::AppError;
use crate::routes::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tollgate_core::rbac::Permission;

/// What a route needs; `None` means only the platform operator may call it.
pub fn required(method: &Method, template: &str) -> Option<Permission> {
    use Permission::*;
    let read = method == Method::GET || method == Method::HEAD;
    let area = template.strip_prefix("/admin/v1/")?;
    let pick = |r: Permission, w: Permission| Some(if read { r } else { w });
    match area.split('/').next()? {
        "apis" => pick(CatalogRead, CatalogWrite),
        "consumers" if template.contains("/certificates") => pick(KeysRead, KeysWrite),
        "consumers" => pick(ConsumersRead, ConsumersWrite),
        "plans" => pick(PlansRead, PlansWrite),
        "keys" => pick(KeysRead, KeysWrite),
        "subscriptions" => pick(KeysRead, KeysWrite),
        "limits" => pick(PlansRead, PlansWrite),
        "oauth" if template.starts_with("/admin/v1/oauth/clients") => pick(KeysRead, KeysWrite),
        "usage" if read => Some(UsageRead),
        "invoices" => pick(BillingRead, BillingWrite),
        "audit" if read => Some(AuditRead),
        "teams" => pick(KeysRead, KeysWrite),
        // An endpoint receives the audit trail, so reading needs the audit permission and
        // changing one is for those who manage the organisation.
        "webhooks" => pick(AuditRead, MembersWrite),
        "orgs" if template.ends_with("/members") => pick(MembersRead, MembersWrite),
        "orgs" if read && template == "/admin/v1/orgs" => Some(MembersRead),
        // The outbox holds every organisation's developers' sign-in and reset links.
        "mail" => None,
        _ => None,
    }
}

/// Which table a path parameter names, by the collection it follows.
fn table_of(collection: &str) -> Option<Table> {
    match collection {
        "apis" => Some(Table::Apis),
        "consumers" => Some(Table::Consumers),
        "plans" => Some(Table::Plans),
        "keys" => Some(Table::Keys),
        "limits" => Some(Table::Limits),
        "subscriptions" => Some(Table::Subscriptions),
        "webhooks" => Some(Table::Webhooks),
        "clients" => Some(Table::OauthClients),
        "certificates" => Some(Table::Keys),
        "invoices" => Some(Table::Invoices),
        _ => None,
    }
}

/// The `{param}` values of `path` under `template`, with the collection before each.
fn path_ids<'a>(template: &'a str, path: &'a str) -> Vec<(&'a str, &'a str)> {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.iter()
        .zip(&p)
        .enumerate()
        .filter(|(_, (seg, _))| seg.starts_with('{'))
        .filter_map(|(i, (_, value))| Some((*t.get(i.checked_sub(1)?)?, *value)))
        .collect()
}

/// Middleware: permission by role, then ownership of every id in the path.
pub async fn authorize(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let actor = request
        .extensions()
        .get::<Actor>()
        .cloned()
        .ok_or(AppError::MissingAdminToken)?;
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let allowed = match required(request.method(), &template) {
        Some(permission) => actor.may(permission),
        None => actor.is_platform(),
    };
    if !allowed {
        return Err(AppError::Forbidden(format!(
            "your role does not allow {} {template}; ask an owner or admin of the organisation",
            request.method()
        )));
    }
    let path = request.uri().path().to_owned();
    // A team's routes name the team and then ids of rows the provider owns; the team
    // handlers check those against the team (`tenancy::teams`), so only the team is checked here.
    let team_route = template.starts_with("/admin/v1/teams/");
    for (collection, id) in path_ids(&template, &path) {
        if team_route && collection != "teams" {
            continue;
        }
        let Some(table) = table_of(collection) else {
            if (collection == "orgs" || collection == "teams")
                && actor.org_id().is_some_and(|org| org != id)
            {
                return Err(AppError::NotFound {
                    what: if collection == "teams" {
                        "team"
                    } else {
                        "organisation"
                    },
                    id: id.to_owned(),
                });
            }
            continue;
        };
        if !visible(&state.db, table, id, &actor).await? {
            return Err(AppError::NotFound {
                what: table.noun(),
                id: id.to_owned(),
            });
        }
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_permissions_and_unknown_ones_are_platform_only() {
        assert_eq!(
            required(&Method::GET, "/admin/v1/apis/{id}/versions"),
            Some(Permission::CatalogRead)
        );
        assert_eq!(
            required(
                &Method::POST,
                "/admin/v1/apis/{id}/versions/{version}/publish"
            ),
            Some(Permission::CatalogWrite)
        );
        assert_eq!(
            required(&Method::DELETE, "/admin/v1/keys/{id}"),
            Some(Permission::KeysWrite)
        );
        assert_eq!(
            required(&Method::POST, "/admin/v1/orgs/{id}/members"),
            Some(Permission::MembersWrite)
        );
        assert_eq!(required(&Method::POST, "/admin/v1/orgs"), None);
        assert_eq!(
            required(&Method::DELETE, "/admin/v1/oauth/clients/{client_id}"),
            Some(Permission::KeysWrite)
        );
        assert_eq!(
            required(&Method::POST, "/admin/v1/oauth/signing-keys/rotate"),
            None
        );
        assert_eq!(required(&Method::POST, "/admin/v1/users"), None);
        assert_eq!(required(&Method::POST, "/admin/v1/usage"), None);
        assert_eq!(required(&Method::GET, "/admin/v1/something-new"), None);
    }

    #[test]
    fn path_ids_pair_each_parameter_with_its_collection() {
        assert_eq!(
            path_ids(
                "/admin/v1/apis/{id}/versions/{version}",
                "/admin/v1/apis/api_1/versions/1.0.0"
            ),
            vec![("apis", "api_1"), ("versions", "1.0.0")]
        );
        assert_eq!(
            path_ids(
                "/admin/v1/keys/revoke-by-value",
                "/admin/v1/keys/revoke-by-value"
            ),
            vec![]
        );
    }
}
