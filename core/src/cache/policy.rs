//! An API's caching policy as the operator sets it: a default for every path and
//! per-route overrides matched by path pattern and method, checked before it is stored so
//! the edge only ever sees policies it can apply.
//!
//! Patterns: `/`-separated segments of letters, digits and `-._~`; a `*` segment matches
//! exactly one segment, or any remainder (including none) when it is the last one. The
//! first route that matches wins; paths no route matches use the API's defaults.

use super::MAX_TTL_SECS;
use serde::{Deserialize, Serialize};

/// Most routes one policy may list.
pub const MAX_ROUTES: usize = 100;
/// Most tags one route may carry.
pub const MAX_TAGS: usize = 10;

/// An API's caching policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachePolicy {
    /// Whether paths no route matches are cached.
    pub enabled: bool,
    /// Lifetime when the upstream states none (0: only what the upstream states).
    pub default_ttl_secs: u32,
    /// Upper bound on any lifetime, the upstream's included.
    pub max_ttl_secs: u32,
    /// Whether answers to authenticated callers are cached (then per consumer).
    #[serde(default)]
    pub cache_authenticated: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<CacheRoute>,
}

/// One route's override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheRoute {
    /// Path pattern after the API's base path (and version), e.g. `/forecast/*`.
    pub path: String,
    /// `GET` and/or `HEAD` (a `GET` route also answers `HEAD`).
    #[serde(default = "default_methods")]
    pub methods: Vec<String>,
    /// Lifetime when the upstream states none (default: the API's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u32>,
    /// Tags a purge can name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

fn default_methods() -> Vec<String> {
    vec!["GET".to_owned()]
}

fn default_enabled() -> bool {
    true
}

/// What applies to one request when caching is on for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule<'a> {
    pub default_ttl_secs: u32,
    pub max_ttl_secs: u32,
    pub tags: &'a [String],
    pub cache_authenticated: bool,
}

/// A policy member that is not acceptable, named by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PolicyError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError {
        field: field.into(),
        message: message.into(),
    }
}

/// Whether `tag` follows the tag grammar: 1–64 of letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit.
pub fn is_valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
}

fn check_pattern(pattern: &str) -> Result<(), &'static str> {
    if pattern.len() > 200 {
        return Err("must be at most 200 characters");
    }
    let Some(body) = pattern.strip_prefix('/') else {
        return Err("must start with `/`, e.g. `/forecast/*`");
    };
    if body.is_empty() {
        return Ok(());
    }
    for segment in body.split('/') {
        let literal = !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if segment != "*" && !literal {
            return Err("segments are `*` or letters, digits and `-._~`, with no empty segment");
        }
    }
    Ok(())
}

/// Whether `path` (starting with `/`, no query) matches `pattern`.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, p) in pat.iter().enumerate() {
        let last = i + 1 == pat.len();
        match segs.get(i) {
            _ if *p == "*" && last => return true,
            Some(s) if *p == "*" && !s.is_empty() => {}
            Some(s) if s == p => {}
            _ => return false,
        }
    }
    pat.len() == segs.len()
}

impl CachePolicy {
    /// Checks every member; methods are upper-cased in place.
    pub fn check(&mut self) -> Result<(), PolicyError> {
        if self.max_ttl_secs == 0 || self.max_ttl_secs > MAX_TTL_SECS {
            return Err(refuse(
                "max_ttl_secs",
                format!("must be between 1 and {MAX_TTL_SECS} (24 h)"),
            ));
        }
        if self.default_ttl_secs > self.max_ttl_secs {
            return Err(refuse("default_ttl_secs", "must not exceed max_ttl_secs"));
        }
        if self.routes.len() > MAX_ROUTES {
            return Err(refuse(
                "routes",
                format!("at most {MAX_ROUTES} routes per API"),
            ));
        }
        for (i, route) in self.routes.iter_mut().enumerate() {
            let at = |m: &str| format!("routes[{i}].{m}");
            check_pattern(&route.path).map_err(|e| refuse(at("path"), e))?;
            if route.methods.is_empty() {
                return Err(refuse(at("methods"), "list GET and/or HEAD"));
            }
            for m in &mut route.methods {
                *m = m.to_ascii_uppercase();
                if m != "GET" && m != "HEAD" {
                    return Err(refuse(
                        at("methods"),
                        "only GET and HEAD answers are cached",
                    ));
                }
            }
            if route.ttl_secs.is_some_and(|t| t > self.max_ttl_secs) {
                return Err(refuse(at("ttl_secs"), "must not exceed max_ttl_secs"));
            }
            if route.tags.len() > MAX_TAGS {
                return Err(refuse(at("tags"), format!("at most {MAX_TAGS} tags")));
            }
            if let Some(bad) = route.tags.iter().find(|t| !is_valid_tag(t)) {
                return Err(refuse(
                    at("tags"),
                    format!("`{bad}` is not a tag: 1–64 letters, digits, `.`, `_`, `-`, starting with a letter or digit"),
                ));
            }
        }
        Ok(())
    }

    /// The rule for a `GET`/`HEAD` of `path` (after the base path), or `None` when
    /// caching is off for it.
    pub fn rule_for(&self, method: &str, path: &str) -> Option<RouteRule<'_>> {
        let route = self.routes.iter().find(|r| {
            pattern_matches(&r.path, path)
                && r.methods
                    .iter()
                    .any(|m| m == method || (method == "HEAD" && m == "GET"))
        });
        let (enabled, ttl, tags) = match route {
            Some(r) => (
                r.enabled,
                r.ttl_secs.unwrap_or(self.default_ttl_secs),
                r.tags.as_slice(),
            ),
            None => (self.enabled, self.default_ttl_secs, &[][..]),
        };
        enabled.then_some(RouteRule {
            default_ttl_secs: ttl,
            max_ttl_secs: self.max_ttl_secs,
            tags,
            cache_authenticated: self.cache_authenticated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_segments_and_trailing_remainders() {
        assert!(pattern_matches("/forecast/*", "/forecast/today/berlin"));
        assert!(pattern_matches("/forecast/*", "/forecast"));
        assert!(pattern_matches("/a/*/c", "/a/b/c"));
        assert!(!pattern_matches("/a/*/c", "/a//c"));
        assert!(!pattern_matches("/a/*/c", "/a/b/c/d"));
        assert!(!pattern_matches("/forecast", "/forecasts"));
        assert!(pattern_matches("/", "/"));
        assert!(pattern_matches("/*", "/anything/at/all"));
    }
}
