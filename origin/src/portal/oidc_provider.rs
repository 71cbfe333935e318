//! Talking to the OpenID provider over HTTP: its discovery document, the token endpoint
//! (authorization code + PKCE verifier, client_secret_basic) and its JWKS. Answers are
//! size-capped and every failure becomes a sentence for the sign-in error page.

use super::oidc::OidcSettings;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use tollgate_core::jwt::{parse_jwks, verify_jws};
use tollgate_core::oidc::{check_discovery, check_id_token, Discovery, OidcIdentity};

/// Largest answer read from the provider.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

async fn body(
    response: reqwest::Response,
    what: &str,
) -> Result<(reqwest::StatusCode, Vec<u8>), String> {
    let status = response.status();
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(format!(
            "the provider's {what} is larger than {MAX_ANSWER_BYTES} bytes"
        ));
    }
    let mut response = response;
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading the provider's {what}: {e}"))?
    {
        out.extend_from_slice(&chunk);
        if out.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "the provider's {what} is larger than {MAX_ANSWER_BYTES} bytes"
            ));
        }
    }
    Ok((status, out))
}

async fn get(client: &reqwest::Client, url: &str, what: &str) -> Result<Vec<u8>, String> {
    let response = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("the provider's {what} at {url} did not answer: {e}"))?;
    let (status, bytes) = body(response, what).await?;
    if !status.is_success() {
        return Err(format!("the provider's {what} at {url} answered {status}"));
    }
    Ok(bytes)
}

/// Fetches and checks the issuer's discovery document.
pub async fn discover(client: &reqwest::Client, oidc: &OidcSettings) -> Result<Discovery, String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        oidc.issuer.trim_end_matches('/')
    );
    let doc = get(client, &url, "discovery document").await?;
    check_discovery(&doc, &oidc.issuer).map_err(|e| e.to_string())
}

/// What the callback brought and the sign-in kept: redeemed together at the token endpoint.
pub struct Grant<'a> {
    pub code: &'a str,
    /// The PKCE code verifier.
    pub verifier: &'a str,
    /// The nonce the ID token must carry.
    pub nonce: &'a str,
    pub redirect_uri: &'a str,
}

/// Exchanges the code for tokens and returns the verified identity in the ID token.
pub async fn redeem_code(
    client: &reqwest::Client,
    oidc: &OidcSettings,
    discovery: &Discovery,
    grant: &Grant<'_>,
    now_secs: u64,
) -> Result<OidcIdentity, String> {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let basic = STANDARD.encode(format!(
        "{}:{}",
        enc(&oidc.client_id),
        enc(oidc.client_secret.expose())
    ));
    let response = client
        .post(&discovery.token_endpoint)
        .header("authorization", format!("Basic {basic}"))
        .header("accept", "application/json")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", grant.code),
            ("redirect_uri", grant.redirect_uri),
            ("code_verifier", grant.verifier),
        ])
        .send()
        .await
        .map_err(|e| format!("the provider's token endpoint did not answer: {e}"))?;
    let (status, bytes) = body(response, "token answer").await?;
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !status.is_success() {
        let error = answer
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no error code");
        let detail = answer
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or("");
        return Err(format!(
            "the provider did not accept the sign-in code ({status}, {error}: {detail}); a code works once — start again"
        ));
    }
    let id_token = answer
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or("the provider's token answer has no id_token")?;
    let jwks = get(client, &discovery.jwks_uri, "JWKS").await?;
    let jwks =
        String::from_utf8(jwks).map_err(|_| "the provider's JWKS is not UTF-8".to_owned())?;
    let keys = parse_jwks(&jwks).map_err(|e| format!("the provider's JWKS is unusable: {e}"))?;
    let payload = verify_jws(id_token, &keys)
        .map_err(|e| format!("the provider's ID token was refused: {e}"))?;
    check_id_token(
        &payload,
        &oidc.issuer,
        &oidc.client_id,
        grant.nonce,
        now_secs,
    )
    .map_err(|e| e.to_string())
}
