//! Operator accounts: log-in and log-out of the console (the portal's argon2 passwords
//! and log-in throttle), and [`create_operator`], which `tollgate operator create` uses to
//! make the first operator (or give an existing user a console role).

use super::pages::{field, render, see_other, Chrome, ConsoleError};
use super::session;
use super::ConsoleSettings;
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::db::Db;
use crate::error::AppError;
use crate::ids::prefixed_id;
use crate::portal::accounts::{blocking, hash_password, verify_password, ClientIp, DECOY_HASH};
use crate::routes::AppState;
use crate::tenancy::Tenant;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use std::collections::HashMap;
use std::sync::Arc;
use tollgate_core::portal_account::{
    check_sign_up, normalise_email, LoginVerdict, MAX_PASSWORD_BYTES,
};
use tollgate_core::rbac::Role;

#[derive(Template)]
#[template(path = "console/login.html")]
struct LogInPage {
    chrome: Chrome,
    error: Option<String>,
    email: String,
}

/// `GET /console/login`.
pub async fn log_in_page(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<ConsoleSettings>>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let (session, cookie) = session::visit(&state.db, settings.secure_cookies, &headers).await?;
    let chrome = Chrome {
        csrf: session.csrf,
        ..Chrome::default()
    };
    let mut response = render(
        StatusCode::OK,
        &LogInPage {
            chrome,
            error: None,
            email: String::new(),
        },
    )?;
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The organisation a user's console session acts for: the platform for platform
/// operators, else their first membership (by organisation id); `None` if neither.
async fn grant_of(db: &Db, user_id: &str) -> Result<Option<Option<String>>, sqlx::Error> {
    let platform: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM platform_operators WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    if platform.is_some() {
        return Ok(Some(None));
    }
    let org: Option<(String,)> =
        sqlx::query_as("SELECT org_id FROM memberships WHERE user_id = $1 ORDER BY org_id")
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    Ok(org.map(|(id,)| Some(id)))
}

/// `POST /console/login`.
pub async fn log_in(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<ConsoleSettings>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let email = normalise_email(field(&form, "email"));
    let now = now_ms();
    let again = |status: StatusCode, error: String| {
        let chrome = Chrome {
            csrf: session.csrf.clone(),
            ..Chrome::default()
        };
        render(
            status,
            &LogInPage {
                chrome,
                error: Some(error),
                email: email.clone(),
            },
        )
    };
    if let LoginVerdict::Throttled { retry_after_secs } =
        crate::portal::accounts::login_verdict(&state.db, &email, &ip, now).await?
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
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&state.db)
            .await?;
    let password = field(&form, "password").to_owned();
    let stored = row
        .as_ref()
        .and_then(|r| r.1.clone())
        .unwrap_or_else(|| DECOY_HASH.to_owned());
    let matches = password.len() <= MAX_PASSWORD_BYTES
        && blocking(move || verify_password(&password, &stored)).await?;
    let user_id = match (matches, row) {
        (true, Some((id, Some(_)))) => id,
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
    let Some(org_id) = grant_of(&state.db, &user_id).await? else {
        return again(
            StatusCode::FORBIDDEN,
            "This account has no console role: ask a platform operator or an owner of your \
             organisation to add you."
                .into(),
        );
    };
    sqlx::query("DELETE FROM portal_login_failures WHERE email = $1 AND client_ip = $2")
        .bind(&email)
        .bind(&ip)
        .execute(&state.db)
        .await?;
    session::end(&state.db, &session).await?;
    let (_, cookie) =
        session::start(&state.db, settings.secure_cookies, Some(user_id), org_id).await?;
    Ok(see_other("/console", Some(cookie)))
}

/// `POST /console/logout`.
pub async fn log_out(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<ConsoleSettings>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    session::end(&state.db, &session).await?;
    let cookie = session::set_cookie("", settings.secure_cookies, 0);
    Ok(see_other("/console/login", Some(cookie)))
}

/// What an operator account may do in the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// The platform operator: everything, for every organisation.
    Platform,
    /// A member of one organisation with a role.
    Org { org_id: String, role: Role },
}

/// Creates the operator `email` (or sets the password of the existing user with that
/// email) and gives them `grant`, audited as `cli`. Returns the user id.
pub async fn create_operator(
    db: &Db,
    email: &str,
    name: &str,
    password: &str,
    grant: Grant,
) -> Result<String, AppError> {
    let checked = check_sign_up(email, name, password)
        .map_err(|e| AppError::invalid(e.field(), e.to_string()))?;
    let owned = password.to_owned();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&owned))
        .await
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("hashing")))?
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("hashing a password: {e}")))?;
    let now = now_ms();
    let mut tx = crate::db::begin(db).await?;
    let existing: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(&checked.email)
        .fetch_optional(&mut *tx)
        .await?;
    let user_id = match existing {
        Some((id,)) => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(&password_hash)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            let id = prefixed_id("usr");
            sqlx::query("INSERT INTO users (id, email, name, created_at, password_hash) VALUES ($1, $2, $3, $4, $5)")
                .bind(&id)
                .bind(&checked.email)
                .bind(&checked.name)
                .bind(now)
                .bind(&password_hash)
                .execute(&mut *tx)
                .await?;
            id
        }
    };
    let (tenant, role) = match &grant {
        Grant::Platform => {
            sqlx::query("DELETE FROM platform_operators WHERE user_id = $1")
                .bind(&user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO platform_operators (user_id, created_at) VALUES ($1, $2)")
                .bind(&user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            (Tenant::Platform, "platform")
        }
        Grant::Org { org_id, role } => {
            let org: Option<(String,)> =
                sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
                    .bind(org_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            org.ok_or_else(|| AppError::NotFound {
                what: "organisation",
                id: org_id.clone(),
            })?;
            sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
                .bind(org_id)
                .bind(&user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(org_id)
                .bind(&user_id)
                .bind(role.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let tenant = Tenant::Org {
                id: org_id.clone(),
                role: Role::Owner,
            };
            (tenant, role.as_str())
        }
    };
    let actor = Actor {
        who: "cli".into(),
        tenant,
    };
    let after = serde_json::json!({"user_id": user_id, "email": checked.email, "role": role});
    let change = audit::Change {
        action: "operator.create",
        target_type: "user",
        target_id: &user_id,
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok(user_id)
}
