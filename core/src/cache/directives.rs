//! `Cache-Control` directives (RFC 9111 §5.2) of a request or a response, parsed
//! leniently: unknown directives are ignored, an invalid `max-age` counts as 0 (stale,
//! as §4.2.1 recommends), the first of repeated directives wins.

/// The directives tollgate acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheControl {
    pub no_store: bool,
    pub no_cache: bool,
    pub private: bool,
    pub public: bool,
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
    pub only_if_cached: bool,
}

/// Splits on commas outside double quotes.
fn split_directives(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

fn seconds(arg: Option<&str>) -> u64 {
    let arg = arg.unwrap_or("").trim().trim_matches('"');
    if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    // RFC 9111 §1.2.2: too large a delta-seconds is 2^31.
    arg.parse::<u64>().unwrap_or(u64::from(u32::MAX >> 1))
}

impl CacheControl {
    /// Parses one (possibly comma-joined) `Cache-Control` value; `None` parses as empty.
    pub fn parse(value: Option<&str>) -> CacheControl {
        let mut cc = CacheControl::default();
        for directive in split_directives(value.unwrap_or("")) {
            let (name, arg) = match directive.split_once('=') {
                Some((n, a)) => (n.trim(), Some(a)),
                None => (directive.trim(), None),
            };
            match name.to_ascii_lowercase().as_str() {
                "no-store" => cc.no_store = true,
                "no-cache" => cc.no_cache = true,
                "private" => cc.private = true,
                "public" => cc.public = true,
                "only-if-cached" => cc.only_if_cached = true,
                "max-age" if cc.max_age.is_none() => cc.max_age = Some(seconds(arg)),
                "s-maxage" if cc.s_maxage.is_none() => cc.s_maxage = Some(seconds(arg)),
                _ => {}
            }
        }
        cc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_case_insensitively_with_arguments() {
        let cc = CacheControl::parse(Some("Public, MAX-AGE=60, s-maxage=\"30\""));
        assert!(cc.public && !cc.no_store);
        assert_eq!(cc.max_age, Some(60));
        assert_eq!(cc.s_maxage, Some(30));
    }

    #[test]
    fn quoted_commas_do_not_split_and_field_lists_still_count() {
        let cc = CacheControl::parse(Some("private=\"set-cookie, x-a\", no-cache"));
        assert!(cc.private && cc.no_cache);
    }

    #[test]
    fn invalid_or_repeated_max_age_is_handled_conservatively() {
        assert_eq!(CacheControl::parse(Some("max-age=abc")).max_age, Some(0));
        assert_eq!(CacheControl::parse(Some("max-age=-5")).max_age, Some(0));
        assert_eq!(
            CacheControl::parse(Some("max-age=5, max-age=500")).max_age,
            Some(5)
        );
        assert_eq!(
            CacheControl::parse(Some("max-age=99999999999999999999999")).max_age,
            Some(2_147_483_647)
        );
        assert_eq!(CacheControl::parse(None), CacheControl::default());
    }
}
