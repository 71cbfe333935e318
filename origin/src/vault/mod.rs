//! Secrets at rest (upstream credentials, webhook secrets): sealed with XChaCha20-Poly1305
//! under a master key the database never sees, and re-sealed when the master key rotates.
//!
//! Sealed text is `tgv1.<key id>.<base64url(nonce ‖ ciphertext)>`; the key id is derived
//! from the key itself, so operators only handle keys. The associated data names the
//! secret's owner, so a sealed value copied onto another row does not open.

mod keyring;
mod store;

pub use keyring::{MasterKey, MasterKeyring};
pub use store::{open_secret, put_secret, rotate_secrets, SecretOwner};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const VERSION: &str = "tgv1";
const NONCE_LEN: usize = 24;

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("the sealed value is not in tollgate's format")]
    Malformed,
    #[error("the secret was sealed with master key `{0}`, which is not configured (set TOLLGATE_MASTER_KEY_PREVIOUS)")]
    UnknownKey(String),
    #[error(
        "the secret does not open with its master key: it was altered or moved to another owner"
    )]
    Tampered,
}

/// Seals `plaintext` for `owner` (the associated data) under the primary key.
pub fn seal(keys: &MasterKeyring, owner: &str, plaintext: &[u8]) -> String {
    let primary = keys.primary();
    let cipher = XChaCha20Poly1305::new(primary.bytes().into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    // Encryption with a valid key and nonce cannot fail for in-memory buffers.
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad: owner.as_bytes(),
            },
        )
        .unwrap_or_default();
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&ciphertext);
    format!(
        "{VERSION}.{}.{}",
        primary.id(),
        URL_SAFE_NO_PAD.encode(blob)
    )
}

/// The id of the master key a sealed value was made with.
pub fn sealed_key_id(sealed: &str) -> Option<&str> {
    let mut parts = sealed.splitn(3, '.');
    (parts.next() == Some(VERSION))
        .then(|| parts.next())
        .flatten()
}

/// Opens a value sealed for `owner` with any configured master key.
pub fn open(keys: &MasterKeyring, owner: &str, sealed: &str) -> Result<Vec<u8>, VaultError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some(VERSION), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(VaultError::Malformed);
    };
    let key = keys
        .find(kid)
        .ok_or_else(|| VaultError::UnknownKey(kid.to_owned()))?;
    let blob = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| VaultError::Malformed)?;
    if blob.len() <= NONCE_LEN {
        return Err(VaultError::Malformed);
    }
    let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key.bytes().into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: owner.as_bytes(),
            },
        )
        .map_err(|_| VaultError::Tampered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(seed: u8) -> MasterKeyring {
        MasterKeyring::new(MasterKey::from_bytes([seed; 32]), vec![])
    }

    #[test]
    fn sealed_values_open_only_for_their_owner_and_key() {
        let keys = ring(1);
        let sealed = seal(&keys, "api:a:upstream", b"Bearer s3cret");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(
            open(&keys, "api:a:upstream", &sealed).unwrap(),
            b"Bearer s3cret"
        );
        assert_eq!(
            open(&keys, "api:b:upstream", &sealed),
            Err(VaultError::Tampered)
        );
        assert!(matches!(
            open(&ring(2), "api:a:upstream", &sealed),
            Err(VaultError::UnknownKey(_))
        ));
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            open(&keys, "api:a:upstream", &flipped),
            Err(VaultError::Tampered)
        );
        for bad in ["", "tgv1", "tgv1.x", "tgv2.a.b", "tgv1.k.!!!"] {
            assert!(open(&keys, "o", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sealing_twice_gives_different_text() {
        let keys = ring(3);
        assert_ne!(seal(&keys, "o", b"x"), seal(&keys, "o", b"x"));
    }

    #[test]
    fn previous_keys_still_open_after_rotation() {
        let old = MasterKey::from_bytes([4; 32]);
        let sealed = seal(&MasterKeyring::new(old.clone(), vec![]), "o", b"v");
        let rotated = MasterKeyring::new(MasterKey::from_bytes([5; 32]), vec![old]);
        assert_eq!(open(&rotated, "o", &sealed).unwrap(), b"v");
        assert_ne!(sealed_key_id(&sealed), Some(rotated.primary().id()));
    }
}
