//! Query-string edits: `remove`, then `rename`, then `set`. Names are compared after
//! percent-decoding, so `?%61pi_key=…` cannot slip past `remove: ["api_key"]`; values
//! the policy sets are percent-encoded on the way out. Parameters the policy does not
//! name keep their original bytes and order.

use super::headers::MAX_EDITS;
use super::{pointer_key, PolicyError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest value a query edit may set.
pub const MAX_QUERY_VALUE_LEN: usize = 1024;

/// Query edits.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryEdits {
    /// Parameters set to this value (replacing every occurrence).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, String>,
    /// Parameters removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// Parameters renamed `{from: to}`, keeping their values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename: BTreeMap<String, String>,
}

fn is_param_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~[]".contains(&b))
}

fn check_name(name: &str, at: &str) -> Result<(), PolicyError> {
    if is_param_name(name) {
        Ok(())
    } else {
        Err(PolicyError::at(
            at,
            "a parameter name is 1–128 of letters, digits and `-._~[]`",
        ))
    }
}

/// Percent-decodes `s` (and `+` as space), lossily for invalid UTF-8.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |c: u8| (c as char).to_digit(16);
        match b {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b),
            },
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl QueryEdits {
    /// Checks names and values; errors point below `at`.
    pub fn validate(&self, at: &str) -> Result<(), PolicyError> {
        if self.set.len() > MAX_EDITS
            || self.remove.len() > MAX_EDITS
            || self.rename.len() > MAX_EDITS
        {
            return Err(PolicyError::at(
                at,
                format!("at most {MAX_EDITS} entries per member"),
            ));
        }
        for (name, value) in &self.set {
            let here = format!("{at}/set/{}", pointer_key(name));
            check_name(name, &here)?;
            if value.len() > MAX_QUERY_VALUE_LEN || value.chars().any(char::is_control) {
                return Err(PolicyError::at(
                    here,
                    format!(
                        "a value is at most {MAX_QUERY_VALUE_LEN} bytes without control characters"
                    ),
                ));
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

    /// The edited query string (`None`: no query at all).
    pub fn apply(&self, query: Option<&str>) -> Option<String> {
        let mut pairs: Vec<(String, Option<&str>)> = Vec::new();
        for part in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = match part.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (part, None),
            };
            let name = percent_decode(raw_name);
            if self.remove.contains(&name) || self.set.contains_key(&name) {
                continue;
            }
            match self.rename.get(&name) {
                Some(to) if !self.set.contains_key(to) => pairs.push((to.clone(), raw_value)),
                Some(_) => {}
                None => pairs.push((raw_name.to_owned(), raw_value)),
            }
        }
        let mut out: Vec<String> = pairs
            .into_iter()
            .map(|(n, v)| match v {
                Some(v) => format!("{n}={v}"),
                None => n,
            })
            .collect();
        for (name, value) in &self.set {
            out.push(format!("{name}={}", percent_encode(value)));
        }
        (!out.is_empty()).then(|| out.join("&"))
    }
}
