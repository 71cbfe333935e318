//! The origin's OAuth2 authorization server for the client credentials grant: clients of
//! consumers (admin API), ES256 signing keys with overlapping rotation, the token
//! endpoint and the public discovery documents. Edges verify the tokens against the JWKS
//! with no call to the origin per request.

pub mod client_revocation;
pub mod clients;
pub mod discovery;
pub mod issuer;
pub mod key_admin;
pub mod signing;
pub mod token;
