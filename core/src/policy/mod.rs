//! Per-API transforms and protections: header, path and query edits, identity towards the
//! upstream, CORS, size limits, method and IP allow-lists, WebSocket pass-through.
//!
//! One serde type, [`ApiPolicies`], every member optional. The origin calls
//! [`ApiPolicies::validate`] before storing it (errors carry a JSON pointer such as
//! `/cors/allowed_origins/0`); the edge receives it in the snapshot and calls the pure
//! `apply`/`check` functions of the submodules at the right phase.

pub mod access;
pub mod cors;
pub mod headers;
pub mod identity;
pub mod query;
pub mod rewrite;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use access::{IpRules, SizeLimits};
pub use cors::CorsPolicy;
pub use headers::HeaderEdits;
pub use identity::IdentityPolicy;
pub use query::QueryEdits;
pub use rewrite::PathRewrite;

/// Everything an operator may configure on one API's traffic (all optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiPolicies {
    /// Edits to the request on its way to the upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<HeaderEdits>,
    /// Edits to the upstream's answer on its way to the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<HeaderEdits>,
    /// Rewrites the path after the base path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_rewrite: Option<PathRewrite>,
    /// Edits to the query string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<QueryEdits>,
    /// What the upstream learns about the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityPolicy>,
    /// Cross-origin browser access, preflights answered at the edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsPolicy>,
    /// Per-API request size limits (431/413).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<SizeLimits>,
    /// Methods the API accepts (405 with `Allow` otherwise); `GET` implies `HEAD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// Client IP allow/deny lists by CIDR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpRules>,
    /// Whether `Upgrade: websocket` requests pass through to the upstream.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub websocket: bool,
}

/// A refused policy: where (a JSON pointer into the document) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{pointer}`: {message}")]
pub struct PolicyError {
    /// JSON pointer of the offending member, e.g. `/cors/allowed_origins/0`.
    pub pointer: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl PolicyError {
    /// An error at `pointer`.
    pub fn at(pointer: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Escapes a map key for use inside a JSON pointer (RFC 6901).
pub(crate) fn pointer_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Most methods in an allow-list.
pub const MAX_METHODS: usize = 16;

/// Whether `s` is an HTTP token (RFC 9110 §5.6.2) of 1–64 characters.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks a method allow-list and returns it normalised (upper case, sorted, unique).
pub fn parse_methods(methods: &[String], at: &str) -> Result<Vec<String>, PolicyError> {
    if methods.is_empty() || methods.len() > MAX_METHODS {
        return Err(PolicyError::at(
            at,
            format!("list 1–{MAX_METHODS} methods, e.g. [\"GET\", \"POST\"]"),
        ));
    }
    let mut out = Vec::with_capacity(methods.len());
    for (i, m) in methods.iter().enumerate() {
        if !is_token(m) || !m.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(PolicyError::at(
                format!("{at}/{i}"),
                "a method is 1–64 letters, e.g. `GET`",
            ));
        }
        out.push(m.to_ascii_uppercase());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl ApiPolicies {
    /// Checks every member; the first problem found is returned with its pointer.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if let Some(h) = &self.request_headers {
            h.validate("/request_headers")?;
        }
        if let Some(h) = &self.response_headers {
            h.validate("/response_headers")?;
        }
        if let Some(r) = &self.path_rewrite {
            r.validate("/path_rewrite")?;
        }
        if let Some(q) = &self.query {
            q.validate("/query")?;
        }
        if let Some(c) = &self.cors {
            c.validate("/cors")?;
        }
        if let Some(l) = &self.limits {
            l.validate("/limits")?;
        }
        if let Some(m) = &self.methods {
            parse_methods(m, "/methods")?;
        }
        if let Some(ip) = &self.ip {
            ip.validate("/ip")?;
        }
        Ok(())
    }

    /// The policy with lists normalised (methods upper case): what the origin stores.
    pub fn normalized(mut self) -> Result<ApiPolicies, PolicyError> {
        self.validate()?;
        if let Some(m) = &self.methods {
            self.methods = Some(parse_methods(m, "/methods")?);
        }
        if let Some(c) = self.cors.take() {
            self.cors = Some(c.normalized());
        }
        Ok(self)
    }
}
