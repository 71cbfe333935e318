//! Cache keys: a primary key from what identifies the resource (API, policy generation,
//! path, sorted query, and the consumer when authenticated answers are cached), and a
//! variant key from the primary key and the request's values of the headers the stored
//! answer's `Vary` names. Keys are SHA-256 hex over length-prefixed fields, so no choice
//! of field values can make two different requests collide.

use sha2::{Digest, Sha256};

/// What the primary key is made of.
#[derive(Debug, Clone, Copy)]
pub struct KeyParts<'a> {
    pub api_id: &'a str,
    /// Bumped by a purge-all or a policy change, so older entries are never found again.
    pub generation: u64,
    /// The request path as received (base path and version included).
    pub path: &'a str,
    /// The query string without `?`.
    pub query: Option<&'a str>,
    /// The consumer, when authenticated answers are cached (one entry per consumer).
    pub consumer: Option<&'a str>,
}

fn field(h: &mut Sha256, value: &[u8]) {
    h.update((value.len() as u64).to_be_bytes());
    h.update(value);
}

/// The primary key (hex). `GET` and `HEAD` share it: a `HEAD` is served from a `GET`.
pub fn primary_key(parts: &KeyParts<'_>) -> String {
    let mut h = Sha256::new();
    field(&mut h, b"tollgate-cache-v1");
    field(&mut h, parts.api_id.as_bytes());
    field(&mut h, &parts.generation.to_be_bytes());
    field(&mut h, parts.path.as_bytes());
    let mut pairs: Vec<&str> = parts
        .query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    pairs.sort_unstable();
    field(&mut h, &(pairs.len() as u64).to_be_bytes());
    for pair in pairs {
        field(&mut h, pair.as_bytes());
    }
    match parts.consumer {
        Some(c) => {
            field(&mut h, b"consumer");
            field(&mut h, c.as_bytes());
        }
        None => field(&mut h, b"anyone"),
    }
    hex::encode(h.finalize())
}

/// The header names a `Vary` value lists, lower-cased, sorted, without duplicates or
/// anything that is not a header name.
pub fn vary_names(vary: &str) -> Vec<String> {
    let mut names: Vec<String> = vary
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| {
            !n.is_empty()
                && n.len() <= 64
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The variant key (hex) for the request values of `names` (`header` returns a
/// request header's value; whitespace runs are folded, as RFC 9111 §4.1 allows).
pub fn variant_key(
    primary: &str,
    names: &[String],
    header: impl Fn(&str) -> Option<String>,
) -> String {
    let mut h = Sha256::new();
    field(&mut h, primary.as_bytes());
    for name in names {
        field(&mut h, name.as_bytes());
        match header(name) {
            Some(v) => {
                let folded = v.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
                field(&mut h, b"=");
                field(&mut h, folded.as_bytes());
            }
            None => field(&mut h, b"absent"),
        }
    }
    hex::encode(h.finalize())
}
