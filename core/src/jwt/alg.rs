//! The JWS algorithms tollgate verifies (RFC 7518 §3, RFC 8037) and the verification of
//! one signature with one key. jwt-compact does HS*, RS*, PS*, ES256 and EdDSA; p384 and
//! p521 do ES384 and ES512.

use jwt_compact::alg::{Ed25519, Es256, Hs256, Hs256Key, Hs384, Hs384Key, Hs512, Hs512Key, Rsa};
use jwt_compact::{Algorithm, AlgorithmSignature};

/// A JWS `alg` value this edge can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlg {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
}

/// Every supported algorithm.
pub const ALL: [JwsAlg; 13] = [
    JwsAlg::HS256,
    JwsAlg::HS384,
    JwsAlg::HS512,
    JwsAlg::RS256,
    JwsAlg::RS384,
    JwsAlg::RS512,
    JwsAlg::PS256,
    JwsAlg::PS384,
    JwsAlg::PS512,
    JwsAlg::ES256,
    JwsAlg::ES384,
    JwsAlg::ES512,
    JwsAlg::EdDSA,
];

impl JwsAlg {
    /// The algorithm named exactly `name` (names are case-sensitive).
    pub fn parse(name: &str) -> Option<JwsAlg> {
        ALL.into_iter().find(|a| a.name() == name)
    }

    /// The `alg` value.
    pub fn name(self) -> &'static str {
        use JwsAlg::*;
        match self {
            HS256 => "HS256",
            HS384 => "HS384",
            HS512 => "HS512",
            RS256 => "RS256",
            RS384 => "RS384",
            RS512 => "RS512",
            PS256 => "PS256",
            PS384 => "PS384",
            PS512 => "PS512",
            ES256 => "ES256",
            ES384 => "ES384",
            ES512 => "ES512",
            EdDSA => "EdDSA",
        }
    }

    /// Shortest HMAC key for an `HS*` algorithm (RFC 7518 §3.2: the hash size).
    pub fn min_hmac_key_bytes(self) -> Option<usize> {
        match self {
            JwsAlg::HS256 => Some(32),
            JwsAlg::HS384 => Some(48),
            JwsAlg::HS512 => Some(64),
            _ => None,
        }
    }
}

/// A public (or, for HS*, shared) key ready to verify.
#[derive(Clone)]
pub enum KeyMaterial {
    Hmac(Vec<u8>),
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(Box<p521::ecdsa::VerifyingKey>),
    Ed25519(ed25519_compact::PublicKey),
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print an HMAC secret.
        f.write_str(match self {
            KeyMaterial::Hmac(_) => "Hmac(..)",
            KeyMaterial::Rsa(_) => "Rsa",
            KeyMaterial::P256(_) => "P256",
            KeyMaterial::P384(_) => "P384",
            KeyMaterial::P521(_) => "P521",
            KeyMaterial::Ed25519(_) => "Ed25519",
        })
    }
}

fn check<A: Algorithm>(alg: &A, key: &A::VerifyingKey, message: &[u8], sig: &[u8]) -> bool {
    // jwt-compact expects the length checked first (some `try_from_slice` panic otherwise).
    if let Some(len) = <A::Signature as AlgorithmSignature>::LENGTH {
        if sig.len() != len.get() {
            return false;
        }
    }
    match A::Signature::try_from_slice(sig) {
        Ok(sig) => alg.verify_signature(&sig, key, message),
        Err(_) => false,
    }
}

/// Whether `sig` is `alg`'s signature of `message` under `key` (false for a key of
/// another type: the caller has already matched them).
pub fn verify_signature(alg: JwsAlg, key: &KeyMaterial, message: &[u8], sig: &[u8]) -> bool {
    use p384::ecdsa::signature::Verifier;
    use JwsAlg::*;
    match (alg, key) {
        (HS256, KeyMaterial::Hmac(k)) => check(&Hs256, &Hs256Key::new(k), message, sig),
        (HS384, KeyMaterial::Hmac(k)) => check(&Hs384, &Hs384Key::new(k), message, sig),
        (HS512, KeyMaterial::Hmac(k)) => check(&Hs512, &Hs512Key::new(k), message, sig),
        (RS256 | RS384 | RS512 | PS256 | PS384 | PS512, KeyMaterial::Rsa(k)) => {
            // RFC 8017 §8.2.2: the signature is exactly as long as the modulus.
            use rsa::traits::PublicKeyParts;
            let rsa = match alg {
                RS256 => Rsa::rs256(),
                RS384 => Rsa::rs384(),
                RS512 => Rsa::rs512(),
                PS256 => Rsa::ps256(),
                PS384 => Rsa::ps384(),
                _ => Rsa::ps512(),
            };
            sig.len() == k.size() && check(&rsa, k, message, sig)
        }
        (ES256, KeyMaterial::P256(k)) => check(&Es256, k, message, sig),
        (ES384, KeyMaterial::P384(k)) => {
            p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(message, &s).is_ok())
        }
        (ES512, KeyMaterial::P521(k)) => {
            p521::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(message, &s).is_ok())
        }
        (EdDSA, KeyMaterial::Ed25519(k)) => check(&Ed25519, k, message, sig),
        _ => false,
    }
}
