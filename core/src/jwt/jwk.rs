//! JWK / JWKS (RFC 7517) parsed into verifying keys. A key's `alg`, `kty` and `crv`
//! decide which algorithms it verifies; keys marked for encryption, too weak, or not
//! public are refused, and a key set that mixes shared secrets with public keys or
//! publishes private keys is refused whole.

use super::alg::{JwsAlg, KeyMaterial, ALL};
use super::b64url;
use serde::Deserialize;

/// Smallest RSA modulus accepted (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted (bounds verification cost).
pub const MAX_RSA_BITS: usize = 8192;
/// Most keys one JWKS may hold.
pub const MAX_KEYS: usize = 64;

/// Why a JWK or JWKS is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    #[error("the JWKS is not JSON with a `keys` array of at most {MAX_KEYS} keys")]
    Shape,
    #[error("the JWKS publishes private key material (`{0}`)")]
    PrivateMaterial(&'static str),
    #[error("the JWKS mixes shared secrets (`oct`) with public keys")]
    MixedSymmetry,
    #[error("the key is not for signatures (`use`/`key_ops`)")]
    NotForSignatures,
    #[error("the key's `alg` `{0}` is not a supported signature algorithm")]
    UnsupportedAlg(String),
    #[error("the key's `alg` `{alg}` does not fit its type `{kty}`")]
    AlgMismatch { alg: String, kty: String },
    #[error("the key type or curve `{0}` is not supported")]
    UnsupportedType(String),
    #[error("the key's `{0}` member is missing or not base64url")]
    Member(&'static str),
    #[error("the key is not a valid {0} public key")]
    Invalid(&'static str),
    #[error("the RSA key is too weak: {0}")]
    WeakRsa(&'static str),
    #[error("the HMAC key has {len} bytes; {alg} needs at least {min}")]
    ShortSecret {
        alg: &'static str,
        len: usize,
        min: usize,
    },
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    k: Option<String>,
    #[serde(default)]
    d: Option<serde_json::Value>,
    #[serde(default)]
    p: Option<serde_json::Value>,
    #[serde(default)]
    q: Option<serde_json::Value>,
}

/// One key of a JWKS, ready to verify.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    /// The key's `kid`, which a token names to pick it.
    pub kid: Option<String>,
    /// The algorithms this key verifies (exactly one when the JWK names its `alg`).
    pub algs: Vec<JwsAlg>,
    pub material: KeyMaterial,
}

impl VerifyingKey {
    /// The key's algorithms as text, for refusals.
    pub fn algs_text(&self) -> String {
        self.algs
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// A parsed key set: the usable keys, and why the others were skipped.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    pub keys: Vec<VerifyingKey>,
    pub skipped: Vec<(Option<String>, JwkError)>,
}

fn member(v: &Option<String>, name: &'static str) -> Result<Vec<u8>, JwkError> {
    v.as_deref().and_then(b64url).ok_or(JwkError::Member(name))
}

fn algs_for(raw: &RawJwk, family: &[JwsAlg]) -> Result<Vec<JwsAlg>, JwkError> {
    match raw.alg.as_deref() {
        None => Ok(family.to_vec()),
        Some(name) => {
            let alg = JwsAlg::parse(name).ok_or_else(|| JwkError::UnsupportedAlg(name.into()))?;
            if family.contains(&alg) {
                Ok(vec![alg])
            } else {
                Err(JwkError::AlgMismatch {
                    alg: name.into(),
                    kty: format!("{} {}", raw.kty, raw.crv.as_deref().unwrap_or(""))
                        .trim()
                        .into(),
                })
            }
        }
    }
}

fn ec_point(raw: &RawJwk, len: usize) -> Result<Vec<u8>, JwkError> {
    let (x, y) = (member(&raw.x, "x")?, member(&raw.y, "y")?);
    if x.len() != len || y.len() != len {
        return Err(JwkError::Member("x/y"));
    }
    Ok([&[4u8][..], &x, &y].concat())
}

fn rsa_key(raw: &RawJwk) -> Result<KeyMaterial, JwkError> {
    let (n, e) = (member(&raw.n, "n")?, member(&raw.e, "e")?);
    let n = rsa::BigUint::from_bytes_be(&n);
    let e = rsa::BigUint::from_bytes_be(&e);
    let bits = n.bits();
    if bits < MIN_RSA_BITS {
        return Err(JwkError::WeakRsa("the modulus is shorter than 2048 bits"));
    }
    if bits > MAX_RSA_BITS {
        return Err(JwkError::WeakRsa("the modulus is longer than 8192 bits"));
    }
    let odd = e.to_bytes_be().last().is_some_and(|b| b & 1 == 1);
    if e < rsa::BigUint::from(3u8) || e.bits() > 32 || !odd {
        return Err(JwkError::WeakRsa(
            "the public exponent is not an odd number from 3 to 2^32",
        ));
    }
    if super::roca::has_roca_fingerprint(&n) {
        return Err(JwkError::WeakRsa(
            "the modulus has the ROCA fingerprint (CVE-2017-15361)",
        ));
    }
    rsa::RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)
        .map(KeyMaterial::Rsa)
        .map_err(|_| JwkError::Invalid("RSA"))
}

fn parse_key(raw: &RawJwk) -> Result<VerifyingKey, JwkError> {
    use JwsAlg::*;
    let for_sig = raw.use_.as_deref().is_none_or(|u| u == "sig")
        && raw
            .key_ops
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|o| o == "verify"));
    if !for_sig {
        return Err(JwkError::NotForSignatures);
    }
    let crv = raw.crv.as_deref().unwrap_or("");
    let (algs, material) = match (raw.kty.as_str(), crv) {
        ("RSA", _) => (
            algs_for(raw, &[RS256, RS384, RS512, PS256, PS384, PS512])?,
            rsa_key(raw)?,
        ),
        ("EC", "P-256") => {
            let algs = algs_for(raw, &[ES256])?;
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&ec_point(raw, 32)?)
                .map_err(|_| JwkError::Invalid("P-256"))?;
            (algs, KeyMaterial::P256(key))
        }
        ("EC", "P-384") => {
            let algs = algs_for(raw, &[ES384])?;
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&ec_point(raw, 48)?)
                .map_err(|_| JwkError::Invalid("P-384"))?;
            (algs, KeyMaterial::P384(key))
        }
        ("EC", "P-521") => {
            let algs = algs_for(raw, &[ES512])?;
            let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(&ec_point(raw, 66)?)
                .map_err(|_| JwkError::Invalid("P-521"))?;
            (algs, KeyMaterial::P521(Box::new(key)))
        }
        ("OKP", "Ed25519") => {
            let algs = algs_for(raw, &[EdDSA])?;
            let key = ed25519_compact::PublicKey::from_slice(&member(&raw.x, "x")?)
                .map_err(|_| JwkError::Invalid("Ed25519"))?;
            (algs, KeyMaterial::Ed25519(key))
        }
        ("oct", _) => {
            let secret = member(&raw.k, "k")?;
            let hs: Vec<JwsAlg> = ALL
                .into_iter()
                .filter(|a| a.min_hmac_key_bytes().is_some())
                .collect();
            let algs = algs_for(raw, &hs)?;
            // With an explicit `alg`, a short key is an error; without one, only the HS
            // variants the key is long enough for remain.
            let long_enough: Vec<JwsAlg> = algs
                .iter()
                .copied()
                .filter(|a| {
                    a.min_hmac_key_bytes()
                        .is_some_and(|min| secret.len() >= min)
                })
                .collect();
            if long_enough.is_empty() {
                let alg = algs.first().copied().unwrap_or(HS256);
                return Err(JwkError::ShortSecret {
                    alg: alg.name(),
                    len: secret.len(),
                    min: alg.min_hmac_key_bytes().unwrap_or(32),
                });
            }
            (long_enough, KeyMaterial::Hmac(secret))
        }
        (kty, crv) => {
            return Err(JwkError::UnsupportedType(
                format!("{kty} {crv}").trim().into(),
            ))
        }
    };
    Ok(VerifyingKey {
        kid: raw.kid.clone(),
        algs,
        material,
    })
}

/// Parses a JWKS document (`{"keys": [...]}`) or a single JWK.
pub fn parse_jwks(json: &str) -> Result<Jwks, JwkError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| JwkError::Shape)?;
    let items = match value.get("keys") {
        Some(serde_json::Value::Array(items)) => items.clone(),
        Some(_) => return Err(JwkError::Shape),
        None if value.get("kty").is_some() => vec![value],
        None => return Err(JwkError::Shape),
    };
    if items.len() > MAX_KEYS {
        return Err(JwkError::Shape);
    }
    let mut set = Jwks::default();
    let (mut secret, mut public) = (false, false);
    for item in items {
        let Ok(raw) = serde_json::from_value::<RawJwk>(item) else {
            set.skipped.push((None, JwkError::Shape));
            continue;
        };
        if raw.kty == "oct" {
            secret = true;
        } else {
            public = true;
            for (name, present) in [
                ("d", raw.d.is_some()),
                ("p", raw.p.is_some()),
                ("q", raw.q.is_some()),
            ] {
                if present {
                    return Err(JwkError::PrivateMaterial(name));
                }
            }
        }
        match parse_key(&raw) {
            Ok(key) => set.keys.push(key),
            Err(e) => set.skipped.push((raw.kid.clone(), e)),
        }
    }
    if secret && public {
        return Err(JwkError::MixedSymmetry);
    }
    Ok(set)
}
