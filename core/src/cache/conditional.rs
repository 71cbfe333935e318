//! Conditional requests answered from a stored entry (RFC 9110 §13): `If-None-Match`
//! with the weak comparison, else `If-Modified-Since` against `Last-Modified`.

use super::http_time::parse_http_date;

/// The validators of a stored answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Validators<'a> {
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
}

fn opaque(tag: &str) -> &str {
    let t = tag.trim();
    t.strip_prefix("W/").unwrap_or(t)
}

/// Whether a `GET`/`HEAD` with these conditions gets 304 Not Modified. `If-None-Match`,
/// when present, decides alone (§13.2.2); an unparsable date never matches.
pub fn is_not_modified(
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    stored: &Validators<'_>,
) -> bool {
    if let Some(inm) = if_none_match {
        if inm.trim() == "*" {
            return true;
        }
        let Some(etag) = stored.etag else {
            return false;
        };
        let mine = opaque(etag);
        // A list of entity tags; commas inside a tag are not allowed by the grammar.
        return mine.starts_with('"') && inm.split(',').any(|t| opaque(t) == mine);
    }
    let (Some(ims), Some(lm)) = (if_modified_since, stored.last_modified) else {
        return false;
    };
    match (parse_http_date(ims), parse_http_date(lm)) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}
