//! Who may call what: the admin API takes the operator's bearer token, the edge-facing
//! API takes an HMAC signature from the edge. Each is a middleware on its whole router,
//! so no handler can forget it, and each runs before the body is read.

use crate::clock;
use crate::error::AppError;
use crate::routes::AppState;
use crate::tenancy::admin::{hash_user_token, USER_TOKEN_PREFIX};
use crate::tenancy::{Actor, Tenant, ORG_HEADER};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use tollgate_core::edge_auth::{verify_edge_request, EDGE_SIGNATURE_HEADER};
use tollgate_core::rbac::Role;

/// Admits requests bearing the admin token or a user token, and records who is calling
/// and for which organisation (`X-Tollgate-Org`) as the request's [`Actor`].
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
    let org = request
        .headers()
        .get(ORG_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .map(str::to_owned);
    let actor = if state.admin_token.matches(presented) {
        operator(&state, org).await?
    } else if presented.starts_with(USER_TOKEN_PREFIX) {
        user(&state, presented, org).await?
    } else {
        tracing::warn!(
            path = request.uri().path(),
            "admin request with a wrong token"
        );
        return Err(AppError::WrongAdminToken);
    };
    request.extensions_mut().insert(actor);
    Ok(next.run(request).await)
}

/// The platform operator, for the whole platform or acting as owner of one organisation.
async fn operator(state: &AppState, org: Option<String>) -> Result<Actor, AppError> {
    let Some(org) = org else {
        return Ok(Actor::admin_token());
    };
    let found: Option<(String,)> = sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
        .bind(&org)
        .fetch_optional(&state.db)
        .await?;
    found.ok_or_else(|| AppError::NotFound {
        what: "organisation",
        id: org.clone(),
    })?;
    Ok(Actor {
        who: "admin-token".to_owned(),
        tenant: Tenant::Org {
            id: org,
            role: Role::Owner,
        },
    })
}

/// A user by token, acting for the one organisation named (or the only one they are in).
async fn user(state: &AppState, token: &str, org: Option<String>) -> Result<Actor, AppError> {
    let found: Option<(String,)> = sqlx::query_as(
        "SELECT user_id FROM user_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_user_token(token))
    .fetch_optional(&state.db)
    .await?;
    let (user_id,) = found.ok_or(AppError::WrongAdminToken)?;
    let memberships: Vec<(String, String)> =
        sqlx::query_as("SELECT org_id, role FROM memberships WHERE user_id = $1 ORDER BY org_id")
            .bind(&user_id)
            .fetch_all(&state.db)
            .await?;
    let (org_id, role) = match org {
        Some(org) => memberships
            .into_iter()
            .find(|(id, _)| *id == org)
            .ok_or_else(|| AppError::NotFound {
                what: "organisation",
                id: org,
            })?,
        None => match <[_; 1]>::try_from(memberships) {
            Ok([only]) => only,
            Err(all) if all.is_empty() => {
                return Err(AppError::Forbidden(
                    "you are not a member of any organisation yet; ask an owner to add you".into(),
                ))
            }
            Err(_) => {
                return Err(AppError::invalid(
                    ORG_HEADER,
                    "you belong to several organisations; name one in the X-Tollgate-Org header",
                ))
            }
        },
    };
    let role = Role::parse(&role).ok_or_else(|| {
        AppError::Unexpected(anyhow::anyhow!("membership with unknown role {role}"))
    })?;
    Ok(Actor {
        who: user_id,
        tenant: Tenant::Org { id: org_id, role },
    })
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
