//! Header edits in either direction: `remove`, then `rename`, then `set` (replace), then
//! `add` (append). Names are HTTP tokens, values visible ASCII without CR/LF (workerd
//! refuses anything else at run time, so it is refused at config time instead), and the
//! headers the proxy itself manages cannot be touched: hop-by-hop, `host`,
//! `content-length`, `x-forwarded-*`, `forwarded`, `x-real-ip`, `cf-*`, `x-tollgate-*`
//! and the CORS `access-control-*` (owned by the `cors` policy).

use super::{is_token, pointer_key, PolicyError};
use crate::forward::is_hop_by_hop;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most entries in one list or map of an edit.
pub const MAX_EDITS: usize = 50;
/// Longest value an edit may set.
pub const MAX_VALUE_LEN: usize = 4096;

/// Header edits for one direction.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderEdits {
    /// Headers set to this value, replacing any the message had.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, String>,
    /// Headers appended (a second value when the message already has one).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub add: BTreeMap<String, String>,
    /// Headers removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// Headers renamed `{from: to}`, keeping their values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename: BTreeMap<String, String>,
}

/// Whether the proxy owns this header, so no edit may touch it (`name` in lower case).
pub fn is_managed_header(lower: &str) -> bool {
    is_hop_by_hop(lower, None)
        || ["host", "content-length", "forwarded", "x-real-ip"].contains(&lower)
        || lower.starts_with("x-forwarded-")
        || lower.starts_with("cf-")
        || lower.starts_with("x-tollgate-")
        || lower.starts_with("access-control-")
}

/// Whether `value` can be sent as a header value: visible ASCII, spaces and tabs.
pub fn is_header_value(value: &str) -> bool {
    value.len() <= MAX_VALUE_LEN
        && value
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

fn check_name(name: &str, at: &str) -> Result<(), PolicyError> {
    if !is_token(name) {
        return Err(PolicyError::at(
            at,
            "a header name is 1–64 characters of letters, digits and `!#$%&'*+-.^_`|~`",
        ));
    }
    if is_managed_header(&name.to_ascii_lowercase()) {
        return Err(PolicyError::at(
            at,
            format!("`{name}` is managed by the gateway and cannot be edited"),
        ));
    }
    Ok(())
}

fn check_value(value: &str, at: &str) -> Result<(), PolicyError> {
    if !is_header_value(value) {
        return Err(PolicyError::at(
            at,
            format!("a header value is at most {MAX_VALUE_LEN} visible ASCII characters, without CR, LF or other control characters"),
        ));
    }
    Ok(())
}

impl HeaderEdits {
    /// Checks names and values; errors point below `at`.
    pub fn validate(&self, at: &str) -> Result<(), PolicyError> {
        for (member, len) in [
            ("set", self.set.len()),
            ("add", self.add.len()),
            ("remove", self.remove.len()),
            ("rename", self.rename.len()),
        ] {
            if len > MAX_EDITS {
                return Err(PolicyError::at(
                    format!("{at}/{member}"),
                    format!("at most {MAX_EDITS} entries"),
                ));
            }
        }
        for (map, member) in [(&self.set, "set"), (&self.add, "add")] {
            for (name, value) in map {
                let here = format!("{at}/{member}/{}", pointer_key(name));
                check_name(name, &here)?;
                check_value(value, &here)?;
            }
        }
        for (i, name) in self.remove.iter().enumerate() {
            check_name(name, &format!("{at}/remove/{i}"))?;
        }
        for (from, to) in &self.rename {
            let here = format!("{at}/rename/{}", pointer_key(from));
            check_name(from, &here)?;
            check_name(to, &here)?;
        }
        Ok(())
    }

    /// Applies the edits to a header list (names compared case-insensitively).
    pub fn apply(&self, headers: &mut Vec<(String, String)>) {
        if !self.remove.is_empty() {
            headers.retain(|(n, _)| !self.remove.iter().any(|r| r.eq_ignore_ascii_case(n)));
        }
        for (from, to) in &self.rename {
            for (name, _) in headers.iter_mut() {
                if name.eq_ignore_ascii_case(from) {
                    to.clone_into(name);
                }
            }
        }
        for (name, value) in &self.set {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        for (name, value) in &self.add {
            headers.push((name.clone(), value.clone()));
        }
    }
}
