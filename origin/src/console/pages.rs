//! Rendering for the console: the chrome every page shares (who is signed in, for which
//! organisation, which sections their role opens), the console's error type and its pages.

use crate::error::AppError;
use crate::portal::pages::PortalError;
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use thiserror::Error;

/// What the layout needs on every page.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// The signed-in operator's name; `None` on the log-in and error pages.
    pub operator: Option<String>,
    /// Whose resources the pages show and with which role, e.g. `Acme · viewer`.
    pub scope: String,
    pub csrf: String,
    /// The sections the role may read (links for the others are not shown).
    pub nav: Nav,
}

/// Which sections the navigation shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nav {
    pub apis: bool,
    pub plans: bool,
    pub consumers: bool,
    pub audit: bool,
}

/// Why a console request failed; shown as an HTML page with the status.
#[derive(Debug, Error)]
pub enum ConsoleError {
    /// The role does not allow this, or the form's CSRF token is wrong (403).
    #[error("{0}")]
    Forbidden(String),
    /// Not there, or another organisation's (404, so existence does not leak).
    #[error("there is no such {0} here")]
    NotFound(&'static str),
    #[error("log in to continue")]
    LoginRequired,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for ConsoleError {
    fn from(e: sqlx::Error) -> ConsoleError {
        ConsoleError::App(AppError::from(e))
    }
}

impl From<askama::Error> for ConsoleError {
    fn from(e: askama::Error) -> ConsoleError {
        ConsoleError::App(AppError::Unexpected(
            anyhow::Error::new(e).context("rendering a console page"),
        ))
    }
}

impl From<PortalError> for ConsoleError {
    fn from(e: PortalError) -> ConsoleError {
        match e {
            PortalError::Forbidden(d) => ConsoleError::Forbidden(d.to_owned()),
            PortalError::NotFound(what) => ConsoleError::NotFound(what),
            PortalError::BadRequest(d) => ConsoleError::App(AppError::Malformed(d)),
            PortalError::LoginRequired => ConsoleError::LoginRequired,
            PortalError::App(e) => ConsoleError::App(e),
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    detail: String,
}

impl ConsoleError {
    /// The status and the text a person can act on.
    pub fn status_and_detail(&self) -> (StatusCode, String) {
        match self {
            ConsoleError::Forbidden(d) => (StatusCode::FORBIDDEN, d.clone()),
            ConsoleError::NotFound(_) => (StatusCode::NOT_FOUND, self.to_string()),
            ConsoleError::LoginRequired => (StatusCode::UNAUTHORIZED, self.to_string()),
            ConsoleError::App(e) => {
                let p = e.problem();
                let status =
                    StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                if status.is_server_error() {
                    tracing::error!(error = ?e, "console request failed");
                }
                (status, p.detail.clone())
            }
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        if let ConsoleError::LoginRequired = self {
            return Redirect::to("/console/login").into_response();
        }
        let (status, detail) = self.status_and_detail();
        let title = match status {
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::NOT_FOUND => "Not found",
            s if s.is_client_error() => "That did not work",
            _ => "Something went wrong",
        };
        let page = ErrorPage {
            chrome: Chrome::default(),
            title,
            detail,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, title).into_response(),
        }
    }
}

/// Renders a template as an HTML answer with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Result<Response, ConsoleError> {
    Ok((status, Html(page.render()?)).into_response())
}

/// A `303 See Other` to `to`, optionally setting a cookie.
pub fn see_other(to: &str, cookie: Option<HeaderValue>) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The text of a form field, `""` when absent.
pub fn field<'a>(form: &'a std::collections::HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or("")
}

/// A form field trimmed, `None` when empty.
pub fn optional(form: &std::collections::HashMap<String, String>, name: &str) -> Option<String> {
    Some(field(form, name).trim().to_owned()).filter(|v| !v.is_empty())
}
