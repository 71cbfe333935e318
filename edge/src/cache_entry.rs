//! The shape of a cached entry: tollgate's bookkeeping travels in `x-tollgate-cache-*`
//! headers on the stored copy (the Cache API stores only a response), and is stripped,
//! with the upstream's own `Cache-Control` and `Vary` restored, before a client sees it.

use worker::Headers;

/// Prefix of every internal header; an upstream answer carrying one has it removed.
pub const INTERNAL_PREFIX: &str = "x-tollgate-cache-";
/// On a marker entry: the header names the answer varies on.
pub const VARY_MARKER: &str = "x-tollgate-cache-vary-on";
const STORED_AT: &str = "x-tollgate-cache-stored-at";
const EXPIRES_AT: &str = "x-tollgate-cache-expires-at";
const TAGS: &str = "x-tollgate-cache-tags";
const PATH: &str = "x-tollgate-cache-path";
const AGE: &str = "x-tollgate-cache-age";
const ORIGINAL_CC: &str = "x-tollgate-cache-cc";
const ORIGINAL_VARY: &str = "x-tollgate-cache-vary";

/// Bookkeeping of one stored answer.
pub struct Entry {
    pub stored_at_ms: u64,
    pub expires_at_ms: u64,
    pub tags: Vec<String>,
    /// Path after the base path, for purges by prefix.
    pub path: String,
    /// The upstream's `Age` when stored.
    pub initial_age_secs: u64,
}

impl Entry {
    /// Reads an entry's bookkeeping; anything missing reads as expired.
    pub fn read(h: &Headers) -> Entry {
        let get = |n: &str| h.get(n).ok().flatten().unwrap_or_default();
        let num = |n: &str| get(n).parse::<u64>().unwrap_or(0);
        Entry {
            stored_at_ms: num(STORED_AT),
            expires_at_ms: num(EXPIRES_AT),
            tags: get(TAGS)
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            path: get(PATH),
            initial_age_secs: num(AGE),
        }
    }

    /// The headers of the stored copy: the upstream's, minus `Set-Cookie` and `Age`, with
    /// a `Cache-Control` the Cache API keeps for `ttl` and the bookkeeping added.
    pub fn stored_headers(&self, upstream: &Headers, ttl: u32) -> worker::Result<Headers> {
        let out = Headers::new();
        for (name, value) in upstream.entries() {
            match name.as_str() {
                "set-cookie" | "age" | "cache-status" => {}
                n if n.starts_with(INTERNAL_PREFIX) => {}
                "cache-control" => out.append(ORIGINAL_CC, &value)?,
                "vary" => out.append(ORIGINAL_VARY, &value)?,
                _ => out.append(&name, &value)?,
            }
        }
        out.set("cache-control", &format!("public, max-age={ttl}"))?;
        out.set(STORED_AT, &self.stored_at_ms.to_string())?;
        out.set(EXPIRES_AT, &self.expires_at_ms.to_string())?;
        out.set(TAGS, &self.tags.join(","))?;
        out.set(PATH, &self.path)?;
        out.set(AGE, &self.initial_age_secs.to_string())?;
        Ok(out)
    }
}

/// The headers a client gets from a stored copy.
pub fn client_headers(stored: &Headers) -> worker::Result<Headers> {
    let out = Headers::new();
    for (name, value) in stored.entries() {
        match name.as_str() {
            "cache-control" | "age" | "cf-cache-status" => {}
            ORIGINAL_CC => out.append("cache-control", &value)?,
            ORIGINAL_VARY => out.append("vary", &value)?,
            n if n.starts_with(INTERNAL_PREFIX) => {}
            _ => out.append(&name, &value)?,
        }
    }
    Ok(out)
}

/// The headers of a 304 built from a stored copy (RFC 9110 §15.4.5).
pub fn not_modified_headers(full: &Headers) -> worker::Result<Headers> {
    let out = Headers::new();
    for name in [
        "cache-control",
        "content-location",
        "date",
        "etag",
        "expires",
        "vary",
        "last-modified",
        "age",
        "cache-status",
    ] {
        if let Some(v) = full.get(name)? {
            out.set(name, &v)?;
        }
    }
    Ok(out)
}
