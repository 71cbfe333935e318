//! CORS (the Fetch standard's CORS protocol) per API. A preflight — `OPTIONS` with
//! `Origin` and `Access-Control-Request-Method` — is answered at the edge before any
//! authentication (browsers never send credentials on a preflight): 204 with the allow
//! headers, or a refusal naming what is not allowed. Actual answers get
//! `Access-Control-Allow-Origin` and `Vary: Origin` when the origin is allowed.

use super::headers::MAX_EDITS;
use super::{is_token, parse_methods, PolicyError};
use serde::{Deserialize, Serialize};

/// Longest `max_age_secs` (a day; browsers cap lower anyway).
pub const MAX_AGE_SECS: u32 = 86_400;
/// Methods allowed when the policy lists none.
const DEFAULT_METHODS: [&str; 3] = ["GET", "HEAD", "POST"];
/// Request headers a browser may send without asking (simplified safelist).
const SAFELISTED: [&str; 4] = [
    "accept",
    "accept-language",
    "content-language",
    "content-type",
];

/// Who may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsPolicy {
    /// `https://app.example.com` (scheme, host, optional port) or `"*"` alone.
    pub allowed_origins: Vec<String>,
    /// Methods a cross-origin call may use (default `GET`, `HEAD`, `POST`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_methods: Vec<String>,
    /// Request headers a cross-origin call may send beyond the safelisted ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    /// Response headers scripts may read beyond the safelisted ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// How long browsers may cache a preflight answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_secs: Option<u32>,
    /// Whether cookies and `Authorization` may be sent (never with `"*"`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_credentials: bool,
}

/// Why a preflight is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorsRefusal {
    #[error("the origin `{0}` is not allowed to call this API from a browser")]
    Origin(String),
    #[error("the method `{0}` is not allowed for cross-origin calls to this API")]
    Method(String),
    #[error("the request header `{0}` is not allowed for cross-origin calls to this API")]
    Header(String),
}

fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let (host, port) = match rest.find(']') {
        Some(end) if rest.starts_with('[') => {
            let (h, tail) = rest.split_at(end + 1);
            match tail.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if tail.is_empty() => (h, None),
                None => return false,
            }
        }
        _ => match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        },
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !v6.is_empty()
            && v6
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    ["http", "https"].contains(&scheme) && host_ok && port_ok
}

impl CorsPolicy {
    /// Checks origins, methods, headers and the `"*"` + credentials combination.
    pub fn validate(&self, at: &str) -> Result<(), PolicyError> {
        let origins = &self.allowed_origins;
        if origins.is_empty() || origins.len() > MAX_EDITS {
            return Err(PolicyError::at(
                format!("{at}/allowed_origins"),
                format!(
                    "list 1–{MAX_EDITS} origins, e.g. [\"https://app.example.com\"], or [\"*\"]"
                ),
            ));
        }
        for (i, o) in origins.iter().enumerate() {
            let here = format!("{at}/allowed_origins/{i}");
            if o == "*" && origins.len() > 1 {
                return Err(PolicyError::at(here, "`*` must be the only origin"));
            }
            if o != "*" && !is_origin(o) {
                return Err(PolicyError::at(
                    here,
                    "an origin is `http(s)://host[:port]` in lower case, without path or trailing `/`, e.g. `https://app.example.com`",
                ));
            }
        }
        if self.allow_credentials && origins.iter().any(|o| o == "*") {
            return Err(PolicyError::at(
                format!("{at}/allow_credentials"),
                "browsers refuse credentials with `*`; list the origins explicitly",
            ));
        }
        if !self.allowed_methods.is_empty() {
            parse_methods(&self.allowed_methods, &format!("{at}/allowed_methods"))?;
        }
        for (member, list) in [
            ("allowed_headers", &self.allowed_headers),
            ("expose_headers", &self.expose_headers),
        ] {
            if list.len() > MAX_EDITS {
                return Err(PolicyError::at(
                    format!("{at}/{member}"),
                    format!("at most {MAX_EDITS} headers"),
                ));
            }
            if let Some(i) = list.iter().position(|h| !is_token(h)) {
                return Err(PolicyError::at(
                    format!("{at}/{member}/{i}"),
                    "a header name is an HTTP token, e.g. `x-request-id`",
                ));
            }
        }
        if self.max_age_secs.is_some_and(|s| s > MAX_AGE_SECS) {
            return Err(PolicyError::at(
                format!("{at}/max_age_secs"),
                format!("at most {MAX_AGE_SECS}"),
            ));
        }
        Ok(())
    }

    /// Methods upper case, header names lower case.
    pub fn normalized(mut self) -> CorsPolicy {
        for m in &mut self.allowed_methods {
            m.make_ascii_uppercase();
        }
        for h in self
            .allowed_headers
            .iter_mut()
            .chain(self.expose_headers.iter_mut())
        {
            h.make_ascii_lowercase();
        }
        self
    }

    fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    }

    fn allow_origin_value(&self, origin: &str) -> String {
        if self.allowed_origins.iter().any(|o| o == "*") && !self.allow_credentials {
            "*".to_owned()
        } else {
            origin.to_owned()
        }
    }

    /// Answers a preflight: the headers of the 204, or what is not allowed.
    pub fn preflight(
        &self,
        origin: &str,
        method: &str,
        request_headers: Option<&str>,
    ) -> Result<Vec<(&'static str, String)>, CorsRefusal> {
        if !self.allows_origin(origin) {
            return Err(CorsRefusal::Origin(origin.to_owned()));
        }
        let methods: Vec<&str> = if self.allowed_methods.is_empty() {
            DEFAULT_METHODS.to_vec()
        } else {
            self.allowed_methods.iter().map(String::as_str).collect()
        };
        if !methods.iter().any(|m| m.eq_ignore_ascii_case(method)) {
            return Err(CorsRefusal::Method(method.to_owned()));
        }
        let requested: Vec<String> = request_headers
            .unwrap_or("")
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        if let Some(bad) = requested.iter().find(|h| {
            !SAFELISTED.contains(&h.as_str())
                && !self
                    .allowed_headers
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(h))
        }) {
            return Err(CorsRefusal::Header(bad.clone()));
        }
        let mut out = vec![
            (
                "access-control-allow-origin",
                self.allow_origin_value(origin),
            ),
            ("access-control-allow-methods", methods.join(", ")),
            (
                "vary",
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers".to_owned(),
            ),
        ];
        if !requested.is_empty() {
            out.push(("access-control-allow-headers", requested.join(", ")));
        }
        if let Some(age) = self.max_age_secs {
            out.push(("access-control-max-age", age.to_string()));
        }
        if self.allow_credentials {
            out.push(("access-control-allow-credentials", "true".to_owned()));
        }
        Ok(out)
    }

    /// Headers for an actual (non-preflight) answer to `origin`; none when not allowed.
    pub fn response_headers(&self, origin: &str) -> Vec<(&'static str, String)> {
        if !self.allows_origin(origin) {
            return Vec::new();
        }
        let mut out = vec![
            (
                "access-control-allow-origin",
                self.allow_origin_value(origin),
            ),
            ("vary", "Origin".to_owned()),
        ];
        if self.allow_credentials {
            out.push(("access-control-allow-credentials", "true".to_owned()));
        }
        if !self.expose_headers.is_empty() {
            out.push((
                "access-control-expose-headers",
                self.expose_headers.join(", "),
            ));
        }
        out
    }
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(method: &str, origin: Option<&str>, request_method: Option<&str>) -> bool {
    method.eq_ignore_ascii_case("OPTIONS") && origin.is_some() && request_method.is_some()
}
