//! Rendering: the chrome every page shares, the portal's error type and its HTML pages.

use crate::error::AppError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use thiserror::Error;

/// What the layout needs on every page: who is signed in and the session's CSRF token.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub user_name: Option<String>,
    /// Signed in with an email address not verified yet: the layout shows a banner.
    pub unverified: bool,
    pub csrf: String,
}

/// Why a portal request failed; shown as an HTML page with the status.
#[derive(Debug, Error)]
pub enum PortalError {
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("there is no such {0} here")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("log in to continue")]
    LoginRequired,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for PortalError {
    fn from(e: sqlx::Error) -> PortalError {
        PortalError::App(AppError::from(e))
    }
}

impl From<askama::Error> for PortalError {
    fn from(e: askama::Error) -> PortalError {
        PortalError::App(AppError::Unexpected(
            anyhow::Error::new(e).context("rendering a portal page"),
        ))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    detail: String,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match &self {
            PortalError::Forbidden(d) => (StatusCode::FORBIDDEN, "Forbidden", (*d).to_owned()),
            PortalError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found", self.to_string()),
            PortalError::BadRequest(d) => (StatusCode::BAD_REQUEST, "Bad request", d.clone()),
            PortalError::LoginRequired => {
                return axum::response::Redirect::to("/portal/login").into_response()
            }
            PortalError::App(e) => {
                let p = e.problem();
                let status =
                    StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                if status.is_server_error() {
                    tracing::error!(error = ?e, "portal request failed");
                }
                (status, "Something went wrong", p.detail.clone())
            }
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

/// Renders a template as a 200 page.
pub fn render(page: &impl Template) -> Result<Html<String>, PortalError> {
    Ok(Html(page.render()?))
}
