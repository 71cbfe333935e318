//! The config snapshot the origin publishes and the edge routes by, and the key record
//! the origin answers a key look-up with. Both cross the edge↔origin boundary as JSON.

use crate::{ApiId, ConsumerId, KeyHash, KeyId, PlanId, VersionRoute};
use serde::{Deserialize, Serialize};

/// Everything the edge needs to route and authorise, versioned so the edge can ask
/// "changed since version N?" with an ETag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigSnapshot {
    /// Increases on every change that affects the edge (including revocations).
    pub version: u64,
    pub apis: Vec<ApiRoute>,
    /// Hashes of keys revoked recently (the delta feed): the edge drops them from its
    /// caches on the next refresh, so a revoked key stops within the refresh window even
    /// when it is cached in the isolate or in KV.
    #[serde(default)]
    pub revoked: Vec<KeyHash>,
    /// Versions of the APIs above (drafts included, so their `/v{major}` is a 404); absent
    /// when no API has versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionRoute>,
    /// Each plan's rate limits and quotas (absent in snapshots from before limits).
    #[serde(default)]
    pub plans: Vec<crate::limits::PlanLimits>,
    /// Limits set on one API or on all of them.
    #[serde(default)]
    pub limits: Vec<crate::limits::ScopedLimit>,
    /// Per-API load-shedding rules.
    #[serde(default)]
    pub shedding: Vec<crate::shed::ShedRule>,
    /// What each plan with restrictions or features allows (plans without any are absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<crate::entitlement::PlanEntitlements>,
    /// Subscriptions whose plan changed or that ended recently (the delta feed the edge
    /// lays over key records it has cached).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<crate::subscription::SubscriptionChange>,
}

impl ConfigSnapshot {
    /// The ETag that names this version.
    pub fn etag(&self) -> String {
        etag_for_version(self.version)
    }
}

/// The ETag for a snapshot version.
pub fn etag_for_version(version: u64) -> String {
    format!("\"v{version}\"")
}

/// One API as the edge sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRoute {
    pub id: ApiId,
    pub name: String,
    /// Path prefix at the edge, e.g. `/weather` (no trailing slash; `/` is not allowed).
    pub base_path: String,
    /// Where requests go, e.g. `http://127.0.0.1:9090/v1`.
    pub upstream_url: String,
    #[serde(default)]
    pub auth: AuthPolicy,
    /// Headers the edge sets on every upstream request (e.g. the upstream's own
    /// credential), replacing any the client sent under the same name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstream_headers: Vec<UpstreamHeader>,
    /// Transforms and protections (absent: none, and in snapshots from before policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Box<crate::policy::ApiPolicies>>,
}

/// One header the edge adds towards the upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamHeader {
    pub name: String,
    pub value: String,
}

/// How callers of an API authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum AuthPolicy {
    /// A tollgate API key in `Authorization: Bearer` or `X-API-Key`.
    #[default]
    Key,
    /// No authentication: a public pass-through route.
    None,
    /// A JWT verified against a JWKS.
    Jwt {
        jwks_url: String,
        issuer: String,
        audience: String,
    },
}

/// Whether a key may still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Revoked,
}

/// What the origin knows about one key, found by its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key_id: KeyId,
    pub key_hash: KeyHash,
    pub consumer_id: ConsumerId,
    pub api_id: ApiId,
    #[serde(default)]
    pub plan_id: Option<PlanId>,
    pub status: KeyStatus,
    /// Unix milliseconds after which the key no longer works.
    #[serde(default)]
    pub expires_at_ms: Option<u64>,
    /// Keys rotated from one another share an identity, so limits and quotas count them
    /// as one caller; `None` for records from before identities existed (use the key id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// What the key may do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The subscription the key belongs to (keys issued without one have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Unix ms when the subscription ends (or ended): its keys stop working then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_ends_at_ms: Option<u64>,
}

impl KeyRecord {
    /// The caller identity limits and quotas are counted against.
    pub fn identity(&self) -> &str {
        self.identity.as_deref().unwrap_or(self.key_id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_from_before_limits_still_parse() {
        let old = r#"{"version":3,"apis":[],"revoked":[]}"#;
        let snapshot: ConfigSnapshot = serde_json::from_str(old).unwrap();
        assert!(snapshot.plans.is_empty() && snapshot.limits.is_empty());
        assert!(snapshot.shedding.is_empty() && snapshot.entitlements.is_empty());
        assert!(snapshot.subscriptions.is_empty());
    }
}
