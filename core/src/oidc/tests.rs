use super::*;
use serde_json::json;

const NOW: u64 = 1_800_000_000;

fn claims(over: Value) -> Vec<u8> {
    let mut c = json!({
        "iss": "https://id.example.com", "aud": "tollgate", "sub": "u-1", "iat": NOW - 5,
        "exp": NOW + 300, "nonce": "n-123", "email": "Ada@Example.com", "email_verified": true,
        "name": "Ada"
    });
    for (k, v) in over.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    serde_json::to_vec(&c).unwrap()
}

fn check(over: Value) -> Result<OidcIdentity, OidcError> {
    check_id_token(
        &claims(over),
        "https://id.example.com",
        "tollgate",
        "n-123",
        NOW,
    )
}

#[test]
fn a_good_id_token_names_the_user_with_a_lower_cased_email() {
    let who = check(json!({})).unwrap();
    assert_eq!(who.subject, "u-1");
    assert_eq!(who.email, "ada@example.com");
    assert!(who.email_verified);
    assert_eq!(who.name.as_deref(), Some("Ada"));
    let who =
        check(json!({"email_verified": null, "aud": ["other", "tollgate"], "azp": "tollgate"}))
            .unwrap();
    assert!(!who.email_verified);
}

#[test]
fn wrong_nonce_audience_issuer_party_or_expiry_is_refused() {
    assert_eq!(check(json!({"nonce": "n-999"})), Err(OidcError::Nonce));
    assert_eq!(check(json!({"nonce": null})), Err(OidcError::Nonce));
    assert_eq!(
        check(json!({"aud": "someone-else"})),
        Err(OidcError::Token(JwtError::WrongAudience))
    );
    assert!(matches!(
        check(json!({"iss": "https://evil.example"})),
        Err(OidcError::Token(JwtError::WrongIssuer(_)))
    ));
    assert_eq!(
        check(json!({"aud": ["tollgate", "x"], "azp": "x"})),
        Err(OidcError::AuthorizedParty)
    );
    assert!(matches!(
        check(json!({"exp": NOW - 3600})),
        Err(OidcError::Token(JwtError::Expired(_)))
    ));
    assert_eq!(check(json!({"email": null})), Err(OidcError::NoEmail));
    assert!(matches!(
        check(json!({"iat": null})),
        Err(OidcError::Token(JwtError::MissingClaim(_)))
    ));
    // An empty expected nonce never matches (a sign-in we did not start).
    let c = claims(json!({"nonce": ""}));
    assert_eq!(
        check_id_token(&c, "https://id.example.com", "tollgate", "", NOW),
        Err(OidcError::Nonce)
    );
}

#[test]
fn pkce_matches_rfc_7636_appendix_b() {
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn discovery_must_name_the_issuer_and_offer_code_with_s256() {
    let doc = json!({
        "issuer": "https://id.example.com",
        "authorization_endpoint": "https://id.example.com/auth",
        "token_endpoint": "https://id.example.com/token",
        "jwks_uri": "https://id.example.com/jwks",
        "response_types_supported": ["code", "id_token"],
        "code_challenge_methods_supported": ["S256"]
    });
    let ok = check_discovery(doc.to_string().as_bytes(), "https://id.example.com").unwrap();
    assert_eq!(ok.token_endpoint, "https://id.example.com/token");
    assert!(check_discovery(doc.to_string().as_bytes(), "https://id.example.com/").is_err());
    let mut plain = doc.clone();
    plain["code_challenge_methods_supported"] = json!(["plain"]);
    assert!(check_discovery(plain.to_string().as_bytes(), "https://id.example.com").is_err());
    let mut js = doc.clone();
    js["jwks_uri"] = json!("javascript:alert(1)");
    assert!(check_discovery(js.to_string().as_bytes(), "https://id.example.com").is_err());
    assert!(check_discovery(b"[]", "https://id.example.com").is_err());
}
