//! Reading a token request (RFC 6749 §4.4.2): form parameters, each at most once, and
//! exactly one client authentication — HTTP Basic (`client_secret_basic`, §2.3.1, with
//! form-urlencoded id and secret inside) or `client_id` + `client_secret` form fields
//! (`client_secret_post`). Everything here is shape; whether the secret is right is the
//! origin's look-up.

use super::error::{OAuthError, OAuthErrorCode};
use super::CLIENT_SECRET_PREFIX;
use crate::scope::is_scope;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Largest form body read, in bytes.
pub const MAX_FORM_BYTES: usize = 8 * 1024;
/// Longest `Authorization` header value considered.
pub const MAX_BASIC_CHARS: usize = 1024;
const MAX_ID_CHARS: usize = 128;
const MAX_SECRET_CHARS: usize = 256;
const MAX_AUDIENCE_CHARS: usize = 512;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Standard base64 that accepts padded and unpadded input (clients differ).
const BASIC_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How the client authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `Authorization: Basic` (client_secret_basic).
    Basic,
    /// Form fields (client_secret_post).
    Post,
}

/// A client secret as presented or minted. Deliberately not `Debug` in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(…)")
    }
}

impl ClientSecret {
    /// Wraps presented text.
    pub fn new(text: impl Into<String>) -> ClientSecret {
        ClientSecret(text.into())
    }

    /// A fresh secret: the prefix + 32 base62 characters (~190 bits) from `next_byte`.
    pub fn generate(next_byte: impl FnMut() -> u8) -> ClientSecret {
        ClientSecret(format!("{CLIENT_SECRET_PREFIX}{}", base62(32, next_byte)))
    }

    /// The secret text; only for showing once to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the secret, lower-case hex: the only form stored. A plain hash is
    /// enough because minted secrets carry ~190 bits of entropy.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// Whether this secret hashes to `stored` (constant time in the hash).
    pub fn matches(&self, stored: &str) -> bool {
        self.hash().as_bytes().ct_eq(stored.as_bytes()).into()
    }
}

/// `n` uniformly random base62 characters (rejection sampling: no bias).
pub fn base62(n: usize, mut next_byte: impl FnMut() -> u8) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let b = next_byte();
        if b < 248 {
            out.push(BASE62[usize::from(b % 62)] as char);
        }
    }
    out
}

/// A well-formed client credentials token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub client_id: String,
    pub secret: ClientSecret,
    pub method: ClientAuthMethod,
    /// The scopes asked for (sorted, unique); `None` when `scope` was absent.
    pub scope: Option<Vec<String>>,
    pub audience: Option<String>,
}

/// Reads a token request from its `Content-Type`, `Authorization` and body.
pub fn parse_token_request(
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<TokenRequest, OAuthError> {
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    if media.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "send the parameters as `application/x-www-form-urlencoded` (RFC 6749 §4.4.2), not JSON or anything else",
        ));
    }
    if body.len() > MAX_FORM_BYTES {
        return Err(OAuthError::invalid_request(format!(
            "the form is larger than {MAX_FORM_BYTES} bytes"
        )));
    }
    let form = read_form(body)?;
    let grant_type = form.get("grant_type").ok_or_else(|| {
        OAuthError::invalid_request("`grant_type` is required; use `client_credentials`")
    })?;
    if grant_type != super::CLIENT_CREDENTIALS {
        return Err(OAuthError::new(
            OAuthErrorCode::UnsupportedGrantType,
            format!(
                "only `client_credentials` is supported, not `{}`",
                clip(grant_type)
            ),
        ));
    }
    let (client_id, secret, method) = client_credentials(authorization, &form)?;
    let scope = form.get("scope").map(parse_scope).transpose()?;
    let audience = form.get("audience").map(str::to_owned);
    if audience
        .as_ref()
        .is_some_and(|a| a.chars().count() > MAX_AUDIENCE_CHARS)
    {
        return Err(OAuthError::invalid_request(format!(
            "`audience` is longer than {MAX_AUDIENCE_CHARS} characters"
        )));
    }
    Ok(TokenRequest {
        client_id,
        secret,
        method,
        scope,
        audience,
    })
}

/// Form parameters, refusing repeats (RFC 6749 §3.2); empty values count as absent.
struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn read_form(body: &[u8]) -> Result<Form, OAuthError> {
    let mut params: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(body) {
        if params.iter().any(|(n, _)| *n == name) {
            return Err(OAuthError::invalid_request(format!(
                "parameter `{}` is given more than once",
                clip(&name)
            )));
        }
        if params.len() >= 32 {
            return Err(OAuthError::invalid_request("too many parameters"));
        }
        params.push((name.into_owned(), value.into_owned()));
    }
    params.retain(|(_, v)| !v.is_empty());
    Ok(Form(params))
}

fn parse_scope(raw: &str) -> Result<Vec<String>, OAuthError> {
    let mut scopes: Vec<String> = raw
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = scopes.iter().find(|s| !is_scope(s)) {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            format!(
                "`{}` is not a scope (1–64 of a-z, 0-9, `:`, `.`, `_`, `-`)",
                clip(bad)
            ),
        ));
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

fn client_credentials(
    authorization: Option<&str>,
    form: &Form,
) -> Result<(String, ClientSecret, ClientAuthMethod), OAuthError> {
    let form_id = form.get("client_id");
    let form_secret = form.get("client_secret");
    let (id, secret, method) = match authorization {
        Some(header) => {
            if form_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication: HTTP Basic or `client_secret` in the form, not both",
                ));
            }
            let (id, secret) = decode_basic(header)?;
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_request(
                    "`client_id` in the form differs from the one in HTTP Basic",
                ));
            }
            (id, secret, ClientAuthMethod::Basic)
        }
        None => match (form_id, form_secret) {
            (Some(id), Some(secret)) => (id.to_owned(), secret.to_owned(), ClientAuthMethod::Post),
            _ => {
                return Err(OAuthError::invalid_client(
                    "authenticate the client with HTTP Basic (client_secret_basic) or `client_id` and `client_secret` form fields",
                    true,
                ))
            }
        },
    };
    let basic = method == ClientAuthMethod::Basic;
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS {
        return Err(OAuthError::invalid_client(
            "the client id is empty or too long",
            basic,
        ));
    }
    if secret.is_empty() || secret.chars().count() > MAX_SECRET_CHARS {
        return Err(OAuthError::invalid_client(
            "the client secret is empty or too long",
            basic,
        ));
    }
    Ok((id, ClientSecret(secret), method))
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, RFC 7617).
fn decode_basic(header: &str) -> Result<(String, String), OAuthError> {
    let refuse =
        |why: &str| OAuthError::invalid_client(format!("the Authorization header {why}"), true);
    if header.len() > MAX_BASIC_CHARS {
        return Err(refuse(&format!(
            "is longer than {MAX_BASIC_CHARS} characters"
        )));
    }
    let (scheme, token) = header
        .trim()
        .split_once(' ')
        .ok_or_else(|| refuse("is not `Basic <base64>`"))?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(refuse("must use the Basic scheme (client_secret_basic)"));
    }
    let raw = BASIC_B64
        .decode(token.trim())
        .map_err(|_| refuse("does not carry valid base64"))?;
    let text = String::from_utf8(raw).map_err(|_| refuse("does not decode to UTF-8 text"))?;
    let (id, secret) = text
        .split_once(':')
        .ok_or_else(|| refuse("must encode `client_id:client_secret` (no colon found)"))?;
    Ok((form_decode(id), form_decode(secret)))
}

fn form_decode(part: &str) -> String {
    let spaced = part.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// At most 64 characters of client-supplied text, for error descriptions.
fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
