//! Email verification: sign-up mails a single-use link (24 h) to `/portal/verify`;
//! until it is followed the layout shows a banner with a throttled "send again" button.
//! Unverified developers may still subscribe to free plans, create keys and try calls
//! (the first-call flow stays short); starting a trial needs a verified address.

use super::accounts::{page, ClientIp};
use super::pages::{render, Chrome, PortalError};
use super::session;
use super::tokens;
use super::PortalSettings;
use crate::clock::now_ms;
use crate::mail::Mail;
use crate::routes::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use std::collections::HashMap;
use std::sync::Arc;
use tollgate_core::account_token::{MailVerdict, TokenPurpose};

/// A page with one message: the outcome of following a link or asking for a mail.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub title: String,
    pub message: String,
    pub error: bool,
}

/// Renders a one-message page.
pub fn message(
    status: StatusCode,
    chrome: Chrome,
    title: &str,
    text: String,
    cookie: Option<HeaderValue>,
) -> Result<Response, PortalError> {
    let html = render(&MessagePage {
        chrome,
        title: title.to_owned(),
        message: text,
        error: status.is_client_error(),
    })?;
    Ok(page(status, cookie, html))
}

/// The verification mail for `email` with a fresh token; issued in `tx`.
pub async fn verification_mail(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    settings: &PortalSettings,
    user_id: &str,
    name: &str,
    email: &str,
) -> Result<Mail, sqlx::Error> {
    let token = tokens::issue(tx, user_id, TokenPurpose::VerifyEmail, now_ms()).await?;
    Ok(Mail {
        to: email.to_owned(),
        subject: "Verify your email address for the tollgate developer portal".into(),
        body: format!(
            "Hello {name},\n\nplease confirm that {email} is your address by opening this link \
             within 24 hours:\n\n{}/portal/verify?token={token}\n\nIf you did not sign up, \
             ignore this mail.\n",
            settings.public_url
        ),
    })
}

/// `GET /portal/verify?token=…`: marks the address verified and uses the token up.
pub async fn verify(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let token = query.get("token").map(String::as_str).unwrap_or("");
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let redeemed = tokens::redeem(&mut tx, token, TokenPurpose::VerifyEmail, now).await?;
    let outcome = match redeemed {
        Ok(user_id) => {
            sqlx::query("UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email_verified_at IS NULL")
                .bind(now)
                .bind(&user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(user_id = %user_id, "portal email verified");
            Ok(())
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    };
    // Read the session after the change so the banner is gone on this very page.
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    match outcome {
        Ok(()) => message(
            StatusCode::OK,
            session.chrome(),
            "Email verified",
            "Thank you: your email address is verified.".into(),
            cookie,
        ),
        Err(e) => message(
            StatusCode::BAD_REQUEST,
            session.chrome(),
            "Link not accepted",
            format!("Your email address was not verified: {e}."),
            cookie,
        ),
    }
}

/// `POST /portal/verify/resend`: another verification mail, at most 3 an hour.
pub async fn resend(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let user = session.user()?;
    let chrome = session.chrome();
    if user.verified {
        return message(
            StatusCode::OK,
            chrome,
            "Already verified",
            "Your email address is verified already.".into(),
            None,
        );
    }
    let (email,): (String,) = sqlx::query_as("SELECT email FROM users WHERE id = $1")
        .bind(&user.id)
        .fetch_one(&state.db)
        .await?;
    let now = now_ms();
    let verdict =
        tokens::allow_mail(&state.db, TokenPurpose::VerifyEmail, &email, &ip, now).await?;
    if let MailVerdict::Throttled { retry_after_secs } = verdict {
        let mut response = message(
            StatusCode::TOO_MANY_REQUESTS,
            chrome,
            "Please wait",
            format!(
                "We sent several links to {email} recently. Look for them (and in your spam folder), \
                 or ask again in {} minute(s).",
                retry_after_secs.div_ceil(60)
            ),
            None,
        )?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        return Ok(response);
    }
    let mut tx = crate::db::begin(&state.db).await?;
    let mail = verification_mail(&mut tx, &settings, &user.id, &user.name, &email).await?;
    tx.commit().await?;
    settings.mailer.send(&state.db, mail).await?;
    message(
        StatusCode::OK,
        chrome,
        "Link sent",
        format!("We sent a new verification link to {email}. It works for 24 hours."),
        None,
    )
}
