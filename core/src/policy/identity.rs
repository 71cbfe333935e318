//! What the upstream learns about the caller. One set of names for the whole gateway:
//! `x-tollgate-consumer-id`, `x-tollgate-key-id`, `x-tollgate-plan-id`,
//! `x-tollgate-scopes` (space-separated) and `x-tollgate-features`, always overwriting
//! whatever the client sent (the edge drops every client `x-tollgate-*` header), and
//! optionally a short-lived EdDSA JWT in `x-tollgate-identity` that the upstream verifies
//! against the edge's `GET /.tollgate/identity-jwks.json`.
//!
//! Signing happens in the edge (it needs randomness for hedged signatures); this module
//! builds the claims from the key record and `now`, and decodes the operator's key text.

use crate::KeyRecord;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Header carrying the identity JWT.
pub const IDENTITY_HEADER: &str = "x-tollgate-identity";
/// Path of the edge's public key set.
pub const IDENTITY_JWKS_PATH: &str = "/.tollgate/identity-jwks.json";
/// Lifetime of an identity JWT.
pub const IDENTITY_TTL_SECS: u64 = 60;
/// `iss` of identity JWTs.
pub const IDENTITY_ISSUER: &str = "tollgate-edge";

fn yes() -> bool {
    true
}

/// Identity towards the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityPolicy {
    /// Send the `x-tollgate-*` identity headers (default true; false sends none).
    #[serde(default = "yes")]
    pub headers: bool,
    /// Send a 60-second JWT signed by the edge in `x-tollgate-identity`.
    #[serde(default)]
    pub jwt: bool,
}

impl Default for IdentityPolicy {
    fn default() -> Self {
        IdentityPolicy {
            headers: true,
            jwt: false,
        }
    }
}

/// The identity headers for a keyed call (none for anonymous routes).
pub fn identity_headers(
    key: Option<&KeyRecord>,
    features: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(key) = key {
        out.push((
            "x-tollgate-consumer-id",
            key.consumer_id.as_str().to_owned(),
        ));
        out.push(("x-tollgate-key-id", key.key_id.as_str().to_owned()));
        if let Some(plan) = &key.plan_id {
            out.push(("x-tollgate-plan-id", plan.as_str().to_owned()));
        }
        if !key.scopes.is_empty() {
            out.push(("x-tollgate-scopes", key.scopes.join(" ")));
        }
    }
    if let Some(features) = features {
        out.push(("x-tollgate-features", features.to_owned()));
    }
    out
}

/// Claims of an identity JWT (`iat`/`exp` in unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityClaims {
    pub iss: String,
    /// The consumer id.
    pub sub: String,
    /// The API id.
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub key_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// Space-separated scopes (OAuth style).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// The claims for `key` calling `api_id` at `now_secs`.
pub fn identity_claims(key: &KeyRecord, api_id: &str, now_secs: u64) -> IdentityClaims {
    IdentityClaims {
        iss: IDENTITY_ISSUER.to_owned(),
        sub: key.consumer_id.as_str().to_owned(),
        aud: api_id.to_owned(),
        iat: now_secs,
        exp: now_secs + IDENTITY_TTL_SECS,
        key_id: key.key_id.as_str().to_owned(),
        plan_id: key.plan_id.as_ref().map(|p| p.as_str().to_owned()),
        scope: key.scopes.join(" "),
    }
}

/// Why `IDENTITY_SIGNING_KEY` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningKeyError {
    #[error(
        "IDENTITY_SIGNING_KEY must be an OKP/Ed25519 JWK with `d`, or the base64 of a 32-byte seed"
    )]
    Shape,
}

#[derive(Deserialize)]
struct PrivateJwk {
    kty: String,
    crv: String,
    d: String,
}

fn decode_seed(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD, &STANDARD_NO_PAD]
        .iter()
        .find_map(|engine| {
            let bytes = engine.decode(text).ok()?;
            <[u8; 32]>::try_from(bytes.as_slice()).ok()
        })
}

/// The Ed25519 seed in the operator's key text: a private JWK or a base64 seed.
pub fn parse_signing_seed(text: &str) -> Result<[u8; 32], SigningKeyError> {
    let text = text.trim();
    if text.starts_with('{') {
        let jwk: PrivateJwk = serde_json::from_str(text).map_err(|_| SigningKeyError::Shape)?;
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            return Err(SigningKeyError::Shape);
        }
        return decode_seed(&jwk.d).ok_or(SigningKeyError::Shape);
    }
    decode_seed(text).ok_or(SigningKeyError::Shape)
}
