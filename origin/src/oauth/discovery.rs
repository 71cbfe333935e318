//! Public discovery: the JWKS verifiers fetch (`/.well-known/jwks.json`, cacheable for a
//! few minutes — rotation keeps retired keys published far longer than that) and the
//! metadata document (`/.well-known/openid-configuration`, also served at RFC 8414's
//! `/.well-known/oauth-authorization-server`).

use crate::error::AppError;
use crate::oauth::issuer::public_url;
use crate::oauth::signing::published_jwks;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long verifiers may cache the JWKS, seconds.
pub const JWKS_MAX_AGE_SECS: u64 = 300;

/// A JSON Web Key Set (RFC 7517 §5).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    /// Public ES256 keys (`kty` `EC`, `crv` `P-256`, `x`, `y`, `kid`, `alg`, `use`), newest first.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServerMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// `client_credentials` only.
    pub grant_types_supported: Vec<String>,
    /// `client_secret_basic`, `client_secret_post`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Empty: this server has no authorization endpoint.
    pub response_types_supported: Vec<String>,
    /// `public`.
    pub subject_types_supported: Vec<String>,
    /// `ES256`: the access tokens' algorithm (OpenID discovery requires the member).
    pub id_token_signing_alg_values_supported: Vec<String>,
}

/// The signing keys that verify tokens issued within the last token lifetime.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "oauth",
    responses((status = 200, description = "The published signing keys", body = Jwks,
               headers(("Cache-Control" = String, description = "`public, max-age=300`"))))
)]
pub async fn get_jwks(State(state): State<AppState>) -> Result<Response, AppError> {
    let keys = published_jwks(&state).await?;
    let cache = HeaderValue::from_str(&format!("public, max-age={JWKS_MAX_AGE_SECS}"))
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e)))?;
    Ok(([(CACHE_CONTROL, cache)], Json(Jwks { keys })).into_response())
}

/// The discovery document.
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    tag = "oauth",
    responses((status = 200, description = "Issuer, endpoints and what they support", body = ServerMetadata))
)]
pub async fn get_openid_configuration() -> Json<ServerMetadata> {
    Json(metadata())
}

/// The same document at RFC 8414's address.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "oauth",
    responses((status = 200, description = "Issuer, endpoints and what they support", body = ServerMetadata))
)]
pub async fn get_authorization_server_metadata() -> Json<ServerMetadata> {
    Json(metadata())
}

fn metadata() -> ServerMetadata {
    let issuer = public_url();
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    ServerMetadata {
        token_endpoint: format!("{issuer}/oauth/token"),
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        issuer,
        grant_types_supported: strings(&["client_credentials"]),
        token_endpoint_auth_methods_supported: strings(&[
            "client_secret_basic",
            "client_secret_post",
        ]),
        response_types_supported: Vec::new(),
        subject_types_supported: strings(&["public"]),
        id_token_signing_alg_values_supported: strings(&["ES256"]),
    }
}
