//! Outgoing webhooks, signed the Standard Webhooks way (<https://www.standardwebhooks.com>):
//! `webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`, with the
//! secret shown to the receiver as `whsec_<base64>`. During a secret rotation both the new
//! and the old secret sign, space-separated, so receivers switch without dropping events.
//! Also which events an endpoint wants and how long to wait before retrying a failed one.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a webhook signing secret as shown to the receiver.
pub const SECRET_PREFIX: &str = "whsec_";
/// Most event patterns one endpoint may list.
pub const MAX_EVENT_PATTERNS: usize = 50;
/// The longest wait between two attempts at one event.
pub const MAX_RETRY_DELAY_MS: i64 = 3_600_000;

/// Why a webhook secret or event pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("a webhook secret is `whsec_` followed by base64")]
    MalformedSecret,
    #[error("`{0}` is not an event pattern: use an action like `key.create`, a family like `key.*`, or `*`")]
    MalformedPattern(String),
    #[error("list between 1 and {MAX_EVENT_PATTERNS} event patterns")]
    PatternCount,
}

/// The raw key bytes of a `whsec_…` secret.
pub fn parse_secret(shown: &str) -> Result<Vec<u8>, WebhookError> {
    let b64 = shown
        .strip_prefix(SECRET_PREFIX)
        .ok_or(WebhookError::MalformedSecret)?;
    let raw = STANDARD
        .decode(b64)
        .map_err(|_| WebhookError::MalformedSecret)?;
    if raw.is_empty() {
        return Err(WebhookError::MalformedSecret);
    }
    Ok(raw)
}

/// How a secret's key bytes are shown to the receiver.
pub fn show_secret(raw: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(raw))
}

/// One `v1,<base64>` signature of a message.
pub fn sign(secret: &[u8], msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{msg_id}.{timestamp_secs}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header value: one signature per live secret, newest first.
pub fn signature_header(
    secrets: &[&[u8]],
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp_secs, body))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_pattern(p: &str) -> bool {
    if p == "*" {
        return true;
    }
    let body = p.strip_suffix(".*").unwrap_or(p);
    !body.is_empty()
        && body.len() <= 64
        && body.split('.').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
}

/// Checks and normalises an endpoint's event patterns (sorted, without duplicates).
pub fn parse_patterns(mut patterns: Vec<String>) -> Result<Vec<String>, WebhookError> {
    if patterns.is_empty() || patterns.len() > MAX_EVENT_PATTERNS {
        return Err(WebhookError::PatternCount);
    }
    if let Some(bad) = patterns.iter().find(|p| !is_pattern(p)) {
        return Err(WebhookError::MalformedPattern(bad.clone()));
    }
    patterns.sort();
    patterns.dedup();
    Ok(patterns)
}

/// Whether an event of type `action` (e.g. `key.revoke`) is one the patterns ask for.
pub fn wants(patterns: &[String], action: &str) -> bool {
    patterns.iter().any(|p| {
        p == "*"
            || p == action
            || p.strip_suffix(".*").is_some_and(|family| {
                action
                    .strip_prefix(family)
                    .is_some_and(|r| r.starts_with('.'))
            })
    })
}

/// How long to wait after the `attempts`-th failure in a row: 1 s doubling, at most an hour.
pub fn retry_delay_ms(attempts: u32) -> i64 {
    let exp = attempts.saturating_sub(1).min(12);
    (1_000_i64 << exp).min(MAX_RETRY_DELAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signs_the_standard_webhooks_example() {
        // The example in the Standard Webhooks specification.
        let secret = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn rotation_signs_with_both_secrets() {
        let header = signature_header(&[b"new", b"old"], "m", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            [sign(b"new", "m", 1, b"{}"), sign(b"old", "m", 1, b"{}")]
        );
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn secrets_round_trip_and_garbage_is_refused() {
        let shown = show_secret(&[7; 24]);
        assert_eq!(parse_secret(&shown).unwrap(), vec![7; 24]);
        for bad in [
            "",
            "whsec_",
            "whsec_%%%",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            assert_eq!(
                parse_secret(bad),
                Err(WebhookError::MalformedSecret),
                "{bad}"
            );
        }
    }

    #[test]
    fn patterns_select_actions() {
        let p = parse_patterns(vec![
            "key.*".into(),
            "subscription.cancel".into(),
            "key.*".into(),
        ])
        .unwrap();
        assert_eq!(p.len(), 2);
        assert!(wants(&p, "key.create") && wants(&p, "key.revoke"));
        assert!(wants(&p, "subscription.cancel"));
        assert!(!wants(&p, "subscription.create"));
        assert!(
            !wants(&p, "keyring.create"),
            "a family matches whole segments"
        );
        assert!(wants(&["*".to_owned()], "api.delete"));
        for bad in [
            "",
            "Key.create",
            "key.",
            ".key",
            "key.**",
            "key create",
            "a*",
        ] {
            assert!(parse_patterns(vec![bad.into()]).is_err(), "{bad}");
        }
        assert_eq!(parse_patterns(vec![]), Err(WebhookError::PatternCount));
        assert_eq!(
            parse_patterns(vec!["*".into(); 51]),
            Err(WebhookError::PatternCount)
        );
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay_ms(1), 1_000);
        assert_eq!(retry_delay_ms(2), 2_000);
        assert_eq!(retry_delay_ms(5), 16_000);
        assert_eq!(retry_delay_ms(13), MAX_RETRY_DELAY_MS);
        assert_eq!(retry_delay_ms(u32::MAX), MAX_RETRY_DELAY_MS);
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(s in ".{0,80}", action in "[a-z.*]{0,20}") {
            let _ = parse_secret(&s);
            let _ = parse_patterns(vec![s.clone()]);
            let _ = wants(&[s], &action);
        }
    }
}
