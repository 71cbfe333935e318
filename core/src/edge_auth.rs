//! Authenticating edge → origin calls with an HMAC-SHA256 signature over a shared secret.
//!
//! The secret never travels: the edge sends `X-Tollgate-Edge-Signature: t=<unix s>,s=<hex>`
//! where `s = HMAC(secret, "<t>\n<METHOD>\n<path?query>")`. The origin recomputes it,
//! compares in constant time and refuses timestamps outside a skew window, so a captured
//! header is useless for other paths and soon useless altogether. A consumer key can
//! never produce it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The request header carrying the signature.
pub const EDGE_SIGNATURE_HEADER: &str = "x-tollgate-edge-signature";
/// How far the edge's clock may be from the origin's.
pub const MAX_SKEW_SECS: u64 = 300;

/// Why an edge signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EdgeAuthError {
    #[error("missing edge signature")]
    Missing,
    #[error("malformed edge signature")]
    Malformed,
    #[error("edge signature timestamp is outside the allowed clock skew")]
    Skew,
    #[error("edge signature does not match")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: u64, method: &str, path_and_query: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    m.update(
        format!(
            "{timestamp}\n{}\n{path_and_query}",
            method.to_ascii_uppercase()
        )
        .as_bytes(),
    );
    m
}

/// The header value the edge sends for a request at `timestamp` (unix seconds).
pub fn sign_edge_request(
    secret: &[u8],
    timestamp: u64,
    method: &str,
    path_and_query: &str,
) -> String {
    let sig = mac(secret, timestamp, method, path_and_query)
        .finalize()
        .into_bytes();
    format!("t={timestamp},s={}", hex::encode(sig))
}

/// Checks a signature header against the request the origin received.
pub fn verify_edge_request(
    secret: &[u8],
    header: Option<&str>,
    method: &str,
    path_and_query: &str,
    now_secs: u64,
) -> Result<(), EdgeAuthError> {
    let header = header.ok_or(EdgeAuthError::Missing)?;
    let (t, s) = header.split_once(",s=").ok_or(EdgeAuthError::Malformed)?;
    let timestamp: u64 = t
        .strip_prefix("t=")
        .and_then(|t| t.parse().ok())
        .ok_or(EdgeAuthError::Malformed)?;
    let sig = hex::decode(s).map_err(|_| EdgeAuthError::Malformed)?;
    if now_secs.abs_diff(timestamp) > MAX_SKEW_SECS {
        return Err(EdgeAuthError::Skew);
    }
    mac(secret, timestamp, method, path_and_query)
        .verify_slice(&sig)
        .map_err(|_| EdgeAuthError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_request_and_time() {
        let h = sign_edge_request(b"s3cret", 1_000, "get", "/edge/v1/snapshot");
        assert_eq!(
            verify_edge_request(b"s3cret", Some(&h), "GET", "/edge/v1/snapshot", 1_100),
            Ok(())
        );
        assert_eq!(
            verify_edge_request(b"other", Some(&h), "GET", "/edge/v1/snapshot", 1_000),
            Err(EdgeAuthError::Mismatch)
        );
        assert_eq!(
            verify_edge_request(b"s3cret", Some(&h), "GET", "/edge/v1/keys/x", 1_000),
            Err(EdgeAuthError::Mismatch)
        );
        assert_eq!(
            verify_edge_request(b"s3cret", Some(&h), "GET", "/edge/v1/snapshot", 1_301),
            Err(EdgeAuthError::Skew)
        );
        assert_eq!(
            verify_edge_request(b"s3cret", None, "GET", "/", 1_000),
            Err(EdgeAuthError::Missing)
        );
        for bad in ["", "t=1", "t=x,s=00", "t=1000,s=zz", "Bearer tg_abc"] {
            assert!(
                verify_edge_request(b"s3cret", Some(bad), "GET", "/", 1_000).is_err(),
                "{bad}"
            );
        }
    }
}
