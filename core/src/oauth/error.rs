//! The error answers of the token endpoint (RFC 6749 §5.2): a code, a description for the
//! developer, the HTTP status, and whether to challenge for HTTP Basic.

use serde::Serialize;

/// The `error` codes RFC 6749 §5.2 defines for the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
}

/// A refused token request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {description}")]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    /// The client authenticated (or tried to) with HTTP Basic: a 401 then carries
    /// `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    pub basic_challenge: bool,
}

impl OAuthError {
    /// An error with this code and description.
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
            basic_challenge: false,
        }
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(OAuthErrorCode::InvalidRequest, description)
    }

    /// `invalid_client`, challenging for Basic when the client used it.
    pub fn invalid_client(description: impl Into<String>, basic: bool) -> OAuthError {
        OAuthError {
            basic_challenge: basic,
            ..OAuthError::new(OAuthErrorCode::InvalidClient, description)
        }
    }

    /// The HTTP status: 401 for a failed client authentication, else 400.
    pub fn status(&self) -> u16 {
        match self.code {
            OAuthErrorCode::InvalidClient => 401,
            _ => 400,
        }
    }

    /// The JSON body `{"error", "error_description"}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code, "error_description": self.description })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_render_as_rfc_6749_names_with_their_status() {
        let e = OAuthError::invalid_client("wrong secret", true);
        assert_eq!(e.status(), 401);
        assert!(e.basic_challenge);
        assert_eq!(e.body()["error"], "invalid_client");
        let e = OAuthError::new(OAuthErrorCode::UnsupportedGrantType, "x");
        assert_eq!(e.status(), 400);
        assert_eq!(e.body()["error"], "unsupported_grant_type");
        assert_eq!(e.body()["error_description"], "x");
    }
}
