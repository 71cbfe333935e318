//! Finding the API key in a request: `Authorization: Bearer <key>` or `X-API-Key: <key>`.

use crate::{ApiKey, Problem, ProblemKind};

/// The header a credential arrived in, so the edge strips exactly that one before forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    Authorization,
    XApiKey,
}

/// The raw header values relevant to authentication.
#[derive(Debug, Default, Clone, Copy)]
pub struct CredentialHeaders<'a> {
    pub authorization: Option<&'a str>,
    pub x_api_key: Option<&'a str>,
}

/// Extracts and format-checks a key; errors are ready-to-send 401 problems.
pub fn extract_api_key(h: CredentialHeaders<'_>) -> Result<(ApiKey, CredentialSource), Problem> {
    let bearer = h.authorization.and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let (presented, source) = match (bearer, h.x_api_key.map(str::trim)) {
        (Some(b), Some(x)) if b != x => {
            return Err(Problem::new(
                ProblemKind::InvalidCredential,
                "the request carries two different keys (Authorization and X-API-Key); send one",
            ))
        }
        (Some(b), _) => (b, CredentialSource::Authorization),
        (None, Some(x)) => (x, CredentialSource::XApiKey),
        (None, None) => {
            let detail = if h.authorization.is_some() {
                "the Authorization header is not `Bearer <key>`; send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
            } else {
                "this API needs a key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
            };
            return Err(Problem::new(ProblemKind::MissingCredential, detail));
        }
    };
    if presented.is_empty() {
        return Err(Problem::new(
            ProblemKind::MissingCredential,
            "the credential header is empty; send `Authorization: Bearer <key>`",
        ));
    }
    ApiKey::parse(presented)
        .map(|key| (key, source))
        .map_err(|e| {
            Problem::new(
                ProblemKind::InvalidCredential,
                format!("{e}; check the key you were issued"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ApiKey {
        let mut n = 0u8;
        ApiKey::generate(|| {
            n = n.wrapping_add(37);
            n
        })
    }

    #[test]
    fn bearer_and_x_api_key_are_both_accepted() {
        let k = key();
        let auth = format!("Bearer {}", k.expose());
        let got = extract_api_key(CredentialHeaders {
            authorization: Some(&auth),
            x_api_key: None,
        })
        .unwrap();
        assert_eq!(got, (k.clone(), CredentialSource::Authorization));
        let auth = format!("bearer   {} ", k.expose());
        assert!(extract_api_key(CredentialHeaders {
            authorization: Some(&auth),
            x_api_key: None
        })
        .is_ok());
        let got = extract_api_key(CredentialHeaders {
            authorization: None,
            x_api_key: Some(k.expose()),
        })
        .unwrap();
        assert_eq!(got.1, CredentialSource::XApiKey);
    }

    #[test]
    fn missing_malformed_and_conflicting_credentials_are_401() {
        let k = key();
        let cases: Vec<(Option<&str>, Option<&str>, &str)> = vec![
            (None, None, "missing-credential"),
            (Some("Basic dXNlcjpwYXNz"), None, "missing-credential"),
            (Some("Bearer "), None, "missing-credential"),
            (Some("Bearer tg_nope"), None, "invalid-credential"),
            (None, Some(""), "missing-credential"),
            (
                Some("Bearer tg_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                Some(k.expose()),
                "invalid-credential",
            ),
        ];
        for (a, x, slug) in cases {
            let p = extract_api_key(CredentialHeaders {
                authorization: a,
                x_api_key: x,
            })
            .unwrap_err();
            assert_eq!(p.status, 401);
            assert!(p.type_uri.ends_with(slug), "{a:?} {x:?} → {}", p.type_uri);
        }
    }
}
