//! Tenant scoping for queries: whether a row belongs to the caller's organisation, and the
//! `org_id` filter lists add. One place, so no handler writes its own.

use super::Actor;
use crate::admin::fields::Table;
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::{Any, Executor};

/// Whether the row `id` of `table` exists and the caller may see it.
pub async fn visible<'e>(
    db: impl Executor<'e, Database = Any>,
    table: Table,
    id: &str,
    actor: &Actor,
) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT org_id FROM {} WHERE id = $1", table.name());
    let row: Option<(Option<String>,)> = sqlx::query_as(&sql).bind(id).fetch_optional(db).await?;
    Ok(match (row, actor.org_id()) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some((owner,)), Some(org)) => owner.as_deref() == Some(org),
    })
}

/// An ` AND org_id = $n` clause (and its value) when the caller is scoped to an
/// organisation; empty for the platform operator. `column` may be qualified.
pub fn org_clause(actor: &Actor, column: &str, param: usize) -> (String, Option<String>) {
    match actor.org_id() {
        Some(org) => (format!(" AND {column} = ${param}"), Some(org.to_owned())),
        None => (String::new(), None),
    }
}

/// Binds the value of an [`org_clause`] (nothing for the platform operator), so every
/// scoped list is one expression.
pub fn bind_org<'q, O>(
    query: QueryAs<'q, Any, O, AnyArguments<'q>>,
    org: Option<String>,
) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
    match org {
        Some(org) => query.bind(org),
        None => query,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::Tenant;
    use tollgate_core::rbac::Role;

    #[test]
    fn platform_callers_get_no_clause_org_callers_get_theirs() {
        assert_eq!(
            org_clause(&Actor::admin_token(), "org_id", 2),
            (String::new(), None)
        );
        let member = Actor {
            who: "usr_1".into(),
            tenant: Tenant::Org {
                id: "org_a".into(),
                role: Role::Viewer,
            },
        };
        assert_eq!(
            org_clause(&member, "k.org_id", 3),
            (" AND k.org_id = $3".into(), Some("org_a".into()))
        );
    }
}
