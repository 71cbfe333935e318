//! JWT bearer tokens at the edge: JWKS keys, compact JWS verification, claim checks and
//! the mapping of a verified token to the caller the rest of the pipeline knows.
//!
//! The algorithm always comes from the configured key (its JWK `alg`, or what its
//! `kty`/`crv` allow), never from the token: a token whose header names another
//! algorithm is refused, so `alg: none` and HS/RS key confusion cannot happen. Keys are
//! taken only from the configured JWKS; a token that brings its own (`jwk`, `jku`,
//! `x5u`, `x5c`) or marks an extension critical (`crit`) is refused.

pub mod alg;
pub mod caller;
pub mod claims;
pub mod jwk;
pub mod jwks_cache;
pub mod jws;
mod roca;
pub mod scopes;
pub mod verified_cache;

use crate::{Problem, ProblemKind};

pub use alg::JwsAlg;
pub use caller::JwtCaller;
pub use claims::{validate_claims, ClaimPolicy};
pub use jwk::{parse_jwks, Jwks, VerifyingKey};
pub use jws::{verify_jws, MAX_TOKEN_BYTES};

/// Why a token is refused. Every variant is the caller's fault (401), and its text is
/// the `error_description` the edge sends back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is {0} bytes; the limit is {MAX_TOKEN_BYTES}")]
    TooLarge(usize),
    #[error("the token is not a compact JWS (three base64url parts joined by `.`)")]
    Malformed,
    #[error("the token's {0} is not base64url without padding")]
    Encoding(&'static str),
    #[error("the token header is not a JSON object with a string `alg`")]
    Header,
    #[error("tokens with `alg: none` are never accepted")]
    AlgNone,
    #[error("the algorithm `{0}` is not supported")]
    UnsupportedAlg(String),
    #[error("the token header carries `{0}`; keys come only from the configured JWKS, never from the token")]
    KeyInHeader(&'static str),
    #[error("the token marks extensions critical (`crit`), which are not understood here")]
    UnknownCrit,
    #[error("no key with kid `{0}` in the issuer's JWKS")]
    UnknownKid(String),
    #[error("more than one key in the JWKS has kid `{0}`")]
    AmbiguousKid(String),
    #[error("the token says `{token}` but its key is for {key}")]
    AlgMismatch { token: String, key: String },
    #[error("the issuer's JWKS has no usable key for `{0}`")]
    NoKey(String),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the token's claims are not a JSON object")]
    Claims,
    #[error("the token has no `exp` claim")]
    MissingExp,
    #[error("the token expired at {0} (unix seconds)")]
    Expired(u64),
    #[error("the token is not valid before {0} (unix seconds)")]
    NotYetValid(u64),
    #[error("the token was issued in the future ({0}, unix seconds)")]
    IssuedInFuture(u64),
    #[error("the token's issuer `{0}` is not the one this API trusts")]
    WrongIssuer(String),
    #[error("the token is not meant for this API's audience")]
    WrongAudience,
    #[error("the token lacks the required claim `{0}`")]
    MissingClaim(String),
    #[error("the token's `{0}` claim is malformed")]
    BadClaim(String),
}

impl JwtError {
    /// Whether a refetch of the JWKS might make this token verify (a new key was published).
    pub fn wants_new_keys(&self) -> bool {
        matches!(self, JwtError::UnknownKid(_))
    }

    /// The 401 problem for this refusal.
    pub fn to_problem(&self) -> Problem {
        let kind = match self {
            JwtError::Expired(_) => ProblemKind::ExpiredCredential,
            _ => ProblemKind::InvalidCredential,
        };
        Problem::new(kind, format!("the bearer token was refused: {self}"))
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3) for this refusal.
    pub fn www_authenticate(&self) -> String {
        invalid_token_challenge(&self.to_string())
    }
}

/// `Bearer error="invalid_token", error_description="…"` with the description made safe
/// for a quoted string (RFC 6750 allows only visible ASCII except `"` and `\`).
pub fn invalid_token_challenge(description: &str) -> String {
    let safe: String = description
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .take(200)
        .collect();
    format!("Bearer error=\"invalid_token\", error_description=\"{safe}\"")
}

/// The token in `Authorization: Bearer <token>`, or the 401 that says how to send one.
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, Problem> {
    authorization
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
        })
        .ok_or_else(|| {
            Problem::new(
                ProblemKind::MissingCredential,
                "this API needs a JWT: send `Authorization: Bearer <token>` with a token from its issuer",
            )
        })
}

/// Decodes base64url without padding, refusing any other character and non-zero
/// trailing bits (so one token has exactly one encoding).
pub(crate) fn b64url(s: &str) -> Option<Vec<u8>> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::decode_vec(s).ok()
}

#[cfg(test)]
mod tests;
