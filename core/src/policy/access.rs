//! The early protections, decided before authentication: client IP allow/deny lists by
//! CIDR (IPv4 and IPv6), the method allow-list (405 with `Allow`), per-API size limits
//! (431/413), and client header values that cannot be forwarded (400).
//!
//! IP rules: a `deny` match refuses; otherwise a non-empty `allow` must match. The client
//! IP is the one Cloudflare observed (`cf-connecting-ip`); when rules exist and it is
//! missing or unreadable the request is refused (fail closed).

use super::headers::MAX_EDITS;
use super::PolicyError;
use crate::{Problem, ProblemKind};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Largest per-API header limit (the gateway-wide one is 32 KiB anyway).
pub const MAX_HEADER_LIMIT: u64 = 64 * 1024;
/// Largest per-API body limit.
pub const MAX_BODY_LIMIT: u64 = 100 * 1024 * 1024;

/// Per-API request size limits; either may be left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeLimits {
    /// Most bytes of request headers (names + values + 4 per line): 431 above it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_header_bytes: Option<u64>,
    /// Most bytes of request body: 413 above it, declared or streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<u64>,
}

/// Client IP rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpRules {
    /// When non-empty, only these networks may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// These networks may never call (checked first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

/// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128).
pub fn parse_network(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

impl SizeLimits {
    /// Checks the bounds; errors point below `at`.
    pub fn validate(&self, at: &str) -> Result<(), PolicyError> {
        if self
            .max_header_bytes
            .is_some_and(|b| !(256..=MAX_HEADER_LIMIT).contains(&b))
        {
            return Err(PolicyError::at(
                format!("{at}/max_header_bytes"),
                format!("between 256 and {MAX_HEADER_LIMIT}"),
            ));
        }
        if self.max_body_bytes.is_some_and(|b| b > MAX_BODY_LIMIT) {
            return Err(PolicyError::at(
                format!("{at}/max_body_bytes"),
                format!("between 0 and {MAX_BODY_LIMIT}"),
            ));
        }
        Ok(())
    }

    /// Refuses headers totalling more than the limit.
    pub fn check_headers(&self, header_bytes: u64) -> Result<(), Problem> {
        match self.max_header_bytes {
            Some(max) if header_bytes > max => Err(Problem::new(
                ProblemKind::HeadersTooLarge,
                format!(
                    "request headers total {header_bytes} bytes; this API accepts at most {max}"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Refuses a body of `len` bytes (declared or counted so far) above the limit.
    pub fn check_body(&self, len: u64) -> Result<(), Problem> {
        match self.max_body_bytes {
            Some(max) if len > max => Err(Problem::new(
                ProblemKind::PayloadTooLarge,
                format!("the request body is larger than this API's limit of {max} bytes"),
            )),
            _ => Ok(()),
        }
    }
}

impl IpRules {
    /// Checks every network; errors point at the entry.
    pub fn validate(&self, at: &str) -> Result<(), PolicyError> {
        for (member, list) in [("allow", &self.allow), ("deny", &self.deny)] {
            if list.len() > MAX_EDITS * 4 {
                return Err(PolicyError::at(
                    format!("{at}/{member}"),
                    format!("at most {} networks", MAX_EDITS * 4),
                ));
            }
            if let Some(i) = list.iter().position(|n| parse_network(n).is_none()) {
                return Err(PolicyError::at(
                    format!("{at}/{member}/{i}"),
                    "a network is an IPv4 or IPv6 address or CIDR, e.g. `203.0.113.0/24` or `2001:db8::/32`",
                ));
            }
        }
        Ok(())
    }

    /// Admits or refuses the client at `ip` (`cf-connecting-ip`).
    pub fn check(&self, ip: Option<&str>) -> Result<(), Problem> {
        if self.allow.is_empty() && self.deny.is_empty() {
            return Ok(());
        }
        let Some(addr) = ip.and_then(|s| s.trim().parse::<IpAddr>().ok()) else {
            return Err(Problem::new(
                ProblemKind::Forbidden,
                "this API admits listed networks only and the client address is unknown",
            ));
        };
        let within = |list: &[String]| {
            list.iter()
                .filter_map(|n| parse_network(n))
                .any(|n| n.contains(&addr))
        };
        if within(&self.deny) {
            return Err(Problem::new(
                ProblemKind::Forbidden,
                format!("calls from {addr} are not allowed on this API"),
            ));
        }
        if !self.allow.is_empty() && !within(&self.allow) {
            return Err(Problem::new(
                ProblemKind::Forbidden,
                format!("this API admits listed networks only; {addr} is not one of them"),
            ));
        }
        Ok(())
    }
}

/// A method outside the allow-list: what the `Allow` header lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodRefused {
    /// Value of the `Allow` header.
    pub allow: String,
}

impl MethodRefused {
    /// The 405 problem for `method` (its `field` is `method`).
    pub fn problem(&self, method: &str) -> Problem {
        Problem::new(
            ProblemKind::MethodNotAllowed,
            format!(
                "this API accepts {}; `{method}` is not one of them",
                self.allow
            ),
        )
        .with_field("method")
    }
}

/// Refuses a method outside `allowed` (upper case; `GET` implies `HEAD`).
pub fn check_method(allowed: &[String], method: &str) -> Result<(), MethodRefused> {
    let ok = allowed.iter().any(|m| {
        m.eq_ignore_ascii_case(method) || (m == "GET" && method.eq_ignore_ascii_case("HEAD"))
    });
    if ok {
        return Ok(());
    }
    let mut allow: Vec<&str> = allowed.iter().map(String::as_str).collect();
    if allow.contains(&"GET") && !allow.contains(&"HEAD") {
        allow.push("HEAD");
    }
    Err(MethodRefused {
        allow: allow.join(", "),
    })
}

/// Total size of request headers as the limits count it.
pub fn header_bytes<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> u64 {
    headers
        .into_iter()
        .map(|(n, v)| (n.len() + v.len() + 4) as u64)
        .sum()
}

/// The first client header whose value cannot be forwarded (control characters,
/// CR/LF, or non-ASCII), as a 400 problem naming it.
pub fn check_client_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), Problem> {
    for (name, value) in headers {
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(Problem::new(
                ProblemKind::MalformedRequest,
                format!("the value of header `{name}` contains control characters (CR, LF, NUL, …); remove them"),
            )
            .with_field(name.to_ascii_lowercase()));
        }
    }
    Ok(())
}
