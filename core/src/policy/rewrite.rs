//! Path rewrites on the path after the base path, and the check that any path sent
//! upstream stays below the upstream's base.
//!
//! Grammar: `from` and `to` are absolute path prefixes (`/`, `/v1`, `/api/v1`), each
//! optionally ending in `/*` — both or neither, `*` being only a reminder that the rest
//! of the path follows. `from` matches on segment boundaries: `/v1` matches `/v1` and
//! `/v1/users`, not `/v10`. The matched prefix is replaced by `to`, the remainder kept:
//! `{from: "/v1/*", to: "/api/v1/*"}` sends `/v1/users?x` as `/api/v1/users?x`. Paths
//! that do not match pass unchanged. Prefixes may not contain `.`/`..` segments (also
//! percent-encoded), encoded slashes or backslashes, and a rewritten path is checked
//! again, so nothing can climb above the upstream base.

use super::PolicyError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Longest prefix accepted.
pub const MAX_PREFIX_LEN: usize = 256;

/// A prefix rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathRewrite {
    pub from: String,
    pub to: String,
}

/// Why a path cannot be sent upstream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafePath {
    #[error("the path contains a `.` or `..` segment")]
    DotSegment,
    #[error(
        "the path contains an encoded slash or backslash, a backslash, or a control character"
    )]
    Character,
    #[error("the path must start with `/`")]
    NotAbsolute,
}

fn is_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    let decoded = lower.replace("%2e", ".");
    decoded == "." || decoded == ".."
}

/// Checks that `path` is absolute and has no dot segment or smuggled separator.
pub fn check_path(path: &str) -> Result<(), UnsafePath> {
    if !path.starts_with('/') {
        return Err(UnsafePath::NotAbsolute);
    }
    let lower = path.to_ascii_lowercase();
    if path
        .bytes()
        .any(|b| b == b'\\' || b == b'?' || b == b'#' || b <= 0x20 || b == 0x7f)
        || lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%00")
    {
        return Err(UnsafePath::Character);
    }
    if path[1..].split('/').any(is_dot_segment) {
        return Err(UnsafePath::DotSegment);
    }
    Ok(())
}

/// `(prefix, had_star)` of a configured side; `/` stays `/`.
fn prefix_of(raw: &str) -> (&str, bool) {
    match raw.strip_suffix("/*") {
        Some(p) => (if p.is_empty() { "/" } else { p }, true),
        None if raw.len() > 1 => (raw.trim_end_matches('/'), false),
        None => (raw, false),
    }
}

fn check_prefix(raw: &str, at: &str) -> Result<bool, PolicyError> {
    let (prefix, star) = prefix_of(raw);
    let valid_chars = prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-._~!$&'()+,;=:@%".contains(&b));
    if raw.len() > MAX_PREFIX_LEN || !valid_chars || prefix.contains("//") {
        return Err(PolicyError::at(
            at,
            format!("a path prefix like `/v1` or `/v1/*`: at most {MAX_PREFIX_LEN} characters, letters, digits and `-._~!$&'()+,;=:@%`, no empty segment, `*` only as the last segment"),
        ));
    }
    check_path(prefix)
        .map_err(|e| PolicyError::at(at, format!("{e}; use a plain prefix like `/api/v1`")))?;
    Ok(star)
}

impl PathRewrite {
    /// Checks the grammar; errors point at `{at}/from` or `{at}/to`.
    pub fn validate(&self, at: &str) -> Result<(), PolicyError> {
        let from_star = check_prefix(&self.from, &format!("{at}/from"))?;
        let to_star = check_prefix(&self.to, &format!("{at}/to"))?;
        if from_star != to_star {
            return Err(PolicyError::at(
                format!("{at}/to"),
                "end both `from` and `to` with `/*`, or neither",
            ));
        }
        Ok(())
    }

    /// The path to send upstream for `rest` (the path after the base path, starting
    /// with `/`), refused when the result would not be a safe path.
    pub fn apply<'a>(&self, rest: &'a str) -> Result<Cow<'a, str>, UnsafePath> {
        let (from, _) = prefix_of(&self.from);
        let (to, _) = prefix_of(&self.to);
        let remainder = if from == "/" {
            Some(rest)
        } else {
            rest.strip_prefix(from)
                .filter(|r| r.is_empty() || r.starts_with('/'))
        };
        let out = match remainder {
            None => Cow::Borrowed(rest),
            Some(r) => {
                let mut s = String::with_capacity(to.len() + r.len());
                if to != "/" {
                    s.push_str(to);
                }
                s.push_str(r);
                if s.is_empty() {
                    s.push('/');
                }
                Cow::Owned(s)
            }
        };
        check_path(&out)?;
        Ok(out)
    }
}
