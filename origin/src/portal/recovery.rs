//! Password reset: `/portal/forgot` mails a single-use link (1 h) to `/portal/reset`,
//! which sets a new argon2 password and ends every session of the account. The forgot
//! form answers the same whether or not the address has an account (no enumeration: the
//! look-up and mail happen after the answer), and is throttled per address and client.

use super::accounts::{blocking, hash_password, page, ClientIp};
use super::pages::{render, Chrome, PortalError};
use super::session;
use super::tokens;
use super::verification::message;
use super::PortalSettings;
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::mail::Mail;
use crate::routes::AppState;
use crate::tenancy::Tenant;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use std::collections::HashMap;
use std::sync::Arc;
use tollgate_core::account_token::{MailVerdict, TokenPurpose};
use tollgate_core::portal_account::{check_password, check_sign_up, normalise_email};

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    error: Option<String>,
    email: String,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    chrome: Chrome,
    error: Option<String>,
    token: String,
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or("")
}

/// `GET /portal/forgot`.
pub async fn forgot_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let html = render(&ForgotPage {
        chrome: session.chrome(),
        error: None,
        email: String::new(),
    })?;
    Ok(page(StatusCode::OK, cookie, html))
}

/// `POST /portal/forgot`: the same answer for every well-formed address.
pub async fn forgot(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let email = normalise_email(field(&form, "email"));
    // Only the shape is checked here (a placeholder name and password): nothing that
    // depends on whether the account exists.
    if check_sign_up(&email, "x", "placeholder password").is_err() {
        let html = render(&ForgotPage {
            chrome: session.chrome(),
            error: Some("Enter the email address of your account, like ada@example.com.".into()),
            email,
        })?;
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, None, html));
    }
    let now = now_ms();
    let verdict =
        tokens::allow_mail(&state.db, TokenPurpose::ResetPassword, &email, &ip, now).await?;
    if let MailVerdict::Throttled { retry_after_secs } = verdict {
        let mut response = message(
            StatusCode::TOO_MANY_REQUESTS,
            session.chrome(),
            "Please wait",
            format!(
                "Several reset links were asked for recently. Look for them in your mail (and \
                 spam folder), or ask again in {} minute(s).",
                retry_after_secs.div_ceil(60)
            ),
            None,
        )?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        return Ok(response);
    }
    let (db, settings_bg, to) = (state.db.clone(), settings.clone(), email.clone());
    tokio::spawn(async move {
        if let Err(e) = mail_reset_link(&db, &settings_bg, &to).await {
            tracing::error!(error = %e, "sending a password-reset mail");
        }
    });
    message(
        StatusCode::OK,
        session.chrome(),
        "Check your mail",
        format!(
            "If {email} has an account here, we sent it a link to choose a new password. \
             The link works once, for 1 hour."
        ),
        None,
    )
}

/// Mails a reset link when `email` has an account; does nothing otherwise.
async fn mail_reset_link(
    db: &crate::db::Db,
    settings: &PortalSettings,
    email: &str,
) -> Result<(), sqlx::Error> {
    let user: Option<(String, String)> =
        sqlx::query_as("SELECT id, name FROM users WHERE email = $1 AND consumer_id IS NOT NULL")
            .bind(email)
            .fetch_optional(db)
            .await?;
    let Some((user_id, name)) = user else {
        return Ok(());
    };
    let mut tx = crate::db::begin(db).await?;
    let token = tokens::issue(&mut tx, &user_id, TokenPurpose::ResetPassword, now_ms()).await?;
    tx.commit().await?;
    let mail = Mail {
        to: email.to_owned(),
        subject: "Reset your tollgate developer portal password".into(),
        body: format!(
            "Hello {name},\n\nsomeone (hopefully you) asked to reset the password of the tollgate \
             developer portal account {email}. To choose a new one, open this link within 1 hour:\
             \n\n{}/portal/reset?token={token}\n\nIf it was not you, ignore this mail: your \
             password stays as it is.\n",
            settings.public_url
        ),
    };
    settings.mailer.send(db, mail).await?;
    Ok(())
}

/// `GET /portal/reset?token=…`: the new-password form, when the link still works.
pub async fn reset_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let token = query.get("token").cloned().unwrap_or_default();
    match tokens::peek(&state.db, &token, TokenPurpose::ResetPassword, now_ms()).await? {
        Ok(_) => {
            let html = render(&ResetPage {
                chrome: session.chrome(),
                error: None,
                token,
            })?;
            Ok(page(StatusCode::OK, cookie, html))
        }
        Err(e) => link_refused(session.chrome(), e, cookie),
    }
}

fn link_refused(
    chrome: Chrome,
    e: tollgate_core::account_token::TokenError,
    cookie: Option<HeaderValue>,
) -> Result<Response, PortalError> {
    message(
        StatusCode::BAD_REQUEST,
        chrome,
        "Link not accepted",
        format!("Your password was not changed: {e} at /portal/forgot."),
        cookie,
    )
}

/// `POST /portal/reset`: sets the new password, uses the token up, ends all sessions.
pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let token = field(&form, "token").to_owned();
    let now = now_ms();
    let user_id = match tokens::peek(&state.db, &token, TokenPurpose::ResetPassword, now).await? {
        Ok(user_id) => user_id,
        Err(e) => return link_refused(session.chrome(), e, None),
    };
    let (email,): (String,) = sqlx::query_as("SELECT email FROM users WHERE id = $1")
        .bind(&user_id)
        .fetch_one(&state.db)
        .await?;
    let password = field(&form, "password").to_owned();
    if let Err(e) = check_password(&email, &password) {
        let html = render(&ResetPage {
            chrome: session.chrome(),
            error: Some(format!("password: {e}")),
            token,
        })?;
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, None, html));
    }
    let password_hash = blocking(move || hash_password(&password)).await??;
    let mut tx = crate::db::begin(&state.db).await?;
    // Redeemed again inside the transaction: of two concurrent resets only one wins.
    let user_id = match tokens::redeem(&mut tx, &token, TokenPurpose::ResetPassword, now).await? {
        Ok(user_id) => user_id,
        Err(e) => {
            tx.rollback().await?;
            return link_refused(session.chrome(), e, None);
        }
    };
    // Following the mailed link proved the address, too.
    sqlx::query("UPDATE users SET password_hash = $1, email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $3")
        .bind(&password_hash)
        .bind(now)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    let ended = session::end_all(&mut tx, &user_id).await?;
    sqlx::query("DELETE FROM portal_login_failures WHERE email = $1")
        .bind(&email)
        .execute(&mut *tx)
        .await?;
    let actor = Actor {
        who: format!("portal:{user_id}"),
        tenant: Tenant::Platform,
    };
    let change = audit::Change {
        action: "portal.password_reset",
        target_type: "user",
        target_id: &user_id,
        before: None,
        after: Some(serde_json::json!({"user_id": user_id, "sessions_ended": ended})),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user_id, sessions_ended = ended, "portal password reset");
    let chrome = Chrome {
        user_name: None,
        unverified: false,
        csrf: session.csrf.clone(),
    };
    message(
        StatusCode::OK,
        chrome,
        "Password changed",
        "Your password is changed and every device that was signed in is signed out. Log in with the new password.".into(),
        None,
    )
}
