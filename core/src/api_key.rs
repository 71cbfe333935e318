//! API key format: `tg_` + 32 base62 characters of entropy + 6 base62 characters of CRC32.
//!
//! Modelled on GitHub's token format: the prefix makes leaked keys recognisable to secret
//! scanners, the checksum lets the edge refuse typos and random garbage without any
//! look-up, and 32 base62 characters carry ~190 bits of entropy. Keys are stored only as
//! a SHA-256 [`KeyHash`] plus a short display prefix.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// Every tollgate key starts with this.
pub const KEY_PREFIX: &str = "tg_";
const BODY_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
/// Total length of a well-formed key.
pub const KEY_LEN: usize = KEY_PREFIX.len() + BODY_LEN + CHECKSUM_LEN;
/// Characters of the key shown in listings (prefix plus the first 8 of the body).
pub const DISPLAY_PREFIX_LEN: usize = KEY_PREFIX.len() + 8;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A plaintext API key. Deliberately not `Debug`/`Display` in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

/// Why a presented string is not a tollgate key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("an API key is {KEY_LEN} characters long and starts with `{KEY_PREFIX}`")]
    Shape,
    #[error("the API key's checksum does not match: it was mistyped or truncated")]
    Checksum,
}

impl ApiKey {
    /// Builds a new key from a source of random bytes (the caller owns randomness).
    /// Uses rejection sampling so every base62 character is equally likely.
    pub fn generate(mut next_byte: impl FnMut() -> u8) -> ApiKey {
        let mut body = String::with_capacity(BODY_LEN);
        while body.len() < BODY_LEN {
            let b = next_byte();
            // 248 = 4 * 62: bytes at or above it would bias the distribution.
            if b < 248 {
                body.push(BASE62[(b % 62) as usize] as char);
            }
        }
        let checksum = encode_checksum(&body);
        ApiKey(format!("{KEY_PREFIX}{body}{checksum}"))
    }

    /// Checks shape and checksum of a presented key.
    pub fn parse(presented: &str) -> Result<ApiKey, KeyFormatError> {
        let body_and_sum = presented
            .strip_prefix(KEY_PREFIX)
            .filter(|rest| rest.len() == BODY_LEN + CHECKSUM_LEN)
            .filter(|rest| rest.bytes().all(|b| b.is_ascii_alphanumeric()))
            .ok_or(KeyFormatError::Shape)?;
        let (body, sum) = body_and_sum.split_at(BODY_LEN);
        if encode_checksum(body)
            .as_bytes()
            .ct_eq(sum.as_bytes())
            .into()
        {
            Ok(ApiKey(presented.to_owned()))
        } else {
            Err(KeyFormatError::Checksum)
        }
    }

    /// The secret text; only for showing once to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the key: the only form that is stored or sent between edge and origin.
    pub fn hash(&self) -> KeyHash {
        KeyHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    /// The non-secret beginning of the key shown in listings.
    pub fn display_prefix(&self) -> &str {
        &self.0[..DISPLAY_PREFIX_LEN]
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}…)", self.display_prefix())
    }
}

fn encode_checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| b as char).collect()
}

/// Lower-case hex SHA-256 of an API key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyHash(String);

impl KeyHash {
    /// Accepts exactly 64 lower-case hex characters.
    pub fn parse(s: &str) -> Option<KeyHash> {
        (s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| KeyHash(s.to_owned()))
    }

    /// The hash as hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of any credential text (other credentials share the key look-up path).
    pub fn of_text(text: &str) -> KeyHash {
        KeyHash(hex::encode(Sha256::digest(text.as_bytes())))
    }

    /// Constant-time equality, for comparing a stored hash with a computed one.
    pub fn ct_eq(&self, other: &KeyHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl TryFrom<String> for KeyHash {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        KeyHash::parse(&s).ok_or_else(|| "a key hash is 64 lower-case hex characters".into())
    }
}

impl From<KeyHash> for String {
    fn from(h: KeyHash) -> String {
        h.0
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn counter_rng(seed: u8) -> impl FnMut() -> u8 {
        let mut x = seed as u32;
        move || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        }
    }

    #[test]
    fn generated_keys_parse_and_have_the_documented_shape() {
        let key = ApiKey::generate(counter_rng(7));
        assert_eq!(key.expose().len(), KEY_LEN);
        assert!(key.expose().starts_with("tg_"));
        assert_eq!(ApiKey::parse(key.expose()), Ok(key.clone()));
        assert_eq!(key.display_prefix().len(), 11);
    }

    #[test]
    fn one_changed_character_fails_the_checksum() {
        let key = ApiKey::generate(counter_rng(1));
        let mut chars: Vec<char> = key.expose().chars().collect();
        chars[10] = if chars[10] == 'a' { 'b' } else { 'a' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(ApiKey::parse(&typo), Err(KeyFormatError::Checksum));
    }

    #[test]
    fn garbage_is_refused_by_shape() {
        for s in [
            "",
            "tg_",
            "Bearer x",
            "tg_!!!!",
            &"a".repeat(41),
            &format!("tg_{}", "é".repeat(19)),
        ] {
            assert_eq!(ApiKey::parse(s), Err(KeyFormatError::Shape), "{s:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = ApiKey::generate(counter_rng(3));
        let shown = format!("{key:?}");
        assert!(!shown.contains(&key.expose()[12..]));
    }

    #[test]
    fn hash_is_sha256_hex_of_the_whole_key() {
        let key = ApiKey::parse(ApiKey::generate(counter_rng(9)).expose()).unwrap();
        let h = key.hash();
        assert_eq!(h.as_str().len(), 64);
        assert_eq!(KeyHash::parse(h.as_str()), Some(h.clone()));
        assert!(h.ct_eq(&key.hash()));
        assert!(KeyHash::parse(&h.as_str().to_uppercase()).is_none());
    }

    proptest! {
        #[test]
        fn any_random_source_yields_a_valid_distinct_key(seed in any::<u8>(), bytes in proptest::collection::vec(any::<u8>(), 64..256)) {
            let mut it = bytes.into_iter();
            let mut fallback = counter_rng(seed);
            let key = ApiKey::generate(|| it.next().unwrap_or_else(&mut fallback));
            prop_assert!(ApiKey::parse(key.expose()).is_ok());
        }

        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = ApiKey::parse(&s);
        }
    }
}
