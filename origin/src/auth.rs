//! Who may call what: the admin API takes the operator's bearer token, the edge-facing
//! API takes an HMAC signature from the edge. Each is a middleware on its whole router,
//! so no handler can forget it, and each runs before the body is read.

use crate::audit::Actor;
use crate::clock;
use crate::error::AppError;
use crate::routes::AppState;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use tollgate_core::edge_auth::{verify_edge_request, EDGE_SIGNATURE_HEADER};

/// Admits requests bearing the admin token.
pub async fn require_admin(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .ok_or(AppError::MissingAdminToken)?;
    if !state.admin_token.matches(presented) {
        tracing::warn!(
            path = request.uri().path(),
            "admin request with a wrong token"
        );
        return Err(AppError::WrongAdminToken);
    }
    request.extensions_mut().insert(Actor::admin_token());
    Ok(next.run(request).await)
}

/// Admits requests signed by the edge for exactly this method, path and query.
pub async fn require_edge_signature(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let header = request
        .headers()
        .get(EDGE_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let uri = request.uri();
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    verify_edge_request(
        state.edge_secret.as_bytes(),
        header,
        request.method().as_str(),
        path_and_query,
        clock::now_secs(),
    )
    .inspect_err(|e| tracing::warn!(path = uri.path(), error = %e, "edge request refused"))?;
    Ok(next.run(request).await)
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_found_only_in_the_bearer_scheme() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer   abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("abc"), None);
    }
}
