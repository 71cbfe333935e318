use super::*;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn code(result: Result<TokenRequest, OAuthError>) -> (OAuthErrorCode, u16, bool) {
    let e = result.unwrap_err();
    (e.code, e.status(), e.basic_challenge)
}

#[test]
fn basic_and_post_authentication_both_work() {
    let auth = basic("tgc_abc", "tgcs_s%3Acret");
    let got = parse_token_request(
        FORM,
        Some(&auth),
        b"grant_type=client_credentials&scope=b:read%20a:write",
    )
    .unwrap();
    assert_eq!(got.client_id, "tgc_abc");
    assert_eq!(
        got.secret.expose(),
        "tgcs_s:cret",
        "the secret is form-decoded"
    );
    assert_eq!(got.method, ClientAuthMethod::Basic);
    assert_eq!(got.scope, Some(vec!["a:write".into(), "b:read".into()]));
    let got = parse_token_request(
        Some("application/x-www-form-urlencoded; charset=UTF-8"),
        None,
        b"grant_type=client_credentials&client_id=tgc_x&client_secret=s&audience=https%3A%2F%2Fapi",
    )
    .unwrap();
    assert_eq!(
        (got.client_id.as_str(), got.method),
        ("tgc_x", ClientAuthMethod::Post)
    );
    assert_eq!(got.audience.as_deref(), Some("https://api"));
    assert_eq!(got.scope, None);
}

#[test]
fn request_shape_errors_are_invalid_request() {
    let auth = basic("a", "b");
    let cases: [(Option<&str>, &[u8]); 5] = [
        (
            Some("application/json"),
            b"{\"grant_type\":\"client_credentials\"}",
        ),
        (None, b"grant_type=client_credentials"),
        (FORM, b"scope=x"),
        (
            FORM,
            b"grant_type=client_credentials&grant_type=client_credentials",
        ),
        (FORM, b"grant_type=client_credentials&scope=a&scope=b"),
    ];
    for (ct, body) in cases {
        let (c, status, _) = code(parse_token_request(ct, Some(&auth), body));
        assert_eq!(
            (c, status),
            (OAuthErrorCode::InvalidRequest, 400),
            "{ct:?} {body:?}"
        );
    }
    // Basic and client_secret at once: two methods.
    let both = parse_token_request(
        FORM,
        Some(&auth),
        b"grant_type=client_credentials&client_secret=b",
    );
    assert_eq!(code(both).0, OAuthErrorCode::InvalidRequest);
    let big = vec![b'a'; MAX_FORM_BYTES + 1];
    assert_eq!(
        code(parse_token_request(FORM, None, &big)).0,
        OAuthErrorCode::InvalidRequest
    );
}

#[test]
fn other_grants_are_unsupported_and_bad_scopes_invalid() {
    let auth = basic("a", "b");
    let r = parse_token_request(FORM, Some(&auth), b"grant_type=password&username=u");
    assert_eq!(code(r).0, OAuthErrorCode::UnsupportedGrantType);
    let r = parse_token_request(
        FORM,
        Some(&auth),
        b"grant_type=client_credentials&scope=UPPER",
    );
    assert_eq!(code(r).0, OAuthErrorCode::InvalidScope);
}

#[test]
fn bad_basic_headers_are_invalid_client_with_a_challenge() {
    let huge = format!("Basic {}", "A".repeat(MAX_BASIC_CHARS));
    let no_colon = format!("Basic {}", STANDARD.encode("justanid"));
    for header in [
        "Basic !!!not-base64",
        no_colon.as_str(),
        huge.as_str(),
        "Bearer abc",
        "Basic",
        "Basic ",
    ] {
        let r = parse_token_request(FORM, Some(header), b"grant_type=client_credentials");
        assert_eq!(
            code(r),
            (OAuthErrorCode::InvalidClient, 401, true),
            "{header}"
        );
    }
    let r = parse_token_request(FORM, None, b"grant_type=client_credentials&client_id=a");
    assert_eq!(code(r), (OAuthErrorCode::InvalidClient, 401, true));
    let r = parse_token_request(
        FORM,
        Some(&basic("", "s")),
        b"grant_type=client_credentials",
    );
    assert_eq!(code(r).0, OAuthErrorCode::InvalidClient);
}

#[test]
fn secrets_hash_match_and_never_print() {
    let mut n = 0u8;
    let secret = ClientSecret::generate(|| {
        n = n.wrapping_add(37);
        n
    });
    assert!(secret.expose().starts_with("tgcs_") && secret.expose().len() == 5 + 32);
    assert!(secret.matches(&secret.hash()));
    assert!(!ClientSecret::new("other").matches(&secret.hash()));
    assert_eq!(format!("{secret:?}"), "ClientSecret(…)");
}

proptest! {
    #[test]
    fn any_input_is_an_answer_never_a_panic(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        header in proptest::option::of(".{0,80}"),
    ) {
        let _ = parse_token_request(FORM, header.as_deref(), &body);
    }

    #[test]
    fn basic_credentials_round_trip(id in "[A-Za-z0-9_]{1,40}", secret in "[ -~]{1,60}") {
        let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let got = parse_token_request(FORM, Some(&basic(&id, &encoded)), b"grant_type=client_credentials").unwrap();
        prop_assert_eq!(got.client_id, id);
        prop_assert_eq!(got.secret.expose(), secret.as_str());
    }
}
