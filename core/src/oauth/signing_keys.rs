//! Signing key rotation with overlap: the newest un-retired key signs; a key retired by a
//! rotation stays published in the JWKS for the longest token lifetime plus a margin, so
//! every token it signed can still be verified until it expires, and then drops out.

use super::MAX_TOKEN_TTL_SECS;
use serde::{Deserialize, Serialize};

/// Margin beyond the longest token lifetime: clock skew and JWKS caching at verifiers.
pub const ROTATION_MARGIN_SECS: u64 = 300;
/// How long a retired key stays published.
pub const ROTATION_OVERLAP_SECS: u64 = MAX_TOKEN_TTL_SECS + ROTATION_MARGIN_SECS;

/// When a signing key started and stopped signing (unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningKeyTimes {
    pub activated_at_ms: i64,
    pub retired_at_ms: Option<i64>,
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Signs new tokens (the newest active key does) and is published.
    Active,
    /// No longer signs; still published so the tokens it signed verify.
    Retiring,
    /// Gone from the JWKS.
    Retired,
}

impl SigningKeyTimes {
    /// The key's status at `now_ms`.
    pub fn status(&self, now_ms: i64) -> KeyStatus {
        match self.retired_at_ms {
            None => KeyStatus::Active,
            Some(at) if now_ms < self.published_until(at) => KeyStatus::Retiring,
            Some(_) => KeyStatus::Retired,
        }
    }

    /// Until when a key retired at `retired_at_ms` stays published.
    pub fn published_until(&self, retired_at_ms: i64) -> i64 {
        retired_at_ms.saturating_add((ROTATION_OVERLAP_SECS * 1000) as i64)
    }

    /// Whether the key belongs in the JWKS at `now_ms`.
    pub fn is_published(&self, now_ms: i64) -> bool {
        self.status(now_ms) != KeyStatus::Retired
    }
}

/// The index of the key that signs: the most recently activated active one.
pub fn signing_key_index(keys: &[SigningKeyTimes], now_ms: i64) -> Option<usize> {
    keys.iter()
        .enumerate()
        .filter(|(_, k)| k.status(now_ms) == KeyStatus::Active)
        .max_by_key(|(_, k)| k.activated_at_ms)
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OVERLAP_MS: i64 = (ROTATION_OVERLAP_SECS * 1000) as i64;

    #[test]
    fn a_retired_key_is_published_for_the_overlap_then_dropped() {
        let key = SigningKeyTimes {
            activated_at_ms: 0,
            retired_at_ms: Some(10_000),
        };
        assert_eq!(key.status(10_000), KeyStatus::Retiring);
        assert!(key.is_published(10_000 + OVERLAP_MS - 1));
        assert_eq!(key.status(10_000 + OVERLAP_MS), KeyStatus::Retired);
        assert!(
            OVERLAP_MS > (MAX_TOKEN_TTL_SECS * 1000) as i64,
            "every token outlives its key's overlap"
        );
    }

    #[test]
    fn the_newest_active_key_signs() {
        let keys = [
            SigningKeyTimes {
                activated_at_ms: 1,
                retired_at_ms: Some(5),
            },
            SigningKeyTimes {
                activated_at_ms: 5,
                retired_at_ms: None,
            },
            SigningKeyTimes {
                activated_at_ms: 3,
                retired_at_ms: None,
            },
        ];
        assert_eq!(signing_key_index(&keys, 6), Some(1));
        assert_eq!(signing_key_index(&keys[..1], 6), None);
        assert_eq!(signing_key_index(&[], 6), None);
    }
}
