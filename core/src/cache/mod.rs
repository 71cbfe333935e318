//! Edge response caching as pure rules (RFC 9111 for a shared cache, RFC 9211
//! `Cache-Status`): whether a request may use the cache, whether an answer may be stored
//! and for how long, the cache key, conditional answers, and which purges invalidate a
//! stored entry. The edge does the Cache API I/O and calls these.
//!
//! Policy per API (`CachePolicy`) travels in the config snapshot with a generation that
//! a purge-all bumps, and purges by tag or path prefix travel as `CachePurge`s for
//! [`PURGE_FEED_MS`]; [`MAX_TTL_SECS`] equals that window, so every entry a purge could
//! concern is still alive when the edge learns of the purge.

mod conditional;
mod directives;
mod http_time;
mod key;
mod policy;
mod purge;
mod status;
mod storable;

#[cfg(test)]
mod tests;

pub use conditional::{is_not_modified, Validators};
pub use directives::CacheControl;
pub use http_time::parse_http_date;
pub use key::{primary_key, variant_key, vary_names, KeyParts};
pub use policy::{CachePolicy, CacheRoute, PolicyError, RouteRule};
pub use purge::{ApiCache, CacheIndex, CachePurge, PurgeError, PurgeRequest};
pub use status::{cache_status_field, CacheStatus, Forward};
pub use storable::{
    freshness_secs, request_decision, storable, RequestDecision, RequestFacts, ResponseFacts,
    StoreRefusal,
};

/// How long purges stay in the snapshot's feed (24 h).
pub const PURGE_FEED_MS: u64 = 24 * 60 * 60 * 1_000;

/// Longest time any entry is kept (24 h, the purge feed's window).
pub const MAX_TTL_SECS: u32 = 24 * 60 * 60;
