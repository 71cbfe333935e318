//! Browser sessions: a random cookie value whose SHA-256 is the `portal_sessions` row id
//! (a database leak yields no usable cookie), each with its own CSRF token. Visitors get an
//! anonymous session on their first page so the sign-up and log-in forms carry a token
//! too; logging in replaces it with a fresh one (no session fixation).

use super::pages::{Chrome, PortalError};
use super::PortalSettings;
use crate::clock::now_ms;
use crate::db::Db;
use axum::http::{header, HeaderMap, HeaderValue};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "tg_portal";
/// How long a session lasts: 12 hours.
pub const TTL_MS: i64 = 12 * 3600 * 1000;

/// A signed-in developer.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub consumer_id: String,
    /// Whether the user has proved they read mail at their address.
    pub verified: bool,
}

/// The visitor's session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub user: Option<User>,
    pub csrf: String,
}

impl Session {
    /// The chrome for this visitor's pages.
    pub fn chrome(&self) -> Chrome {
        Chrome {
            user_name: self.user.as_ref().map(|u| u.name.clone()),
            unverified: self.user.as_ref().is_some_and(|u| !u.verified),
            csrf: self.csrf.clone(),
        }
    }

    /// The signed-in user, or a redirect to the log-in page.
    pub fn user(&self) -> Result<&User, PortalError> {
        self.user.as_ref().ok_or(PortalError::LoginRequired)
    }
}

/// 256 random bits as hex: session cookie values and CSRF tokens.
pub(crate) fn random_hex() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    hex::encode(bytes)
}

/// The stored form of a cookie value.
pub(crate) fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The session cookie's value, when the request has a well-formed one.
fn cookie_value(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, COOKIE)
}

/// The value of the cookie `name` when it is a well-formed session value (64 hex digits).
pub(crate) fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// id_hash, user_id, csrf_token, user name, consumer_id, email_verified_at
type SessionRow = (
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// The live session the request's cookie names, if any.
pub async fn current(db: &Db, headers: &HeaderMap) -> Result<Option<Session>, sqlx::Error> {
    let Some(value) = cookie_value(headers) else {
        return Ok(None);
    };
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT s.id_hash, s.user_id, s.csrf_token, u.name, u.consumer_id, u.email_verified_at FROM portal_sessions s \
             LEFT JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2",
    )
    .bind(hash(&value))
    .bind(now_ms())
    .fetch_optional(db)
    .await?;
    Ok(
        row.map(|(id_hash, user_id, csrf, name, consumer_id, verified_at)| {
            let user = match (user_id, name, consumer_id) {
                (Some(id), Some(name), Some(consumer_id)) => Some(User {
                    id,
                    name,
                    consumer_id,
                    verified: verified_at.is_some(),
                }),
                _ => None,
            };
            Session {
                id_hash,
                user,
                csrf,
            }
        }),
    )
}

/// Starts a session (for `user_id`, or anonymous) and returns it with its `Set-Cookie`.
pub async fn start(
    db: &Db,
    settings: &PortalSettings,
    user: Option<User>,
) -> Result<(Session, HeaderValue), PortalError> {
    let value = random_hex();
    let csrf = random_hex();
    let now = now_ms();
    sqlx::query("DELETE FROM portal_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    sqlx::query(
        "INSERT INTO portal_sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash(&value))
    .bind(user.as_ref().map(|u| u.id.clone()))
    .bind(&csrf)
    .bind(now)
    .bind(now + TTL_MS)
    .execute(db)
    .await?;
    let cookie = set_cookie(&value, settings.secure_cookies, TTL_MS / 1000);
    let session = Session {
        id_hash: hash(&value),
        user,
        csrf,
    };
    Ok((session, cookie))
}

/// Ends every session of a user (after a password reset).
pub async fn end_all(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM portal_sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// Ends a session.
pub async fn end(db: &Db, session: &Session) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM portal_sessions WHERE id_hash = $1")
        .bind(&session.id_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// The `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/portal`, `Secure` on https.
pub fn set_cookie(value: &str, secure: bool, max_age_secs: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{COOKIE}={value}; Path=/portal; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    );
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("tg_portal=; Max-Age=0"))
}

/// The visitor's session for a page, starting an anonymous one when there is none (then
/// with the cookie to set).
pub async fn visit(
    db: &Db,
    settings: &PortalSettings,
    headers: &HeaderMap,
) -> Result<(Session, Option<HeaderValue>), PortalError> {
    if let Some(session) = current(db, headers).await? {
        return Ok((session, None));
    }
    let (session, cookie) = start(db, settings, None).await?;
    Ok((session, Some(cookie)))
}

/// The session of a form POST, which must carry that session's CSRF token (403 otherwise).
pub async fn for_post(
    db: &Db,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Session, PortalError> {
    let session = current(db, headers).await?.ok_or(PortalError::Forbidden(
        "Your session has expired or cookies are off. Reload the page and try again.",
    ))?;
    if !csrf_matches(form, &session.csrf) {
        return Err(PortalError::Forbidden(
            "The form's security token is missing or wrong. Reload the page and try again.",
        ));
    }
    Ok(session)
}

/// Whether the form's `csrf` field is the session's token (compared in constant time).
pub(crate) fn csrf_matches(form: &HashMap<String, String>, expected: &str) -> bool {
    let sent = form.get("csrf").map(String::as_str).unwrap_or("");
    !expected.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_session_cookies_are_read() {
        let good = "a".repeat(64);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("x=1; {COOKIE}={good}")).unwrap(),
        );
        assert_eq!(cookie_value(&headers), Some(good));
        for bad in ["tg_portal=zz", "tg_portal=", "other=aaaa"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, HeaderValue::from_static(bad));
            assert_eq!(cookie_value(&headers), None, "{bad}");
        }
    }

    #[test]
    fn cookies_are_http_only_lax_and_scoped_to_the_portal() {
        let c = set_cookie("abc", false, 60);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/portal"));
        assert!(!c.contains("Secure"));
        assert!(set_cookie("abc", true, 60)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
    }
}
