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
    /// OAuth client ids revoked recently: the edge refuses their outstanding access
    /// tokens (`client_id` claim) although the tokens themselves have not expired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_oauth_clients: Vec<String>,
    /// OpenAPI request validation of the APIs that have it on, per live version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation: Vec<crate::validation::ApiValidation>,
    /// Per-API response-caching policies (APIs without one are absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache: Vec<crate::cache::ApiCache>,
    /// Cache purges by tag or path prefix of the last 24 h.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache_purges: Vec<crate::cache::CachePurge>,
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
        /// Clock skew allowed on `exp`, `nbf` and `iat`.
        #[serde(
            default = "default_leeway_secs",
            skip_serializing_if = "is_default_leeway"
        )]
        leeway_secs: u64,
        /// Claims every token must carry.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        required_claims: Vec<String>,
        /// The claim naming the consumer.
        #[serde(
            default = "default_consumer_claim",
            skip_serializing_if = "is_default_consumer_claim"
        )]
        consumer_claim: String,
        /// Operations only tokens with a scope may call.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<crate::jwt::scopes::ScopeRule>,
    },
    /// A client certificate verified by Cloudflare (mTLS), whose SHA-256 fingerprint a
    /// consumer registered (`tollgate_core::mtls`).
    Mtls,
}

/// Default `leeway_secs` of a JWT policy.
pub const DEFAULT_JWT_LEEWAY_SECS: u64 = 60;

fn default_leeway_secs() -> u64 {
    DEFAULT_JWT_LEEWAY_SECS
}

fn default_consumer_claim() -> String {
    "sub".into()
}

fn is_default_leeway(secs: &u64) -> bool {
    *secs == DEFAULT_JWT_LEEWAY_SECS
}

fn is_default_consumer_claim(claim: &str) -> bool {
    claim == "sub"
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
        assert!(snapshot.cache.is_empty() && snapshot.cache_purges.is_empty());
        assert!(snapshot.validation.is_empty());
        assert!(snapshot.revoked_oauth_clients.is_empty());
    }

    #[test]
    fn the_mtls_policy_is_a_plain_type() {
        let policy: AuthPolicy = serde_json::from_str(r#"{"type":"mtls"}"#).unwrap();
        assert_eq!(policy, AuthPolicy::Mtls);
        assert_eq!(
            serde_json::to_string(&policy).unwrap(),
            r#"{"type":"mtls"}"#
        );
    }

    #[test]
    fn a_jwt_policy_of_three_fields_still_parses_with_defaults() {
        let old = r#"{"type":"jwt","jwks_url":"https://idp.example/jwks","issuer":"https://idp.example","audience":"api"}"#;
        let AuthPolicy::Jwt {
            leeway_secs,
            required_claims,
            consumer_claim,
            scopes,
            ..
        } = serde_json::from_str(old).unwrap()
        else {
            panic!("not jwt");
        };
        assert_eq!((leeway_secs, consumer_claim.as_str()), (60, "sub"));
        assert!(required_claims.is_empty() && scopes.is_empty());
        let again: AuthPolicy = serde_json::from_str(old).unwrap();
        assert_eq!(
            serde_json::to_string(&again).unwrap(),
            old,
            "old shape round-trips unchanged"
        );
        let typo = r#"{"type":"jwt","jwks_url":"u","issuer":"i","audience":"a","leway_secs":1}"#;
        assert!(serde_json::from_str::<AuthPolicy>(typo).is_err());
    }
}
