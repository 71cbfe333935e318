//! `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4). Request shape,
//! grant and throttling rules are core's (`tollgate_core::oauth`); this module looks the
//! client up, signs the token (ES256, `typ: at+jwt`) and answers in RFC 6749's JSON.

use crate::admin::subscription_rows;
use crate::clock::now_ms;
use crate::error::AppError;
use crate::oauth::issuer::public_url;
use crate::oauth::signing::ensure_signer;
use crate::routes::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use jwt_compact::alg::Es256;
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde::{Deserialize, Serialize};
use std::sync::{LazyLock, Mutex};
use tollgate_core::oauth::request::MAX_FORM_BYTES;
use tollgate_core::oauth::{
    grant, parse_token_request, AccessClaims, AuthThrottle, GrantInput, OAuthError, OAuthErrorCode,
    TokenRequest,
};
use tollgate_core::AuthPolicy;
use utoipa::ToSchema;

/// Failed client authentications per client id, for this process.
static THROTTLE: LazyLock<Mutex<AuthThrottle>> = LazyLock::new(Default::default);

/// The form of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenForm {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials")]
    pub grant_type: String,
    /// For `client_secret_post` (else use HTTP Basic).
    pub client_id: Option<String>,
    /// For `client_secret_post` (else use HTTP Basic).
    pub client_secret: Option<String>,
    /// Space-separated scopes, a subset of the client's (default: all of them).
    pub scope: Option<String>,
    /// The audience asked for: the issuer or the bound API's JWT audience.
    pub audience: Option<String>,
}

/// A successful token answer (RFC 6749 §5.1).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// A JWS (ES256) access token; verify it with `/.well-known/jwks.json`.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The granted scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// An error answer (RFC 6749 §5.2).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type` or `invalid_scope`.
    #[schema(
        pattern = "^(invalid_request|invalid_client|invalid_grant|unauthorized_client|unsupported_grant_type|invalid_scope)$"
    )]
    pub error: String,
    pub error_description: String,
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Renders an RFC 6749 error.
fn oauth_error(e: &OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, axum::Json(e.body())).into_response();
    if e.basic_challenge && status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tollgate\", charset=\"UTF-8\""),
        );
    }
    no_store(response)
}

fn throttled(retry_after: u64) -> Response {
    let body = OAuthError::invalid_client(
        format!("too many failed authentications for this client; retry in {retry_after} s"),
        false,
    )
    .body();
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after));
    no_store(response)
}

fn header(headers: &HeaderMap, name: axum::http::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Issues an access token to a client (client credentials grant).
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "The access token", body = TokenResponse,
         headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "invalid_request, unsupported_grant_type, invalid_scope or unauthorized_client", body = OAuthErrorBody),
        (status = 401, description = "invalid_client (with `WWW-Authenticate: Basic` when Basic was tried)", body = OAuthErrorBody),
        (status = 429, description = "Too many failed authentications for this client id", body = OAuthErrorBody,
         headers(("Retry-After" = u64, description = "Seconds until the client id may try again"))),
    )
)]
pub async fn issue_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let Ok(body) = axum::body::to_bytes(body, MAX_FORM_BYTES + 1).await else {
        return Ok(oauth_error(&OAuthError::invalid_request(format!(
            "the form is larger than {MAX_FORM_BYTES} bytes"
        ))));
    };
    let request = match parse_token_request(
        header(&headers, CONTENT_TYPE),
        header(&headers, AUTHORIZATION),
        &body,
    ) {
        Ok(request) => request,
        Err(e) => return Ok(oauth_error(&e)),
    };
    let now = now_ms();
    let locked = THROTTLE
        .lock()
        .map(|t| t.check(&request.client_id, now))
        .unwrap_or(Ok(()));
    if let Err(retry_after) = locked {
        return Ok(throttled(retry_after));
    }
    let client = match authenticate(&state, &request).await? {
        Ok(client) => client,
        Err(e) => {
            if let Ok(mut t) = THROTTLE.lock() {
                t.record_failure(&request.client_id, now);
            }
            tracing::warn!(client_id = %request.client_id.chars().take(64).collect::<String>(), "OAuth client authentication failed");
            return Ok(oauth_error(&e));
        }
    };
    match issue(&state, &request, &client, now).await? {
        Ok(answer) => Ok(no_store(axum::Json(answer).into_response())),
        Err(e) => Ok(oauth_error(&e)),
    }
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    secret_hash: String,
    consumer_id: String,
    subscription_id: Option<String>,
    scopes_json: Option<String>,
    token_ttl_secs: i64,
    revoked_at: Option<i64>,
}

/// A known, live client whose secret matches; the inner error is `invalid_client`.
async fn authenticate(
    state: &AppState,
    request: &TokenRequest,
) -> Result<Result<ClientRow, OAuthError>, AppError> {
    let basic = request.method == tollgate_core::oauth::ClientAuthMethod::Basic;
    let refused = || {
        OAuthError::invalid_client(
            "client authentication failed: unknown client, wrong secret or revoked client",
            basic,
        )
    };
    let row: Option<ClientRow> = sqlx::query_as(
        "SELECT id, secret_hash, consumer_id, subscription_id, scopes_json, token_ttl_secs, revoked_at FROM oauth_clients WHERE id = $1",
    )
    .bind(&request.client_id)
    .fetch_optional(&state.db)
    .await?;
    // Hash and compare even for unknown ids, so timing does not tell which ids exist.
    let stored = row
        .as_ref()
        .map_or("0".repeat(64), |r| r.secret_hash.clone());
    let matches = request.secret.matches(&stored);
    Ok(match row {
        Some(row) if matches && row.revoked_at.is_none() => Ok(row),
        _ => Err(refused()),
    })
}

/// Decides the grant and signs the token.
async fn issue(
    state: &AppState,
    request: &TokenRequest,
    client: &ClientRow,
    now: i64,
) -> Result<Result<TokenResponse, OAuthError>, AppError> {
    let mut plan_id = None;
    let mut api_audience = None;
    if let Some(sub_id) = &client.subscription_id {
        let Some(sub) = subscription_rows::load(&state.db, sub_id).await? else {
            return Ok(Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "the client's subscription no longer exists",
            )));
        };
        let status = sub.times().status(now);
        if !status.is_live() {
            return Ok(Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                format!("the client's subscription is {}; tokens are issued for live subscriptions only", status.as_str()),
            )));
        }
        let auth: Option<(String,)> = sqlx::query_as("SELECT auth_json FROM apis WHERE id = $1")
            .bind(&sub.api_id)
            .fetch_optional(&state.db)
            .await?;
        if let Some(Ok(AuthPolicy::Jwt { audience, .. })) =
            auth.map(|(a,)| serde_json::from_str::<AuthPolicy>(&a))
        {
            api_audience = Some(audience);
        }
        plan_id = Some(sub.plan_id);
    }
    let client_scopes: Vec<String> = client
        .scopes_json
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let issuer = public_url();
    let jti = uuid::Uuid::new_v4().simple().to_string();
    let now_secs = u64::try_from(now / 1000).unwrap_or(0);
    let decided = grant(&GrantInput {
        issuer: &issuer,
        client_id: &client.id,
        consumer_id: &client.consumer_id,
        plan_id: plan_id.as_deref(),
        subscription_id: client.subscription_id.as_deref(),
        client_scopes: &client_scopes,
        requested_scope: request.scope.as_deref(),
        requested_audience: request.audience.as_deref(),
        api_audience: api_audience.as_deref(),
        ttl_secs: u64::try_from(client.token_ttl_secs).unwrap_or(600),
        now_secs,
        jti: &jti,
    });
    let decided = match decided {
        Ok(g) => g,
        Err(e) => return Ok(Err(e)),
    };
    let token = sign(
        state,
        decided.claims.clone(),
        decided.issued_at,
        decided.expires_at,
    )
    .await?;
    Ok(Ok(TokenResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: decided.expires_at - decided.issued_at,
        scope: decided.claims.scope,
    }))
}

/// Signs `claims` with the active key.
pub async fn sign(
    state: &AppState,
    claims: AccessClaims,
    iat: u64,
    exp: u64,
) -> Result<String, AppError> {
    let signer = ensure_signer(state).await?;
    let at = |secs: u64| DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0);
    let mut claims = Claims::new(claims);
    claims.expiration = at(exp);
    claims.not_before = at(iat);
    claims.issued_at = at(iat);
    let header = Header::empty()
        .with_key_id(signer.kid)
        .with_token_type("at+jwt");
    Es256
        .token(&header, &claims, &signer.key)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("signing an access token")))
}
