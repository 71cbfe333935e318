//! The edge's identity tokens: a 60-second EdDSA JWT in `x-tollgate-identity`, signed
//! with the Ed25519 key in the `IDENTITY_SIGNING_KEY` secret, and the public half served
//! at `GET /.tollgate/identity-jwks.json` so upstreams can verify it. The parsed key is
//! kept per isolate (keyed by the secret's text, so a rotated secret takes effect).

use crate::config::{now_ms, EdgeConfig};
use ed25519_compact::{KeyPair, PublicKey, SecretKey, Seed};
use jwt_compact::alg::Ed25519;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::rc::Rc;
use tollgate_core::policy::identity::{identity_claims, parse_signing_seed, IDENTITY_JWKS_PATH};
use tollgate_core::{KeyRecord, Problem, ProblemKind};
use worker::{Request, Response};

struct SigningKey {
    text: String,
    secret: SecretKey,
    public: PublicKey,
    kid: String,
}

thread_local! {
    static KEY: RefCell<Option<Rc<SigningKey>>> = const { RefCell::new(None) };
}

fn unavailable(detail: &str) -> Problem {
    Problem::new(
        ProblemKind::ServiceUnavailable,
        format!("this API sends a signed identity to its upstream, but {detail}; the operator must set IDENTITY_SIGNING_KEY on the edge"),
    )
    .with_retry_after(30)
}

fn signing_key(cfg: &EdgeConfig) -> Result<Rc<SigningKey>, Problem> {
    let text = cfg
        .identity_signing_key
        .as_deref()
        .ok_or_else(|| unavailable("the edge has no signing key"))?;
    if let Some(k) = KEY.with(|k| k.borrow().clone()).filter(|k| k.text == text) {
        return Ok(k);
    }
    let seed = parse_signing_seed(text).map_err(|e| {
        worker::console_error!("edge: IDENTITY_SIGNING_KEY refused: {e}");
        unavailable("the edge's signing key cannot be read")
    })?;
    let pair = KeyPair::from_seed(Seed::new(seed));
    let digest = Sha256::digest(pair.pk.as_ref());
    let key = Rc::new(SigningKey {
        text: text.to_owned(),
        secret: pair.sk,
        public: pair.pk,
        kid: hex::encode(&digest[..8]),
    });
    KEY.with(|k| *k.borrow_mut() = Some(key.clone()));
    Ok(key)
}

/// A signed identity token for `key` calling `api_id`, valid for 60 s.
pub fn identity_token(cfg: &EdgeConfig, key: &KeyRecord, api_id: &str) -> Result<String, Problem> {
    let signer = signing_key(cfg)?;
    let claims = Claims::new(identity_claims(key, api_id, now_ms() / 1_000));
    let header = Header::empty()
        .with_key_id(signer.kid.clone())
        .with_token_type("JWT");
    Ed25519
        .token(&header, &claims, &signer.secret)
        .map_err(|e| {
            worker::console_error!("edge: identity token not signed: {e}");
            Problem::new(
                ProblemKind::Internal,
                "the identity token could not be signed",
            )
        })
}

/// Answers `GET /.tollgate/identity-jwks.json` (`None`: not this path); 404 when the
/// edge has no signing key.
pub fn jwks_endpoint(req: &Request, cfg: &EdgeConfig) -> Option<Result<Response, Problem>> {
    if req.path() != IDENTITY_JWKS_PATH {
        return None;
    }
    let signer = match signing_key(cfg) {
        Ok(k) => k,
        Err(_) => return Some(Err(Problem::new(
            ProblemKind::NotFound,
            "this edge signs no identity tokens (IDENTITY_SIGNING_KEY is not set or not readable)",
        ))),
    };
    let mut jwk = serde_json::to_value(JsonWebKey::from(&signer.public)).unwrap_or_default();
    if let Some(obj) = jwk.as_object_mut() {
        obj.insert("kid".into(), signer.kid.clone().into());
        obj.insert("alg".into(), "EdDSA".into());
        obj.insert("use".into(), "sig".into());
    }
    let body = serde_json::json!({ "keys": [jwk] }).to_string();
    let answer = Response::ok(body).and_then(|mut r| {
        r.headers_mut()
            .set("content-type", "application/jwk-set+json")?;
        r.headers_mut()
            .set("cache-control", "public, max-age=300")?;
        Ok(r)
    });
    Some(answer.map_err(|_| Problem::new(ProblemKind::Internal, "the key set could not be served")))
}
