//! Verifying the `Stripe-Signature` header of an incoming payment webhook.
//!
//! Stripe sends `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>…][,v0=…]` where each
//! `v1 = HMAC-SHA256(endpoint secret, "<t>.<raw body>")` (several `v1` while Stripe rolls
//! the endpoint secret). The body must be the bytes as received: re-serialised JSON does
//! not verify. A signature is accepted when any `v1` matches (compared in constant time)
//! and `t` is within the tolerance of `now` in either direction, so a captured delivery
//! cannot be replayed later. Other schemes (`v0`, unknown keys) are ignored, as Stripe's
//! own libraries do. Source: <https://docs.stripe.com/webhooks#verify-manually>.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far `t` may be from now, in seconds (Stripe's libraries default to 300).
pub const TOLERANCE_SECS: i64 = 300;
/// The longest header considered; anything longer is refused before parsing.
const MAX_HEADER_LEN: usize = 4096;

/// Why a webhook signature was refused; every variant is the sender's fault (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed: {0}")]
    Malformed(&'static str),
    #[error("the Stripe-Signature header has no v1 signature")]
    NoV1,
    #[error("the signature timestamp is {0} s old, more than the {TOLERANCE_SECS} s tolerated")]
    Stale(i64),
    #[error("the signature timestamp is {0} s in the future, more than the {TOLERANCE_SECS} s tolerated")]
    Future(i64),
    #[error("no v1 signature matches the payload under the configured webhook secret")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The hex `v1` signature of `body` at `timestamp`.
pub fn sign_payload(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// A whole `Stripe-Signature` value, as Stripe would send it (for tests and tools).
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign_payload(secret, timestamp, body))
}

/// Checks `header` against the raw `body`; returns the signed timestamp when it verifies.
pub fn verify_signature(
    header: Option<&str>,
    body: &[u8],
    secret: &[u8],
    now_secs: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    if header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::Malformed("longer than 4096 bytes"));
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',').map(str::trim) {
        let (key, value) = item
            .split_once('=')
            .ok_or(SignatureError::Malformed("items are `key=value`"))?;
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::Malformed("`t` appears twice"));
                }
                let t: i64 = value
                    .parse()
                    .map_err(|_| SignatureError::Malformed("`t` is not unix seconds"))?;
                timestamp = Some(t);
            }
            "v1" => signatures.push(
                hex::decode(value)
                    .map_err(|_| SignatureError::Malformed("a `v1` signature is not hex"))?,
            ),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed("no `t=` timestamp"))?;
    if signatures.is_empty() {
        return Err(SignatureError::NoV1);
    }
    let age = now_secs.saturating_sub(timestamp);
    if age > TOLERANCE_SECS {
        return Err(SignatureError::Stale(age));
    }
    let ahead = timestamp.saturating_sub(now_secs);
    if ahead > TOLERANCE_SECS {
        return Err(SignatureError::Future(ahead));
    }
    let expected = mac(secret, timestamp, body);
    // `verify_slice` compares in constant time; every candidate is checked.
    let matched = signatures.iter().fold(false, |ok, sig| {
        expected.clone().verify_slice(sig).is_ok() | ok
    });
    if matched {
        Ok(timestamp)
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    const NOW: i64 = 1_790_000_000;

    #[test]
    fn a_stripe_style_header_verifies() {
        let header = signature_header(SECRET, NOW - 10, BODY);
        assert_eq!(
            verify_signature(Some(&header), BODY, SECRET, NOW),
            Ok(NOW - 10)
        );
    }

    #[test]
    fn a_known_vector_matches() {
        // Computed independently with Python's `hmac` module.
        assert_eq!(
            sign_payload(SECRET, 1_700_000_000, BODY),
            "46dc069361a7691082640523fa33fe5d6c8c88d5f5e257cdf8cf11539d166595"
        );
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_and_v0_is_ignored() {
        let good = sign_payload(SECRET, NOW, BODY);
        let other = sign_payload(b"old secret", NOW, BODY);
        let header = format!("t={NOW},v1={other},v0=deadbeef,v1={good}");
        assert_eq!(verify_signature(Some(&header), BODY, SECRET, NOW), Ok(NOW));
        let header = format!("t={NOW}, v1={good}, v1={other}");
        assert_eq!(verify_signature(Some(&header), BODY, SECRET, NOW), Ok(NOW));
    }

    #[test]
    fn a_wrong_secret_or_altered_body_is_a_mismatch() {
        let header = signature_header(b"another secret", NOW, BODY);
        assert_eq!(
            verify_signature(Some(&header), BODY, SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
        let header = signature_header(SECRET, NOW, BODY);
        assert_eq!(
            verify_signature(Some(&header), b"{\"id\":\"evt_2\"}", SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed too: moving it breaks the signature.
        let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
        assert_eq!(
            verify_signature(Some(&moved), BODY, SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let stale = signature_header(SECRET, NOW - 301, BODY);
        assert_eq!(
            verify_signature(Some(&stale), BODY, SECRET, NOW),
            Err(SignatureError::Stale(301))
        );
        let edge = signature_header(SECRET, NOW - 300, BODY);
        assert!(verify_signature(Some(&edge), BODY, SECRET, NOW).is_ok());
        let future = signature_header(SECRET, NOW + 301, BODY);
        assert_eq!(
            verify_signature(Some(&future), BODY, SECRET, NOW),
            Err(SignatureError::Future(301))
        );
        let far = signature_header(SECRET, i64::MIN, BODY);
        assert!(matches!(
            verify_signature(Some(&far), BODY, SECRET, NOW),
            Err(SignatureError::Stale(_))
        ));
        let far = signature_header(SECRET, i64::MAX, BODY);
        assert!(matches!(
            verify_signature(Some(&far), BODY, SECRET, NOW),
            Err(SignatureError::Future(_))
        ));
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        let sig = sign_payload(SECRET, NOW, BODY);
        let cases: [(Option<String>, SignatureError); 8] = [
            (None, SignatureError::Missing),
            (
                Some(String::new()),
                SignatureError::Malformed("items are `key=value`"),
            ),
            (
                Some(format!("v1={sig}")),
                SignatureError::Malformed("no `t=` timestamp"),
            ),
            (
                Some(format!("t=soon,v1={sig}")),
                SignatureError::Malformed("`t` is not unix seconds"),
            ),
            (
                Some(format!("t={NOW},t={NOW},v1={sig}")),
                SignatureError::Malformed("`t` appears twice"),
            ),
            (
                Some(format!("t={NOW},v1=zz{sig}")),
                SignatureError::Malformed("a `v1` signature is not hex"),
            ),
            (Some(format!("t={NOW},v0={sig}")), SignatureError::NoV1),
            (
                Some(format!("t={NOW},v1={}", "a".repeat(5000))),
                SignatureError::Malformed("longer than 4096 bytes"),
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(
                verify_signature(header.as_deref(), BODY, SECRET, NOW),
                Err(expected),
                "{header:?}"
            );
        }
        // A truncated signature is hex but not a match.
        let short = format!("t={NOW},v1={}", &sig[..32]);
        assert_eq!(
            verify_signature(Some(&short), BODY, SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
    }
}
