//! JWT verification benchmark (`make bench-jwt`, native half): µs per verified token for
//! each algorithm (compact parse + header checks + signature), with HS256 as the baseline
//! of the ratio column. Keys: the RFC 7520 RSA key (2048 bits) and fixed EC/Ed25519 keys.
// A benchmark reads the clock by definition; core's logic never does.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use base64ct::{Base64UrlUnpadded as B64, Encoding};
use jwt_compact::alg::{Ed25519, Es256, Hs256, Hs256Key, Rsa};
use jwt_compact::{Algorithm, AlgorithmSignature};
use p384::ecdsa::signature::Signer;
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::Instant;
use tollgate_core::jwt::{parse_jwks, verify_jws};

const RSA_PRIVATE: &str =
    include_str!("../../../shared/testdata/jose/cookbook/jwk/3_4.rsa_private_key.json");

fn b64(bytes: &[u8]) -> String {
    B64::encode_string(bytes)
}

fn member(jwk: &Value, name: &str) -> rsa::BigUint {
    rsa::BigUint::from_bytes_be(&B64::decode_vec(jwk[name].as_str().unwrap()).unwrap())
}

fn token(alg: &str, kid: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let header = b64(json!({"alg": alg, "kid": kid, "typ": "at+jwt"})
        .to_string()
        .as_bytes());
    let claims = json!({"iss": "https://idp.example", "aud": "api", "sub": "con_1",
        "exp": 4_000_000_000u64, "iat": 1_800_000_000u64, "scope": "a b c", "jti": "x".repeat(22)});
    let input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
    format!("{input}.{}", b64(&sign(input.as_bytes())))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn main() {
    let rsa_jwk: Value = serde_json::from_str(RSA_PRIVATE).unwrap();
    let rsa_key = rsa::RsaPrivateKey::from_components(
        member(&rsa_jwk, "n"),
        member(&rsa_jwk, "e"),
        member(&rsa_jwk, "d"),
        vec![member(&rsa_jwk, "p"), member(&rsa_jwk, "q")],
    )
    .unwrap();
    let p256 = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
    let p384 = p384::ecdsa::SigningKey::from_slice(&[7u8; 48]).unwrap();
    let mut scalar = [7u8; 66];
    scalar[0] = 1; // a P-521 scalar has 521 bits
    let p521 = p521::ecdsa::SigningKey::from_slice(&scalar).unwrap();
    let ed = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([7u8; 32]));
    let secret = [9u8; 32];

    let ec_jwk = |crv: &str, sec1: &[u8], kid: &str| {
        let n = (sec1.len() - 1) / 2;
        json!({"kty": "EC", "crv": crv, "kid": kid, "x": b64(&sec1[1..1 + n]), "y": b64(&sec1[1 + n..])})
    };
    let rsa_pub = |alg: &str| json!({"kty": "RSA", "kid": alg, "alg": alg, "n": rsa_jwk["n"], "e": rsa_jwk["e"]});
    let public_keys = json!({"keys": [
        rsa_pub("RS256"), rsa_pub("RS384"), rsa_pub("RS512"),
        rsa_pub("PS256"), rsa_pub("PS384"), rsa_pub("PS512"),
        ec_jwk("P-256", p256.verifying_key().to_encoded_point(false).as_bytes(), "ES256"),
        ec_jwk("P-384", p384.verifying_key().to_encoded_point(false).as_bytes(), "ES384"),
        ec_jwk("P-521", {
            use p521::elliptic_curve::sec1::ToEncodedPoint;
            p521::PublicKey::from_secret_scalar(p521.as_nonzero_scalar()).to_encoded_point(false)
        }.as_bytes(), "ES512"),
        {"kty": "OKP", "crv": "Ed25519", "kid": "EdDSA", "x": b64(ed.pk.as_ref())},
    ]});
    let public_set = parse_jwks(&public_keys.to_string()).unwrap();
    let hs_set = parse_jwks(
        &json!({"keys": [{"kty": "oct", "kid": "HS256", "alg": "HS256", "k": b64(&secret)}]})
            .to_string(),
    )
    .unwrap();

    let rsa_key = &rsa_key;
    let rsa_sign = |rsa: Rsa| move |m: &[u8]| rsa.sign(rsa_key, m).as_bytes().to_vec();
    let cases: Vec<(&str, String)> = vec![
        (
            "HS256",
            token("HS256", "HS256", |m| {
                Hs256.sign(&Hs256Key::new(secret), m).as_bytes().to_vec()
            }),
        ),
        ("RS256", token("RS256", "RS256", rsa_sign(Rsa::rs256()))),
        ("RS384", token("RS384", "RS384", rsa_sign(Rsa::rs384()))),
        ("RS512", token("RS512", "RS512", rsa_sign(Rsa::rs512()))),
        ("PS256", token("PS256", "PS256", rsa_sign(Rsa::ps256()))),
        ("PS384", token("PS384", "PS384", rsa_sign(Rsa::ps384()))),
        ("PS512", token("PS512", "PS512", rsa_sign(Rsa::ps512()))),
        (
            "ES256",
            token("ES256", "ES256", |m| {
                Es256.sign(&p256, m).as_bytes().to_vec()
            }),
        ),
        (
            "ES384",
            token("ES384", "ES384", |m| {
                let s: p384::ecdsa::Signature = p384.sign(m);
                s.to_bytes().to_vec()
            }),
        ),
        (
            "ES512",
            token("ES512", "ES512", |m| {
                use p521::ecdsa::signature::RandomizedSigner;
                let mut rng = p521::elliptic_curve::rand_core::OsRng;
                let s: p521::ecdsa::Signature = p521.sign_with_rng(&mut rng, m);
                s.to_bytes().to_vec()
            }),
        ),
        (
            "EdDSA",
            token("EdDSA", "EdDSA", |m| {
                Ed25519.sign(&ed.sk, m).as_bytes().to_vec()
            }),
        ),
    ];

    println!("| algorithm | µs per verify (native, release) | × HS256 |");
    println!("|---|---:|---:|");
    let mut baseline = 0.0;
    for (alg, token) in &cases {
        let set = if *alg == "HS256" {
            &hs_set
        } else {
            &public_set
        };
        assert!(verify_jws(token, set).is_ok(), "{alg} verifies");
        let iters = if alg.starts_with('H') { 20_000 } else { 200 };
        let us = median(
            (0..7)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(verify_jws(black_box(token), set).unwrap());
                    }
                    start.elapsed().as_secs_f64() * 1e6 / iters as f64
                })
                .collect(),
        );
        if *alg == "HS256" {
            baseline = us;
        }
        println!("| {alg} | {us:.1} | {:.0}× |", us / baseline);
    }
}
