//! The one error type of the origin's HTTP layer and its one renderer: every failure
//! leaves as RFC 9457 `application/problem+json` built from `tollgate_core::Problem`.
//! Causes of 5xx answers are logged by [`log_failures`], never sent to the client.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tollgate_core::edge_auth::EdgeAuthError;
use tollgate_core::openapi::SpecIssue;
use tollgate_core::problem::PROBLEM_CONTENT_TYPE;
use tollgate_core::{Problem, ProblemKind};

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no admin token presented")]
    MissingAdminToken,
    #[error("wrong admin token")]
    WrongAdminToken,
    #[error("edge signature refused: {0}")]
    EdgeSignature(#[from] EdgeAuthError),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("invalid `{field}`: {detail}")]
    Invalid { field: String, detail: String },
    #[error("{what} `{id}` does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("no route for this path")]
    NoRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("the OpenAPI document has {} error(s)", .0.len())]
    InvalidDocument(Vec<SpecIssue>),
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("unexpected error")]
    Unexpected(#[source] anyhow::Error),
}

impl AppError {
    /// A 422 naming the field at fault.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.into(),
            detail: detail.into(),
        }
    }

    /// The problem document the client sees.
    pub fn problem(&self) -> Problem {
        use ProblemKind as K;
        match self {
            AppError::MissingAdminToken => Problem::new(
                K::MissingCredential,
                "the admin API needs `Authorization: Bearer <admin token>` (TOLLGATE_ADMIN_TOKEN)",
            ),
            AppError::WrongAdminToken => {
                Problem::new(K::InvalidCredential, "the admin token is not valid")
            }
            AppError::EdgeSignature(EdgeAuthError::Missing) => Problem::new(
                K::MissingCredential,
                "this endpoint serves the tollgate edge only: send a valid X-Tollgate-Edge-Signature",
            ),
            AppError::EdgeSignature(e) => Problem::new(K::InvalidCredential, e.to_string()),
            AppError::Malformed(detail) => Problem::new(K::MalformedRequest, detail.clone()),
            AppError::Invalid { field, detail } => {
                Problem::new(K::ValidationFailed, format!("`{field}`: {detail}")).with_field(field)
            }
            AppError::NotFound { what, id } => {
                Problem::new(K::NotFound, format!("{what} `{id}` does not exist"))
            }
            AppError::Forbidden(detail) => Problem::new(K::NotEntitled, detail.clone()),
            AppError::NoRoute => Problem::new(
                K::NotFound,
                "nothing here; the origin's API is described at /openapi.json",
            ),
            AppError::MethodNotAllowed => Problem::new(
                K::MethodNotAllowed,
                "this path does not take that method; see /openapi.json",
            ),
            AppError::Conflict(detail) => Problem::new(K::Conflict, detail.clone()),
            AppError::UnsupportedMediaType(detail) => {
                Problem::new(K::UnsupportedMediaType, detail.clone()).with_field("content-type")
            }
            AppError::InvalidDocument(issues) => {
                let first = issues.first().map_or(String::new(), |i| {
                    let at = match (i.line, i.column) {
                        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
                        _ => String::new(),
                    };
                    format!("; the first: `{}`: {}{at}", i.pointer, i.message)
                });
                Problem::new(
                    K::ValidationFailed,
                    format!("the OpenAPI document has {} error(s), each listed in `errors`{first}", issues.len()),
                )
                .with_field("spec")
            }
            AppError::PayloadTooLarge { limit } => Problem::new(
                K::PayloadTooLarge,
                format!("the request body is larger than {limit} bytes"),
            ),
            AppError::Unavailable(_) => Problem::new(
                K::ServiceUnavailable,
                "the database is not answering; retry shortly",
            )
            .with_retry_after(5),
            AppError::Unexpected(_) => Problem::new(
                K::Internal,
                "something went wrong on our side; it has been logged",
            ),
        }
    }

    /// The underlying cause, for 5xx errors only.
    fn cause(&self) -> Option<&anyhow::Error> {
        match self {
            AppError::Unavailable(e) | AppError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> AppError {
        AppError::Unexpected(anyhow::Error::new(e).context("database query failed"))
    }
}

/// The cause of a 5xx answer, carried in response extensions to [`log_failures`].
#[derive(Clone, Debug)]
pub struct FailureCause(pub Arc<String>);

/// Renders any problem with the right status, media type and `Retry-After`.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, problem.to_json()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    if let Some(seconds) = problem.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::InvalidDocument(issues) = &self {
            return document_problem_response(&self.problem(), issues);
        }
        let mut response = problem_response(&self.problem());
        if let Some(cause) = self.cause() {
            let text = format!("{cause:#}");
            response
                .extensions_mut()
                .insert(FailureCause(Arc::new(text)));
        }
        response
    }
}

/// A problem whose `errors` member lists every issue of a rejected document.
fn document_problem_response(problem: &Problem, issues: &[SpecIssue]) -> Response {
    let mut body = serde_json::to_value(problem).unwrap_or_default();
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "errors".into(),
            serde_json::to_value(issues).unwrap_or_default(),
        );
    }
    let mut response = (StatusCode::UNPROCESSABLE_ENTITY, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    response
}

/// Logs the cause of every 5xx answer, once, with the request it belongs to.
pub async fn log_failures(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(FailureCause(cause)) = response.extensions().get::<FailureCause>() {
        tracing::error!(%method, %path, status = response.status().as_u16(), %cause, "request failed");
    }
    response
}

/// Fallback for paths no route matches.
pub async fn no_route() -> AppError {
    AppError::NoRoute
}

/// Fallback for known paths asked with a method they do not take.
pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_never_leak_their_cause() {
        let err = AppError::Unexpected(anyhow::anyhow!("password=hunter2 connection refused"));
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            PROBLEM_CONTENT_TYPE
        );
        assert!(response.extensions().get::<FailureCause>().is_some());
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        let problem: Problem = serde_json::from_str(&text).unwrap();
        assert_eq!(problem.status, 500);
    }

    #[test]
    fn validation_errors_name_their_field() {
        let p = AppError::invalid("base_path", "must start with `/`").problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.field.as_deref(), Some("base_path"));
        assert!(p.detail.contains("base_path"));
    }

    #[test]
    fn unavailable_says_when_to_retry() {
        let response = AppError::Unavailable(anyhow::anyhow!("down")).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
    }
}
