//! OpenID Connect sign-in decisions (Core 1.0, authorization code flow with PKCE, RFC 7636):
//! what a discovery document must say, the S256 code challenge, and which ID-token claims
//! make a sign-in — issuer, audience, authorized party, expiry and the nonce bound to the
//! browser. The signature is checked by [`crate::jwt::verify_jws`] before these claims.

use crate::jwt::{validate_claims, ClaimPolicy, JwtError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Clock skew allowed between us and the provider.
pub const LEEWAY_SECS: u64 = 60;

/// Why a sign-in was refused; each message says what went wrong in the user's terms.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OidcError {
    #[error("the provider's discovery document is unusable: {0}")]
    Discovery(String),
    #[error("the provider's ID token was refused: {0}")]
    Token(#[from] JwtError),
    #[error("the ID token does not carry the nonce of this sign-in (a replayed or foreign token)")]
    Nonce,
    #[error("the ID token was issued to another client (`azp`)")]
    AuthorizedParty,
    #[error("the provider did not share an email address; allow the `email` scope")]
    NoEmail,
}

/// The endpoints a discovery document names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

/// Checks `/.well-known/openid-configuration` for `issuer`: it must name exactly that
/// issuer (OIDC Discovery §4.3) and http(s) endpoints, and offer the code flow with S256.
pub fn check_discovery(json: &[u8], issuer: &str) -> Result<Discovery, OidcError> {
    let bad = |m: &str| OidcError::Discovery(m.to_owned());
    let doc: Map<String, Value> =
        serde_json::from_slice(json).map_err(|_| bad("it is not a JSON object"))?;
    if doc.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(bad(
            "its `issuer` is not the configured TOLLGATE_OIDC_ISSUER",
        ));
    }
    let url = |name: &str| -> Result<String, OidcError> {
        doc.get(name)
            .and_then(Value::as_str)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(str::to_owned)
            .ok_or_else(|| {
                OidcError::Discovery(format!("`{name}` is missing or not an http(s) URL"))
            })
    };
    let lists = |name: &str, wanted: &str| {
        doc.get(name)
            .and_then(Value::as_array)
            .is_none_or(|items| items.iter().any(|i| i.as_str() == Some(wanted)))
    };
    if !lists("response_types_supported", "code") {
        return Err(bad(
            "the provider does not offer the authorization code flow",
        ));
    }
    if !lists("code_challenge_methods_supported", "S256") {
        return Err(bad("the provider does not offer PKCE with S256"));
    }
    Ok(Discovery {
        authorization_endpoint: url("authorization_endpoint")?,
        token_endpoint: url("token_endpoint")?,
        jwks_uri: url("jwks_uri")?,
    })
}

/// The PKCE S256 challenge of a code verifier: BASE64URL(SHA-256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Who signed in, from a valid ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Checks a verified ID token's payload for this client and sign-in (`nonce`) at `now_secs`.
pub fn check_id_token(
    payload: &[u8],
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now_secs: u64,
) -> Result<OidcIdentity, OidcError> {
    let required = ["iat".to_owned()];
    let policy = ClaimPolicy {
        issuer,
        audience: client_id,
        leeway_secs: LEEWAY_SECS,
        required_claims: &required,
        consumer_claim: "sub",
    };
    let caller = validate_claims(payload, &policy, now_secs)?;
    let claims: Map<String, Value> =
        serde_json::from_slice(payload).map_err(|_| JwtError::Claims)?;
    let sent = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if nonce.is_empty()
        || !bool::from(subtle::ConstantTimeEq::ct_eq(
            sent.as_bytes(),
            nonce.as_bytes(),
        ))
    {
        return Err(OidcError::Nonce);
    }
    // Core §3.1.3.7: with an `azp`, it must be us (it matters when `aud` lists several).
    if let Some(azp) = claims.get("azp") {
        if azp.as_str() != Some(client_id) {
            return Err(OidcError::AuthorizedParty);
        }
    }
    let email = claims
        .get("email")
        .and_then(Value::as_str)
        .map(|e| e.trim().to_lowercase())
        .filter(|e| e.contains('@') && e.len() <= 254)
        .ok_or(OidcError::NoEmail)?;
    let email_verified = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
        || claims.get("email_verified").and_then(Value::as_str) == Some("true");
    let name = claims
        .get("name")
        .and_then(Value::as_str)
        .map(|n| {
            n.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect::<String>()
        })
        .filter(|n| !n.is_empty());
    Ok(OidcIdentity {
        issuer: caller.issuer,
        subject: caller.subject,
        email,
        email_verified,
        name,
    })
}

#[cfg(test)]
mod tests;
