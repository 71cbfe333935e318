//! Compact JWS (RFC 7515 §7.1) parsing and verification against a key set.
//!
//! Strict on purpose: exactly three parts, base64url without padding or stray
//! characters, a JSON-object header. The header may not carry keys or key URLs and may
//! not mark anything critical; its `alg` must be one its key allows.

use super::alg::{verify_signature, JwsAlg};
use super::jwk::{Jwks, VerifyingKey};
use super::{b64url, JwtError};

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Header members that carry or point at keys: never trusted, so never accepted.
const KEY_MEMBERS: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];

/// The parts of a compact JWS, decoded.
#[derive(Debug, Clone)]
pub struct CompactJws<'a> {
    /// `header.payload` as sent: what the signature covers.
    pub signing_input: &'a str,
    pub alg: String,
    pub kid: Option<String>,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWS and checks its header.
pub fn parse_compact(token: &str) -> Result<CompactJws<'_>, JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::TooLarge(token.len()));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    if h.is_empty() || s.is_empty() {
        return Err(JwtError::Malformed);
    }
    let header = b64url(h).ok_or(JwtError::Encoding("header"))?;
    let payload = b64url(p).ok_or(JwtError::Encoding("payload"))?;
    let signature = b64url(s).ok_or(JwtError::Encoding("signature"))?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|_| JwtError::Header)?;
    let alg = header
        .get("alg")
        .and_then(|a| a.as_str())
        .ok_or(JwtError::Header)?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(JwtError::AlgNone);
    }
    if let Some(member) = KEY_MEMBERS.iter().find(|m| header.contains_key(**m)) {
        return Err(JwtError::KeyInHeader(member));
    }
    if header.contains_key("crit") {
        return Err(JwtError::UnknownCrit);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(serde_json::Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(JwtError::Header),
    };
    Ok(CompactJws {
        signing_input: &token[..h.len() + 1 + p.len()],
        alg: alg.to_owned(),
        kid,
        payload,
        signature,
    })
}

fn verify_with(jws: &CompactJws<'_>, alg: JwsAlg, key: &VerifyingKey) -> Result<(), JwtError> {
    if !key.algs.contains(&alg) {
        return Err(JwtError::AlgMismatch {
            token: alg.name().into(),
            key: key.algs_text(),
        });
    }
    if verify_signature(
        alg,
        &key.material,
        jws.signing_input.as_bytes(),
        &jws.signature,
    ) {
        Ok(())
    } else {
        Err(JwtError::BadSignature)
    }
}

/// Verifies `token` with the key its `kid` names (or, without a `kid`, any key for its
/// algorithm) and returns the payload.
pub fn verify_jws(token: &str, keys: &Jwks) -> Result<Vec<u8>, JwtError> {
    let jws = parse_compact(token)?;
    let alg = JwsAlg::parse(&jws.alg).ok_or_else(|| JwtError::UnsupportedAlg(jws.alg.clone()))?;
    match &jws.kid {
        Some(kid) => {
            let mut named = keys.keys.iter().filter(|k| k.kid.as_deref() == Some(kid));
            // A kid shared with a key that was skipped is as ambiguous as two usable ones.
            let shadowed = keys.skipped.iter().any(|(k, _)| k.as_deref() == Some(kid));
            match (named.next(), named.next()) {
                (None, _) => Err(JwtError::UnknownKid(kid.clone())),
                (Some(_), Some(_)) => Err(JwtError::AmbiguousKid(kid.clone())),
                (Some(_), None) if shadowed => Err(JwtError::AmbiguousKid(kid.clone())),
                (Some(key), None) => verify_with(&jws, alg, key),
            }
        }
        None => {
            let mut candidates = keys
                .keys
                .iter()
                .filter(|k| k.algs.contains(&alg))
                .peekable();
            if candidates.peek().is_none() {
                return Err(JwtError::NoKey(alg.name().into()));
            }
            if candidates.any(|k| verify_with(&jws, alg, k).is_ok()) {
                Ok(())
            } else {
                Err(JwtError::BadSignature)
            }
        }
    }?;
    Ok(jws.payload)
}
