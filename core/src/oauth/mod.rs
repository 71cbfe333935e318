//! OAuth2 client credentials (RFC 6749 §4.4) as pure decisions: reading a token request
//! and its client authentication, choosing what to grant (scopes, audience, lifetime),
//! which signing keys are active or still published during a rotation, and when failed
//! client authentications throttle a client id. The origin does the I/O and signing.

pub mod error;
pub mod grant;
pub mod request;
pub mod signing_keys;
pub mod throttle;

pub use error::{OAuthError, OAuthErrorCode};
pub use grant::{grant, AccessClaims, Grant, GrantInput};
pub use request::{parse_token_request, ClientAuthMethod, ClientSecret, TokenRequest};
pub use signing_keys::{KeyStatus as SigningKeyStatus, SigningKeyTimes, ROTATION_OVERLAP_SECS};
pub use throttle::{AuthThrottle, MAX_FAILURES_PER_WINDOW};

/// The only grant type this server issues tokens for.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";
/// Default access token lifetime, seconds.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 600;
/// Longest access token lifetime, seconds (also bounds the key rotation overlap).
pub const MAX_TOKEN_TTL_SECS: u64 = 3600;
/// Shortest configurable access token lifetime, seconds.
pub const MIN_TOKEN_TTL_SECS: u64 = 60;
/// Every OAuth client id starts with this.
pub const CLIENT_ID_PREFIX: &str = "tgc_";
/// Every OAuth client secret starts with this (recognisable to secret scanners).
pub const CLIENT_SECRET_PREFIX: &str = "tgcs_";
