//! Purges and the edge's index of cache policies. A purge by tag or path prefix is a
//! time: an entry is served only if it was stored after every purge that matches it, so
//! a purge works in every data centre once the snapshot carrying it arrives, without
//! deleting anything. A purge-all bumps the API's generation, which is part of the key.

use super::policy::{is_valid_tag, CachePolicy, MAX_TAGS};
use crate::ApiId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An API's policy as the snapshot carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCache {
    pub api_id: ApiId,
    /// Part of every key; bumped by a purge-all and by every policy change.
    pub generation: u64,
    pub policy: CachePolicy,
}

/// One purge, kept in the snapshot for [`super::PURGE_FEED_MS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachePurge {
    pub api_id: ApiId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Matches entries whose path after the base path starts with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Unix ms of the purge at the origin.
    pub at_ms: u64,
}

impl CachePurge {
    /// Whether this purge concerns an entry of `api_id` at `path` with `tags`; a purge
    /// naming neither tag nor prefix concerns the whole API.
    pub fn matches(&self, api_id: &ApiId, path: &str, tags: &[&str]) -> bool {
        if &self.api_id != api_id {
            return false;
        }
        match (&self.tag, &self.prefix) {
            (Some(tag), _) => tags.contains(&tag.as_str()),
            (None, Some(prefix)) => path.starts_with(prefix.as_str()),
            (None, None) => true,
        }
    }
}

/// Policies and purges by API, built once per snapshot.
#[derive(Debug, Default)]
pub struct CacheIndex {
    apis: HashMap<ApiId, ApiCache>,
    purges: HashMap<ApiId, Vec<CachePurge>>,
}

impl CacheIndex {
    /// Indexes a snapshot's `cache` and `cache_purges`.
    pub fn new(apis: Vec<ApiCache>, purges: Vec<CachePurge>) -> CacheIndex {
        let mut by_api: HashMap<ApiId, Vec<CachePurge>> = HashMap::new();
        for p in purges {
            by_api.entry(p.api_id.clone()).or_default().push(p);
        }
        CacheIndex {
            apis: apis.into_iter().map(|a| (a.api_id.clone(), a)).collect(),
            purges: by_api,
        }
    }

    /// The policy of an API, if it has one.
    pub fn for_api(&self, api_id: &ApiId) -> Option<&ApiCache> {
        self.apis.get(api_id)
    }

    /// Whether an entry stored at `stored_at_ms` was purged since.
    pub fn is_purged(&self, api_id: &ApiId, path: &str, tags: &[&str], stored_at_ms: u64) -> bool {
        self.purges.get(api_id).is_some_and(|list| {
            list.iter()
                .any(|p| p.at_ms >= stored_at_ms && p.matches(api_id, path, tags))
        })
    }
}

/// Body of a purge request: tags, a path prefix, or neither (everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeRequest {
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub path_prefix: Option<String>,
}

/// Why a purge request is refused, naming the member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurgeError {
    #[error("give `tags` or `path_prefix`, not both (send `{{}}` to purge everything)")]
    Both,
    #[error("list 1 to {MAX_TAGS} tags")]
    TagCount,
    #[error(
        "`{0}` is not a tag: 1–64 letters, digits, `.`, `_`, `-`, starting with a letter or digit"
    )]
    Tag(String),
    #[error(
        "must start with `/`, be at most 200 characters and have no spaces or control characters"
    )]
    Prefix,
}

impl PurgeError {
    /// The member at fault.
    pub fn field(&self) -> &'static str {
        match self {
            PurgeError::Both => "path_prefix",
            PurgeError::TagCount | PurgeError::Tag(_) => "tags",
            PurgeError::Prefix => "path_prefix",
        }
    }
}

impl PurgeRequest {
    /// Checks the request.
    pub fn check(&self) -> Result<(), PurgeError> {
        match (&self.tags, &self.path_prefix) {
            (Some(_), Some(_)) => Err(PurgeError::Both),
            (Some(tags), None) => {
                if tags.is_empty() || tags.len() > MAX_TAGS {
                    return Err(PurgeError::TagCount);
                }
                match tags.iter().find(|t| !is_valid_tag(t)) {
                    Some(bad) => Err(PurgeError::Tag(bad.chars().take(80).collect())),
                    None => Ok(()),
                }
            }
            (None, Some(prefix)) => {
                let ok = prefix.starts_with('/')
                    && prefix.len() <= 200
                    && !prefix.chars().any(|c| c.is_whitespace() || c.is_control());
                if ok {
                    Ok(())
                } else {
                    Err(PurgeError::Prefix)
                }
            }
            (None, None) => Ok(()),
        }
    }
}
