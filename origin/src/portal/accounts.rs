//! Accounts: sign-up (a `users` row with an argon2id hash plus the developer's consumer),
//! log-in (throttled per email and client address) and log-out.

use super::pages::{render, Chrome, PortalError};
use super::session::{self, User};
use super::verification::verification_mail;
use super::PortalSettings;
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::ids::{new_consumer_id, prefixed_id};
use crate::routes::AppState;
use crate::tenancy::Tenant;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use rand::Rng;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tollgate_core::portal_account::{check_login, check_sign_up, normalise_email, LoginVerdict};

/// The client's address (from the socket; "unknown" when served without one, as in tests).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Infallible> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

type Fields = Form<HashMap<String, String>>;

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or("")
}

/// A page answer, setting the session cookie when one was just started.
pub fn page(status: StatusCode, cookie: Option<HeaderValue>, html: impl IntoResponse) -> Response {
    let mut response = (status, html).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    chrome: Chrome,
    error: Option<String>,
    name: String,
    email: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LogInPage {
    chrome: Chrome,
    error: Option<String>,
    email: String,
    /// "Sign in with …" when single sign-on is configured.
    sso: Option<String>,
}

/// `GET /portal/signup`.
pub async fn sign_up_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let html = render(&SignUpPage {
        chrome: session.chrome(),
        error: None,
        name: String::new(),
        email: String::new(),
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

/// An argon2id hash of `password` with a fresh salt.
pub(crate) fn hash_password(password: &str) -> Result<String, PortalError> {
    let salt: [u8; 16] = rand::thread_rng().gen();
    let salt = SaltString::encode_b64(&salt).map_err(unexpected)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(unexpected)?
        .to_string())
}

/// Whether `password` matches the stored argon2 hash.
pub(crate) fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

fn unexpected(e: impl std::fmt::Display) -> PortalError {
    PortalError::App(crate::error::AppError::Unexpected(anyhow::anyhow!(
        "password hashing: {e}"
    )))
}

/// Argon2 takes tens of milliseconds of CPU: off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PortalError> {
    tokio::task::spawn_blocking(work).await.map_err(unexpected)
}

/// `POST /portal/signup`: creates the account and its consumer, then signs in.
pub async fn sign_up(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let (name, email, password) = (
        field(&form, "name"),
        field(&form, "email"),
        field(&form, "password"),
    );
    let again = |error: String| -> Result<Response, PortalError> {
        let html = render(&SignUpPage {
            chrome: session.chrome(),
            error: Some(error),
            name: name.to_owned(),
            email: email.to_owned(),
        })?;
        Ok(page(StatusCode::UNPROCESSABLE_ENTITY, None, html))
    };
    let checked = match check_sign_up(email, name, password) {
        Ok(checked) => checked,
        Err(e) => return again(format!("{}: {e}", e.field())),
    };
    let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(&checked.email)
        .fetch_optional(&state.db)
        .await?;
    if taken.is_some() {
        return again("An account with this email exists already: log in instead.".into());
    }
    let password = password.to_owned();
    let password_hash = blocking(move || hash_password(&password)).await??;
    let mut tx = crate::db::begin(&state.db).await?;
    let (user_id, consumer_id) = create_account(
        &mut tx,
        &checked.name,
        &checked.email,
        Some(&password_hash),
        None,
    )
    .await?;
    let mail =
        verification_mail(&mut tx, &settings, &user_id, &checked.name, &checked.email).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user_id, consumer_id = %consumer_id, "portal sign-up");
    settings.mailer.send(&state.db, mail).await?;
    session::end(&state.db, &session).await?;
    let user = User {
        id: user_id,
        name: checked.name,
        consumer_id,
        verified: false,
    };
    let (_, cookie) = session::start(&state.db, &settings, Some(user)).await?;
    Ok(page(
        StatusCode::SEE_OTHER,
        Some(cookie),
        Redirect::to("/portal/apis"),
    ))
}

/// Creates a portal account in `tx`: the developer's consumer, the user (with a password
/// hash, or none for single sign-on) and the audit entry. Returns (user id, consumer id).
pub(super) async fn create_account(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    name: &str,
    email: &str,
    password_hash: Option<&str>,
    verified_at: Option<i64>,
) -> Result<(String, String), PortalError> {
    let user_id = prefixed_id("usr");
    let consumer_id = new_consumer_id();
    let actor = Actor {
        who: format!("portal:{user_id}"),
        tenant: Tenant::Platform,
    };
    let now = now_ms();
    sqlx::query("INSERT INTO consumers (id, name, email, created_at, org_id, team_org_id) VALUES ($1, $2, $3, $4, NULL, NULL)")
        .bind(consumer_id.as_str())
        .bind(name)
        .bind(email)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO users (id, email, name, created_at, password_hash, consumer_id, email_verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&user_id)
        .bind(email)
        .bind(name)
        .bind(now)
        .bind(password_hash)
        .bind(consumer_id.as_str())
        .bind(verified_at)
        .execute(&mut **tx)
        .await?;
    let after = serde_json::json!({"user_id": user_id, "consumer_id": consumer_id.as_str(), "name": name, "email": email, "password": password_hash.is_some()});
    let change = audit::Change {
        action: "portal.sign_up",
        target_type: "user",
        target_id: &user_id,
        before: None,
        after: Some(after),
    };
    audit::record(tx, &actor, now, change).await?;
    Ok((user_id, consumer_id.0))
}

/// `GET /portal/login`.
pub async fn log_in_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let html = render(&LogInPage {
        chrome: session.chrome(),
        error: None,
        email: String::new(),
        sso: settings.oidc.as_ref().map(|o| o.display_name.clone()),
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

/// A valid argon2 hash of nothing anyone knows: unknown emails cost the same as known ones.
pub(crate) const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5bXcsMGjn3AKtXKRfGA9OclJzUXQ8HOvaXb6lwsn5Vw";

/// id, name, password_hash, consumer_id, email_verified_at
type UserRow = (String, String, Option<String>, Option<String>, Option<i64>);

/// `POST /portal/login`.
pub async fn log_in(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Fields,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let email = normalise_email(field(&form, "email"));
    let now = now_ms();
    let again = |status: StatusCode, error: String| -> Result<Response, PortalError> {
        let html = render(&LogInPage {
            chrome: session.chrome(),
            error: Some(error),
            email: email.clone(),
            sso: settings.oidc.as_ref().map(|o| o.display_name.clone()),
        })?;
        Ok(page(status, None, html))
    };
    if let LoginVerdict::Throttled { retry_after_secs } =
        login_verdict(&state.db, &email, &ip, now).await?
    {
        let minutes = retry_after_secs.div_ceil(60);
        let mut response = again(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed log-ins. Try again in {minutes} minute(s)."),
        )?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        return Ok(response);
    }
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, name, password_hash, consumer_id, email_verified_at FROM users WHERE email = $1",
    )
    .bind(&email)
    .fetch_optional(&state.db)
    .await?;
    let password = field(&form, "password").to_owned();
    let stored = row
        .as_ref()
        .and_then(|r| r.2.clone())
        .unwrap_or_else(|| DECOY_HASH.to_owned());
    let matches = password.len() <= tollgate_core::portal_account::MAX_PASSWORD_BYTES
        && blocking(move || verify_password(&password, &stored)).await?;
    let user = match (matches, row) {
        (true, Some((id, name, Some(_), Some(consumer_id), verified_at))) => User {
            id,
            name,
            consumer_id,
            verified: verified_at.is_some(),
        },
        _ => {
            sqlx::query(
                "INSERT INTO portal_login_failures (email, client_ip, at_ms) VALUES ($1, $2, $3)",
            )
            .bind(&email)
            .bind(&ip)
            .bind(now)
            .execute(&state.db)
            .await?;
            return again(StatusCode::UNAUTHORIZED, "Wrong email or password.".into());
        }
    };
    sqlx::query(
        "DELETE FROM portal_login_failures WHERE (email = $1 AND client_ip = $2) OR at_ms < $3",
    )
    .bind(&email)
    .bind(&ip)
    .bind(now - tollgate_core::portal_account::THROTTLE_WINDOW_MS)
    .execute(&state.db)
    .await?;
    session::end(&state.db, &session).await?;
    let (_, cookie) = session::start(&state.db, &settings, Some(user)).await?;
    Ok(page(
        StatusCode::SEE_OTHER,
        Some(cookie),
        Redirect::to("/portal/apis"),
    ))
}

/// Whether `email` may try to log in from `ip` now, from its recent failures (the portal
/// and the console share the throttle and its table).
pub(crate) async fn login_verdict(
    db: &crate::db::Db,
    email: &str,
    ip: &str,
    now: i64,
) -> Result<LoginVerdict, sqlx::Error> {
    let failures: Vec<(i64,)> = sqlx::query_as(
        "SELECT at_ms FROM portal_login_failures WHERE email = $1 AND client_ip = $2 AND at_ms > $3",
    )
    .bind(email)
    .bind(ip)
    .bind(now - tollgate_core::portal_account::THROTTLE_WINDOW_MS)
    .fetch_all(db)
    .await?;
    let times: Vec<i64> = failures.into_iter().map(|(t,)| t).collect();
    Ok(check_login(&times, now))
}

/// `POST /portal/logout`.
pub async fn log_out(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    session::end(&state.db, &session).await?;
    let cookie = session::set_cookie("", settings.secure_cookies, 0);
    Ok(page(
        StatusCode::SEE_OTHER,
        Some(cookie),
        Redirect::to("/portal/login"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only_and_the_decoy_parses() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
        assert!(!verify_password("", DECOY_HASH));
    }
}
