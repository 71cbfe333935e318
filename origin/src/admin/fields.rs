//! Checks for admin request members, each failing with a 422 that names the member, so
//! an operator fixing a request is told exactly what to change.

use crate::error::AppError;
use sqlx::{Any, Executor};
use tollgate_core::route::parse_base_path;

/// Longest accepted name or email.
pub const MAX_TEXT_CHARS: usize = 200;

/// A required, trimmed, non-empty text of reasonable length.
pub fn text(field: &str, value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An email address: only its shape is checked (`local@domain`, no spaces); whether it
/// receives mail is for the portal's sign-up to find out.
pub fn email(field: &str, value: &str) -> Result<String, AppError> {
    let value = text(field, value)?;
    let well_formed = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@')
    }) && !value.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(AppError::invalid(
            field,
            "must be an email address like `dev@example.com`",
        ));
    }
    Ok(value)
}

/// An absolute `http` or `https` URL without query, fragment or credentials; a trailing
/// `/` is dropped since the edge appends the request path to it.
pub fn http_url(field: &str, value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    let url = url::Url::parse(trimmed)
        .map_err(|e| AppError::invalid(field, format!("must be an absolute http(s) URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid(
            field,
            "must be an absolute http(s) URL like `https://api.example.com/v1`",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(AppError::invalid(
            field,
            "must not have a query string or fragment",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::invalid(field, "must not carry credentials"));
    }
    Ok(trimmed.trim_end_matches('/').to_owned())
}

/// A base path, normalised by the same rule the edge routes by.
pub fn base_path(field: &str, value: &str) -> Result<String, AppError> {
    parse_base_path(value).map_err(|e| AppError::invalid(field, e.to_string()))
}

/// Catalog tables an id can be looked up in.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Apis,
    Consumers,
    Plans,
    Keys,
    Limits,
    Subscriptions,
    Webhooks,
    OauthClients,
    Invoices,
}

impl Table {
    /// The table's SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Apis => "apis",
            Table::Consumers => "consumers",
            Table::Plans => "plans",
            Table::Keys => "keys",
            Table::Limits => "limits",
            Table::Subscriptions => "subscriptions",
            Table::Webhooks => "webhook_endpoints",
            Table::OauthClients => "oauth_clients",
            Table::Invoices => "invoices",
        }
    }

    /// What one row is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Table::Apis => "API",
            Table::Consumers => "consumer",
            Table::Plans => "plan",
            Table::Keys => "key",
            Table::Limits => "limit",
            Table::Subscriptions => "subscription",
            Table::Webhooks => "webhook",
            Table::OauthClients => "OAuth client",
            Table::Invoices => "invoice",
        }
    }
}

/// Whether a row with this id exists.
pub async fn exists<'e>(
    db: impl Executor<'e, Database = Any>,
    table: Table,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM {} WHERE id = $1", table.name());
    let (count,): (i64,) = sqlx::query_as(&sql).bind(id).fetch_one(db).await?;
    Ok(count > 0)
}

/// Whether a database error is a UNIQUE violation (a duplicate the client can fix).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<String, AppError>) -> String {
        r.unwrap_err().problem().field.unwrap()
    }

    #[test]
    fn texts_are_trimmed_and_required() {
        assert_eq!(text("name", "  Weather ").unwrap(), "Weather");
        assert_eq!(field(text("name", "   ")), "name");
        assert_eq!(field(text("name", &"x".repeat(201))), "name");
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert!(email("email", "dev@example.com").is_ok());
        for bad in [
            "dev",
            "@example.com",
            "dev@localhost",
            "d ev@example.com",
            "a@b@c.d",
        ] {
            assert_eq!(field(email("email", bad)), "email", "{bad}");
        }
    }

    #[test]
    fn upstream_urls_are_absolute_http() {
        assert_eq!(
            http_url("u", "http://127.0.0.1:9090/").unwrap(),
            "http://127.0.0.1:9090"
        );
        assert_eq!(
            http_url("u", "https://api.example.com/v1").unwrap(),
            "https://api.example.com/v1"
        );
        for bad in [
            "",
            "/relative",
            "ftp://x.org",
            "http://",
            "https://x.org/?a=1",
            "http://u:p@x.org",
            "http://x.org/#f",
        ] {
            assert_eq!(
                field(http_url("upstream_url", bad)),
                "upstream_url",
                "{bad}"
            );
        }
    }

    #[test]
    fn base_paths_follow_the_core_rule() {
        assert_eq!(base_path("base_path", "/weather/").unwrap(), "/weather");
        assert_eq!(field(base_path("base_path", "weather")), "base_path");
        assert_eq!(field(base_path("base_path", "/")), "base_path");
    }
}
