use super::alg::JwsAlg;
use super::claims::{validate_claims, ClaimPolicy};
use super::jwk::{parse_jwks, JwkError};
use super::jwks_cache::{may_refetch, ttl_from_cache_control, CachedJwks, REFETCH_INTERVAL_MS};
use super::jws::verify_jws;
use super::scopes::{authorize_scopes, validate_scope_rules, ScopeRule};
use super::verified_cache::{token_key, VerifiedTokens, MAX_VERIFIED_TOKENS};
use super::*;
use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::alg::{Es256, Hs256, Hs256Key};
use jwt_compact::{Algorithm, AlgorithmSignature};
use proptest::prelude::*;
use serde_json::{json, Value};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: u64 = 1_800_000_000;
const RSA_PUBLIC: &str =
    include_str!("../../../../shared/testdata/jose/cookbook/jwk/3_3.rsa_public_key.json");

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn hs_jwks() -> Jwks {
    let k = b64(SECRET);
    parse_jwks(&json!({"keys": [{"kty": "oct", "kid": "hs", "alg": "HS256", "k": k}]}).to_string())
        .unwrap()
}

fn es_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap()
}

fn es_jwks() -> Jwks {
    let point = es_key().verifying_key().to_encoded_point(false);
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "ec", "use": "sig",
        "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
    parse_jwks(&json!({"keys": [jwk]}).to_string()).unwrap()
}

fn token_with(header: Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    format!("{input}.{}", b64(&sign(input.as_bytes())))
}

fn hs(header: Value, claims: &Value) -> String {
    token_with(header, claims, |m| {
        Hs256.sign(&Hs256Key::new(SECRET), m).as_bytes().to_vec()
    })
}

fn es(header: Value, claims: &Value) -> String {
    token_with(header, claims, |m| {
        Es256.sign(&es_key(), m).as_bytes().to_vec()
    })
}

fn claims() -> Value {
    json!({"iss": "https://idp.example", "aud": "pets", "sub": "con_1", "exp": NOW + 300,
        "iat": NOW - 10, "scope": "pets:read pets:write", "tg_plan": "plan_1", "tg_sub": "sub_1"})
}

fn policy() -> ClaimPolicy<'static> {
    ClaimPolicy {
        issuer: "https://idp.example",
        audience: "pets",
        leeway_secs: 60,
        required_claims: &[],
        consumer_claim: "sub",
    }
}

fn check(token: &str, keys: &Jwks) -> Result<JwtCaller, JwtError> {
    let payload = verify_jws(token, keys)?;
    validate_claims(&payload, &policy(), NOW)
}

#[test]
fn a_good_token_names_its_caller_as_a_key_record() {
    let caller = check(
        &es(
            json!({"alg": "ES256", "kid": "ec", "typ": "at+jwt"}),
            &claims(),
        ),
        &es_jwks(),
    )
    .unwrap();
    assert_eq!(caller.consumer_id, "con_1");
    assert_eq!(caller.scopes, vec!["pets:read", "pets:write"]);
    let record = caller.to_key_record(&crate::ApiId::from("api_1"));
    assert_eq!(record.identity(), "jwt:https://idp.example:con_1");
    assert_eq!(record.plan_id, Some(crate::PlanId::from("plan_1")));
    assert_eq!(record.subscription_id.as_deref(), Some("sub_1"));
    assert_eq!(record.expires_at_ms, Some((NOW + 300) * 1000));
    assert!(
        check(&hs(json!({"alg": "HS256"}), &claims()), &hs_jwks()).is_ok(),
        "no kid: any key for the alg"
    );
}

#[test]
fn alg_none_is_refused_in_any_case() {
    for alg in ["none", "None", "NONE"] {
        let header = b64(json!({"alg": alg, "kid": "hs"}).to_string().as_bytes());
        let body = b64(claims().to_string().as_bytes());
        for token in [format!("{header}.{body}."), format!("{header}.{body}.AAAA")] {
            let err = check(&token, &hs_jwks()).unwrap_err();
            assert!(
                matches!(err, JwtError::AlgNone | JwtError::Malformed),
                "{alg}: {err}"
            );
        }
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_refused() {
    let keys = parse_jwks(RSA_PUBLIC).unwrap();
    let raw: Value = serde_json::from_str(RSA_PUBLIC).unwrap();
    let n = Base64UrlUnpadded::decode_vec(raw["n"].as_str().unwrap()).unwrap();
    let kid = raw["kid"].as_str().unwrap();
    for secret in [n.clone(), RSA_PUBLIC.as_bytes().to_vec()] {
        let token = token_with(json!({"alg": "HS256", "kid": kid}), &claims(), |m| {
            Hs256.sign(&Hs256Key::new(&secret), m).as_bytes().to_vec()
        });
        assert!(matches!(
            check(&token, &keys),
            Err(JwtError::AlgMismatch { .. })
        ));
        let no_kid = token_with(json!({"alg": "HS256"}), &claims(), |m| {
            Hs256.sign(&Hs256Key::new(&secret), m).as_bytes().to_vec()
        });
        assert!(matches!(check(&no_kid, &keys), Err(JwtError::NoKey(_))));
    }
}

#[test]
fn keys_carried_by_the_token_are_refused_unread() {
    for member in ["jwk", "jku", "x5u", "x5c"] {
        let header = json!({"alg": "HS256", "kid": "hs", member: "https://evil.example/keys"});
        let err = check(&hs(header, &claims()), &hs_jwks()).unwrap_err();
        assert_eq!(err, JwtError::KeyInHeader(member));
        assert!(err.to_string().contains(member));
    }
}

#[test]
fn critical_extensions_are_refused() {
    for crit in [json!(["exp"]), json!([]), json!("b64")] {
        let header = json!({"alg": "HS256", "kid": "hs", "crit": crit, "b64": false});
        assert_eq!(
            check(&hs(header, &claims()), &hs_jwks()).unwrap_err(),
            JwtError::UnknownCrit
        );
    }
}

#[test]
fn oversized_and_malformed_tokens_are_refused() {
    let big = hs(
        json!({"alg": "HS256", "kid": "hs", "pad": "x".repeat(MAX_TOKEN_BYTES)}),
        &claims(),
    );
    assert!(matches!(
        check(&big, &hs_jwks()),
        Err(JwtError::TooLarge(_))
    ));
    let good = hs(json!({"alg": "HS256", "kid": "hs"}), &claims());
    for bad in [
        "",
        "a.b",
        "a.b.c.d",
        &format!("{good}="),
        &format!("{good}."),
    ] {
        assert!(check(bad, &hs_jwks()).is_err(), "{bad}");
    }
    let header = b64(b"[1,2]");
    assert_eq!(
        check(&format!("{header}.e30.AAAA"), &hs_jwks()).unwrap_err(),
        JwtError::Header
    );
}

#[test]
fn the_header_alg_must_be_the_keys() {
    // An ES256 key named by kid cannot verify an HS256 token, whatever it is signed with.
    let token = hs(json!({"alg": "HS256", "kid": "ec"}), &claims());
    assert!(matches!(
        check(&token, &es_jwks()),
        Err(JwtError::AlgMismatch { .. })
    ));
    let token = hs(json!({"alg": "HS384", "kid": "hs"}), &claims());
    assert!(matches!(
        check(&token, &hs_jwks()),
        Err(JwtError::AlgMismatch { .. })
    ));
    let token = hs(json!({"alg": "XS256", "kid": "hs"}), &claims());
    assert!(matches!(
        check(&token, &hs_jwks()),
        Err(JwtError::UnsupportedAlg(_))
    ));
}

#[test]
fn an_unknown_kid_asks_for_new_keys() {
    let err = check(
        &es(json!({"alg": "ES256", "kid": "next"}), &claims()),
        &es_jwks(),
    )
    .unwrap_err();
    assert!(err.wants_new_keys(), "{err}");
    assert!(!JwtError::BadSignature.wants_new_keys());
}

#[test]
fn a_tampered_payload_is_refused() {
    let token = es(json!({"alg": "ES256", "kid": "ec"}), &claims());
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut forged = claims();
    forged["sub"] = json!("admin");
    parts[1] = b64(forged.to_string().as_bytes());
    assert_eq!(
        check(&parts.join("."), &es_jwks()).unwrap_err(),
        JwtError::BadSignature
    );
}

#[test]
fn time_claims_honour_the_leeway() {
    let keys = hs_jwks();
    let with = |k: &str, v: Value| {
        let mut c = claims();
        c[k] = v;
        hs(json!({"alg": "HS256"}), &c)
    };
    assert!(
        check(&with("exp", json!(NOW - 59)), &keys).is_ok(),
        "within leeway"
    );
    assert_eq!(
        check(&with("exp", json!(NOW - 60)), &keys).unwrap_err(),
        JwtError::Expired(NOW - 60)
    );
    assert!(check(&with("nbf", json!(NOW + 60)), &keys).is_ok());
    assert_eq!(
        check(&with("nbf", json!(NOW + 61)), &keys).unwrap_err(),
        JwtError::NotYetValid(NOW + 61)
    );
    assert_eq!(
        check(&with("iat", json!(NOW + 61)), &keys).unwrap_err(),
        JwtError::IssuedInFuture(NOW + 61)
    );
    assert_eq!(
        check(&with("exp", Value::Null), &keys).unwrap_err(),
        JwtError::MissingExp
    );
    assert_eq!(
        check(&with("exp", json!("soon")), &keys).unwrap_err(),
        JwtError::BadClaim("exp".into())
    );
    assert_eq!(
        check(&with("exp", json!(-1)), &keys).unwrap_err(),
        JwtError::BadClaim("exp".into())
    );
    assert!(
        check(&with("exp", json!((NOW + 1) as f64 + 0.5)), &keys).is_ok(),
        "fractional dates"
    );
    assert_eq!(JwtError::Expired(1).to_problem().status, 401);
}

#[test]
fn issuer_audience_and_required_claims_are_checked() {
    let keys = hs_jwks();
    let with = |k: &str, v: Value| {
        let mut c = claims();
        c[k] = v;
        hs(json!({"alg": "HS256"}), &c)
    };
    assert!(matches!(
        check(&with("iss", json!("https://evil.example")), &keys),
        Err(JwtError::WrongIssuer(_))
    ));
    assert!(matches!(
        check(&with("iss", Value::Null), &keys),
        Err(JwtError::WrongIssuer(_))
    ));
    assert_eq!(
        check(&with("aud", json!("other")), &keys).unwrap_err(),
        JwtError::WrongAudience
    );
    assert!(check(&with("aud", json!(["other", "pets"])), &keys).is_ok());
    assert_eq!(
        check(&with("aud", json!([1])), &keys).unwrap_err(),
        JwtError::BadClaim("aud".into())
    );
    assert_eq!(
        check(&with("aud", Value::Null), &keys).unwrap_err(),
        JwtError::WrongAudience
    );
    assert_eq!(
        check(&with("sub", json!(5)), &keys).unwrap_err(),
        JwtError::BadClaim("sub".into())
    );
    let required = ["jti".to_owned()];
    let strict = ClaimPolicy {
        required_claims: &required,
        consumer_claim: "client_id",
        ..policy()
    };
    let payload = verify_jws(&hs(json!({"alg": "HS256"}), &claims()), &keys).unwrap();
    assert_eq!(
        validate_claims(&payload, &strict, NOW).unwrap_err(),
        JwtError::MissingClaim("jti".into())
    );
    let mut c = claims();
    c["jti"] = json!("t1");
    c["client_id"] = json!("app_7");
    c["scope"] = Value::Null;
    c["scp"] = json!(["b", "a"]);
    let payload = verify_jws(&hs(json!({"alg": "HS256"}), &c), &keys).unwrap();
    let caller = validate_claims(&payload, &strict, NOW).unwrap();
    assert_eq!(
        (caller.consumer_id.as_str(), caller.subject.as_str()),
        ("app_7", "con_1")
    );
    assert_eq!(caller.scopes, vec!["a", "b"]);
    assert_eq!(
        validate_claims(b"[]", &policy(), NOW).unwrap_err(),
        JwtError::Claims
    );
}

#[test]
fn jwks_refuses_private_mixed_and_weak_keys() {
    let raw: Value = serde_json::from_str(RSA_PUBLIC).unwrap();
    let mut private = raw.clone();
    private["d"] = json!("AQAB");
    assert_eq!(
        parse_jwks(&json!({"keys": [private]}).to_string()).unwrap_err(),
        JwkError::PrivateMaterial("d")
    );
    let oct = json!({"kty": "oct", "k": b64(SECRET)});
    assert_eq!(
        parse_jwks(&json!({"keys": [raw, oct]}).to_string()).unwrap_err(),
        JwkError::MixedSymmetry
    );
    let short = json!({"keys": [{"kty": "oct", "alg": "HS256", "k": b64(b"short")}]});
    assert!(matches!(
        parse_jwks(&short.to_string()).unwrap().skipped[0].1,
        JwkError::ShortSecret { .. }
    ));
    let enc = json!({"keys": [{"kty": "oct", "use": "enc", "k": b64(SECRET)}]});
    assert_eq!(
        parse_jwks(&enc.to_string()).unwrap().skipped[0].1,
        JwkError::NotForSignatures
    );
    let mut rsa_as_es = serde_json::from_str::<Value>(RSA_PUBLIC).unwrap();
    rsa_as_es["alg"] = json!("ES256");
    assert!(matches!(
        parse_jwks(&rsa_as_es.to_string()).unwrap().skipped[0].1,
        JwkError::AlgMismatch { .. }
    ));
    for junk in ["", "[]", "{\"keys\": 5}", "{\"keys\": [1]}", "null"] {
        let set = parse_jwks(junk);
        assert!(set.is_err() || set.unwrap().keys.is_empty(), "{junk}");
    }
    let oct_any = parse_jwks(&json!({"kty": "oct", "k": b64(&[1u8; 48])}).to_string()).unwrap();
    assert_eq!(
        oct_any.keys[0].algs,
        vec![JwsAlg::HS256, JwsAlg::HS384],
        "no alg: what the length allows"
    );
}

#[test]
fn scopes_guard_only_the_operations_they_list() {
    let rules = vec![
        ScopeRule {
            scope: "pets:read".into(),
            operations: vec!["GET /pets/{id}".into()],
        },
        ScopeRule {
            scope: "pets:admin".into(),
            operations: vec!["GET /pets/{id}".into(), "DELETE /pets/{id}".into()],
        },
    ];
    assert!(validate_scope_rules(&rules).is_ok());
    let read = vec!["pets:read".to_owned()];
    assert!(authorize_scopes(&rules, "GET", "/pets/1", &read).is_ok());
    assert!(authorize_scopes(&rules, "HEAD", "/pets/1", &read).is_ok());
    assert!(
        authorize_scopes(&rules, "POST", "/owners", &[]).is_ok(),
        "unlisted: no scope needed"
    );
    let refused = authorize_scopes(&rules, "delete", "/pets/1", &read).unwrap_err();
    assert_eq!(refused.status, 403);
    assert!(
        refused.detail.contains("`pets:admin`"),
        "{}",
        refused.detail
    );
    assert!(authorize_scopes(&rules, "GET", "/pets/1", &[]).is_err());
    let bad = vec![ScopeRule {
        scope: "p".into(),
        operations: vec!["showPet".into()],
    }];
    assert!(validate_scope_rules(&bad).is_err());
}

#[test]
fn jwks_ttl_and_refetch_interval() {
    assert_eq!(ttl_from_cache_control(None), 600);
    assert_eq!(ttl_from_cache_control(Some("public, max-age=3600")), 3600);
    assert_eq!(ttl_from_cache_control(Some("max-age=0")), 60);
    assert_eq!(ttl_from_cache_control(Some("max-age=999999999")), 86_400);
    assert_eq!(ttl_from_cache_control(Some("no-store")), 60);
    assert_eq!(ttl_from_cache_control(Some("max-age=junk")), 600);
    let cached = CachedJwks {
        json: "{}".into(),
        fetched_at_ms: 1_000,
        ttl_secs: 60,
    };
    assert!(cached.is_fresh(60_999) && !cached.is_fresh(61_000));
    assert!(may_refetch(None, 0, REFETCH_INTERVAL_MS));
    assert!(!may_refetch(
        Some(1_000),
        1_000 + REFETCH_INTERVAL_MS - 1,
        REFETCH_INTERVAL_MS
    ));
    assert!(may_refetch(
        Some(1_000),
        1_000 + REFETCH_INTERVAL_MS,
        REFETCH_INTERVAL_MS
    ));
    assert!(
        jwks_cache::kv_key("https://a").starts_with("jwks:")
            && jwks_cache::kv_key("https://a").len() == 69
    );
}

#[test]
fn verified_tokens_expire_and_stay_bounded() {
    let mut cache = VerifiedTokens::default();
    let key = token_key("https://a", "t");
    assert_ne!(key, token_key("https://b", "t"), "per JWKS");
    cache.insert(key.clone(), b"{}".to_vec(), 100, 0);
    assert_eq!(cache.get(&key, 99), Some(&b"{}"[..]));
    assert_eq!(cache.get(&key, 100), None);
    for i in 0..MAX_VERIFIED_TOKENS + 10 {
        cache.insert(format!("{i}"), Vec::new(), 1_000, 500);
    }
    assert!(cache.len() <= MAX_VERIFIED_TOKENS);
}

#[test]
fn the_bearer_token_is_taken_from_authorization_only() {
    assert_eq!(bearer_token(Some("Bearer abc.def.ghi")), Ok("abc.def.ghi"));
    assert_eq!(bearer_token(Some("bearer  abc ")), Ok("abc"));
    for bad in [
        None,
        Some(""),
        Some("Basic abc"),
        Some("Bearer "),
        Some("Bearer"),
    ] {
        let p = bearer_token(bad).unwrap_err();
        assert_eq!(p.status, 401, "{bad:?}");
    }
}

#[test]
fn the_challenge_is_a_safe_quoted_string() {
    let c = invalid_token_challenge("bad \"quote\" \\ and \n newline é");
    assert!(c.starts_with("Bearer error=\"invalid_token\", error_description=\""));
    let inner = &c["Bearer error=\"invalid_token\", error_description=\"".len()..c.len() - 1];
    assert!(
        inner
            .chars()
            .all(|ch| ch.is_ascii_graphic() && ch != '"' && ch != '\\' || ch == ' '),
        "{c}"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = check(&text, &hs_jwks());
        let _ = check(&text, &es_jwks());
        let _ = parse_jwks(&text);
        let _ = validate_claims(&bytes, &policy(), NOW);
    }

    #[test]
    fn arbitrary_three_part_tokens_never_verify(h in "[A-Za-z0-9_-]{0,40}", p in "[A-Za-z0-9_-]{0,40}", s in "[A-Za-z0-9_-]{0,90}") {
        let token = format!("{h}.{p}.{s}");
        prop_assert!(check(&token, &hs_jwks()).is_err());
        prop_assert!(check(&token, &es_jwks()).is_err());
    }

    #[test]
    fn arbitrary_headers_over_a_valid_signature_never_panic(header in proptest::collection::hash_map("[a-z]{1,5}", "[a-zA-Z0-9]{0,8}", 0..5)) {
        let mut h: serde_json::Map<String, Value> = header.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        h.insert("alg".into(), json!("HS256"));
        let _ = check(&hs(Value::Object(h), &claims()), &hs_jwks());
    }
}
