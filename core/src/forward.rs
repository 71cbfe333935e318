//! What the edge sends upstream: the target URL and which headers pass through.
//!
//! Hop-by-hop headers (RFC 9110 §7.6.1) never cross a proxy; `X-Forwarded-*`, `Forwarded`
//! and `X-Real-IP` from the client are dropped because only the edge may set them; the
//! header that carried the consumer's credential is never forwarded.

use crate::credential::CredentialSource;

/// Largest total size of request headers the edge accepts (431 above it).
pub const MAX_REQUEST_HEADER_BYTES: usize = 32 * 1024;

const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Joins an upstream base URL, the path after the API's base path and the query string.
pub fn upstream_url(upstream_base: &str, rest: &str, query: Option<&str>) -> String {
    let base = upstream_base.trim_end_matches('/');
    let mut url = String::with_capacity(base.len() + rest.len() + query.map_or(0, |q| q.len() + 1));
    url.push_str(base);
    url.push_str(if rest.is_empty() { "/" } else { rest });
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Whether a header is hop-by-hop, including ones the `Connection` header names.
pub fn is_hop_by_hop(name: &str, connection_header: Option<&str>) -> bool {
    let lower = name.to_ascii_lowercase();
    HOP_BY_HOP.contains(&lower.as_str())
        || connection_header
            .is_some_and(|c| c.split(',').any(|t| t.trim().eq_ignore_ascii_case(&lower)))
}

/// Why an operator-configured upstream header is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamHeaderError {
    #[error("a header name is 1–64 characters of letters, digits and `!#$%&'*+-.^_`|~`")]
    Name,
    #[error("`{0}` is managed by the proxy and cannot be set")]
    Reserved(String),
    #[error("a header value is at most 4096 visible characters, without CR, LF or other control characters")]
    Value,
}

/// Checks a header the operator wants the edge to send upstream (e.g. an upstream API key).
pub fn check_upstream_header(name: &str, value: &str) -> Result<(), UpstreamHeaderError> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || name.len() > 64 || !name.bytes().all(token) {
        return Err(UpstreamHeaderError::Name);
    }
    let lower = name.to_ascii_lowercase();
    if is_hop_by_hop(&lower, None)
        || ["host", "content-length"].contains(&lower.as_str())
        || lower.starts_with("x-forwarded-")
    {
        return Err(UpstreamHeaderError::Reserved(name.to_owned()));
    }
    if value.is_empty()
        || value.len() > 4096
        || !value
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80)
    {
        return Err(UpstreamHeaderError::Value);
    }
    Ok(())
}

/// Whether a client request header is passed to the upstream.
pub fn forward_request_header(
    name: &str,
    connection_header: Option<&str>,
    credential: Option<CredentialSource>,
) -> bool {
    let lower = name.to_ascii_lowercase();
    if is_hop_by_hop(&lower, connection_header) || lower == "host" || lower == "content-length" {
        return false;
    }
    if lower.starts_with("x-forwarded-") || lower == "forwarded" || lower == "x-real-ip" {
        return false;
    }
    if lower.starts_with("cf-") || lower.starts_with("x-tollgate-") {
        return false;
    }
    match credential {
        Some(CredentialSource::Authorization) => lower != "authorization",
        Some(CredentialSource::XApiKey) => lower != "x-api-key",
        None => true,
    }
}

/// Whether an upstream response header is passed to the client.
pub fn forward_response_header(name: &str, connection_header: Option<&str>) -> bool {
    let lower = name.to_ascii_lowercase();
    !is_hop_by_hop(&lower, connection_header) && lower != "content-length"
}

/// The `X-Forwarded-*` headers the edge sets, from what it observed itself.
pub fn forwarded_headers(
    client_ip: Option<&str>,
    proto: &str,
    host: &str,
) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("x-forwarded-proto", proto.to_owned()),
        ("x-forwarded-host", host.to_owned()),
    ];
    if let Some(ip) = client_ip.filter(|ip| !ip.is_empty()) {
        out.push(("x-forwarded-for", ip.to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_keeps_path_and_query() {
        assert_eq!(
            upstream_url("http://u:9/v1/", "/a/b", Some("x=1&y=%20")),
            "http://u:9/v1/a/b?x=1&y=%20"
        );
        assert_eq!(upstream_url("http://u:9", "/", None), "http://u:9/");
        assert_eq!(upstream_url("http://u:9", "", Some("")), "http://u:9/");
    }

    #[test]
    fn spoofable_and_hop_by_hop_headers_are_dropped() {
        for h in [
            "Connection",
            "TE",
            "Transfer-Encoding",
            "X-Forwarded-For",
            "forwarded",
            "X-Real-IP",
            "Host",
            "X-Custom-Hop",
        ] {
            assert!(
                !forward_request_header(h, Some("close, x-custom-hop"), None),
                "{h}"
            );
        }
        for h in ["Accept", "Content-Type", "X-Request-Id", "Authorization"] {
            assert!(forward_request_header(h, None, None), "{h}");
        }
    }

    #[test]
    fn only_the_credential_header_is_stripped() {
        assert!(!forward_request_header(
            "Authorization",
            None,
            Some(CredentialSource::Authorization)
        ));
        assert!(forward_request_header(
            "X-API-Key",
            None,
            Some(CredentialSource::Authorization)
        ));
        assert!(!forward_request_header(
            "x-api-key",
            None,
            Some(CredentialSource::XApiKey)
        ));
        assert!(forward_request_header(
            "authorization",
            None,
            Some(CredentialSource::XApiKey)
        ));
    }

    #[test]
    fn upstream_headers_are_checked() {
        assert_eq!(check_upstream_header("Authorization", "Bearer abc"), Ok(()));
        assert_eq!(check_upstream_header("X-Api-Key", "k"), Ok(()));
        assert_eq!(
            check_upstream_header("", "v"),
            Err(UpstreamHeaderError::Name)
        );
        assert_eq!(
            check_upstream_header("Bad Name", "v"),
            Err(UpstreamHeaderError::Name)
        );
        assert!(matches!(
            check_upstream_header("Host", "v"),
            Err(UpstreamHeaderError::Reserved(_))
        ));
        assert!(matches!(
            check_upstream_header("transfer-encoding", "v"),
            Err(UpstreamHeaderError::Reserved(_))
        ));
        assert!(matches!(
            check_upstream_header("X-Forwarded-For", "v"),
            Err(UpstreamHeaderError::Reserved(_))
        ));
        assert_eq!(
            check_upstream_header("X", "a\r\nInjected: 1"),
            Err(UpstreamHeaderError::Value)
        );
        assert_eq!(
            check_upstream_header("X", ""),
            Err(UpstreamHeaderError::Value)
        );
        assert_eq!(
            check_upstream_header("X", &"a".repeat(4097)),
            Err(UpstreamHeaderError::Value)
        );
    }

    #[test]
    fn edge_sets_forwarded_headers_from_its_own_view() {
        let h = forwarded_headers(Some("203.0.113.9"), "https", "api.example");
        assert!(h.contains(&("x-forwarded-for", "203.0.113.9".into())));
        assert_eq!(forwarded_headers(None, "http", "h").len(), 2);
    }
}
