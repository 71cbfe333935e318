//! Tokens whose signature already verified, remembered until they expire so a repeated
//! token skips the signature work. Bounded: a flood of distinct tokens cannot grow it.

use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Most tokens one isolate remembers.
pub const MAX_VERIFIED_TOKENS: usize = 10_000;

/// Verified payloads by token hash, each with its `exp` (unix seconds).
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: HashMap<String, (Vec<u8>, u64)>,
}

/// The cache key of `token` as verified against the JWKS at `jwks_url`.
pub fn token_key(jwks_url: &str, token: &str) -> String {
    let mut h = Sha256::new();
    h.update(jwks_url.as_bytes());
    h.update(b"\n");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

impl VerifiedTokens {
    /// The verified payload of a token that has not expired at `now_secs`.
    pub fn get(&self, key: &str, now_secs: u64) -> Option<&[u8]> {
        self.entries
            .get(key)
            .filter(|(_, exp)| now_secs < *exp)
            .map(|(payload, _)| payload.as_slice())
    }

    /// Remembers a verified payload until `exp_secs`, dropping expired entries (then
    /// everything) when full.
    pub fn insert(&mut self, key: String, payload: Vec<u8>, exp_secs: u64, now_secs: u64) {
        if self.entries.len() >= MAX_VERIFIED_TOKENS && !self.entries.contains_key(&key) {
            self.entries.retain(|_, (_, exp)| now_secs < *exp);
            if self.entries.len() >= MAX_VERIFIED_TOKENS {
                self.entries.clear();
            }
        }
        self.entries.insert(key, (payload, exp_secs));
    }

    /// Number of remembered tokens.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
