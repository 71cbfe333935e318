//! The `Cache-Status` response field (RFC 9211), serialised as a Structured Field List
//! with the `sfv` crate: `tollgate; hit; ttl=12`, `tollgate; fwd=uri-miss; fwd-status=200;
//! stored`, `tollgate; fwd=bypass; detail=authenticated`.

use sfv::{Integer, KeyRef, ListSerializer, RefBareItem, TokenRef};

/// Why the request went forward (RFC 9211 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// Configured not to use the cache for this request.
    Bypass,
    /// The method is not cacheable.
    Method,
    /// Nothing stored for this URI.
    UriMiss,
    /// Something stored for this URI, but not for these request headers.
    VaryMiss,
    /// Something stored that could not be used (e.g. purged).
    Miss,
    /// A stored answer exists but the request's directives did not allow using it.
    Request,
    /// The stored answer was stale.
    Stale,
}

impl Forward {
    fn token(self) -> &'static str {
        match self {
            Forward::Bypass => "bypass",
            Forward::Method => "method",
            Forward::UriMiss => "uri-miss",
            Forward::VaryMiss => "vary-miss",
            Forward::Miss => "miss",
            Forward::Request => "request",
            Forward::Stale => "stale",
        }
    }
}

/// What the cache did for one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus<'a> {
    /// Served from the cache, with seconds of freshness left.
    Hit { ttl_secs: i64 },
    /// Forwarded to the upstream.
    Forward {
        fwd: Forward,
        /// The upstream's status, when it answered.
        fwd_status: Option<u16>,
        stored: bool,
        detail: Option<&'a str>,
    },
}

impl CacheStatus<'_> {
    /// Whether the answer came from the cache (usage metering counts these apart).
    pub fn is_hit(&self) -> bool {
        matches!(self, CacheStatus::Hit { .. })
    }
}

const CACHE: &TokenRef = TokenRef::constant("tollgate");
const HIT: &KeyRef = KeyRef::constant("hit");
const TTL: &KeyRef = KeyRef::constant("ttl");
const FWD: &KeyRef = KeyRef::constant("fwd");
const FWD_STATUS: &KeyRef = KeyRef::constant("fwd-status");
const STORED: &KeyRef = KeyRef::constant("stored");
const DETAIL: &KeyRef = KeyRef::constant("detail");

fn int(v: i64) -> Integer {
    Integer::try_from(v.clamp(-999_999_999_999_999, 999_999_999_999_999))
        .unwrap_or(Integer::constant(0))
}

/// The `Cache-Status` value.
pub fn cache_status_field(status: &CacheStatus<'_>) -> String {
    let mut ser = ListSerializer::new();
    let item = ser.bare_item(RefBareItem::Token(CACHE));
    match *status {
        CacheStatus::Hit { ttl_secs } => {
            let _ = item.parameter(HIT, true).parameter(TTL, int(ttl_secs));
        }
        CacheStatus::Forward {
            fwd,
            fwd_status,
            stored,
            detail,
        } => {
            let mut p = item.parameter(FWD, RefBareItem::Token(TokenRef::constant(fwd.token())));
            if let Some(s) = fwd_status {
                p = p.parameter(FWD_STATUS, int(i64::from(s)));
            }
            if stored {
                p = p.parameter(STORED, true);
            }
            if let Some(tok) = detail.and_then(|d| TokenRef::from_str(d).ok()) {
                let _ = p.parameter(DETAIL, RefBareItem::Token(tok));
            }
        }
    }
    ser.finish().unwrap_or_else(|| "tollgate".to_owned())
}
