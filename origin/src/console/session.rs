//! Console sessions: a random cookie `tg_console` (`Path=/console`) whose SHA-256 is the
//! `console_sessions` row id, with its own CSRF token and the organisation the operator
//! acts for. Kept apart from the portal's sessions so a developer's portal cookie never
//! opens the console; the cookie, hashing and CSRF helpers are the portal's.

use super::pages::ConsoleError;
use crate::clock::now_ms;
use crate::db::Db;
use crate::portal::session::{cookie_named, csrf_matches, hash, random_hex};
use axum::http::{HeaderMap, HeaderValue};
use std::collections::HashMap;

/// The session cookie's name.
pub const COOKIE: &str = "tg_console";
/// How long a console session lasts: 8 hours.
pub const TTL_MS: i64 = 8 * 3600 * 1000;

/// A visitor's console session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub user_id: Option<String>,
    /// The organisation acted for; `None` for the platform (or before log-in).
    pub org_id: Option<String>,
    pub csrf: String,
}

/// The live session the request's cookie names, if any.
pub async fn current(db: &Db, headers: &HeaderMap) -> Result<Option<Session>, sqlx::Error> {
    let Some(value) = cookie_named(headers, COOKIE) else {
        return Ok(None);
    };
    let row: Option<(String, Option<String>, Option<String>, String)> = sqlx::query_as(
        "SELECT id_hash, user_id, org_id, csrf_token FROM console_sessions WHERE id_hash = $1 AND expires_at > $2",
    )
    .bind(hash(&value))
    .bind(now_ms())
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id_hash, user_id, org_id, csrf)| Session {
        id_hash,
        user_id,
        org_id,
        csrf,
    }))
}

/// Starts a session (signed in as `user_id` acting for `org_id`, or anonymous) and
/// returns it with its `Set-Cookie`.
pub async fn start(
    db: &Db,
    secure: bool,
    user_id: Option<String>,
    org_id: Option<String>,
) -> Result<(Session, HeaderValue), sqlx::Error> {
    let value = random_hex();
    let csrf = random_hex();
    let now = now_ms();
    sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    sqlx::query(
        "INSERT INTO console_sessions (id_hash, user_id, org_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hash(&value))
    .bind(user_id.as_deref())
    .bind(org_id.as_deref())
    .bind(&csrf)
    .bind(now)
    .bind(now + TTL_MS)
    .execute(db)
    .await?;
    let session = Session {
        id_hash: hash(&value),
        user_id,
        org_id,
        csrf,
    };
    Ok((session, set_cookie(&value, secure, TTL_MS / 1000)))
}

/// Ends a session.
pub async fn end(db: &Db, session: &Session) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
        .bind(&session.id_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// The `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Path=/console`, `Secure` on https.
pub fn set_cookie(value: &str, secure: bool, max_age_secs: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    );
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("tg_console=; Max-Age=0"))
}

/// The visitor's session, starting an anonymous one (with the cookie to set) when there
/// is none, so the log-in form carries a CSRF token.
pub async fn visit(
    db: &Db,
    secure: bool,
    headers: &HeaderMap,
) -> Result<(Session, Option<HeaderValue>), sqlx::Error> {
    if let Some(session) = current(db, headers).await? {
        return Ok((session, None));
    }
    let (session, cookie) = start(db, secure, None, None).await?;
    Ok((session, Some(cookie)))
}

/// The session of a form POST, which must carry that session's CSRF token (403 otherwise).
pub async fn for_post(
    db: &Db,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Session, ConsoleError> {
    let session = current(db, headers).await?.ok_or_else(|| {
        ConsoleError::Forbidden(
            "Your session has expired or cookies are off. Reload the page and try again.".into(),
        )
    })?;
    if !csrf_matches(form, &session.csrf) {
        return Err(ConsoleError::Forbidden(
            "The form's security token is missing or wrong. Reload the page and try again.".into(),
        ));
    }
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_cookies_are_strict_http_only_and_scoped_to_the_console() {
        let c = set_cookie("abc", false, 60);
        let c = c.to_str().unwrap();
        assert!(c.starts_with("tg_console=abc;"));
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/console")
        );
        assert!(!c.contains("Secure"));
        assert!(set_cookie("abc", true, 60)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
    }
}
