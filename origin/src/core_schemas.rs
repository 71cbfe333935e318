//! OpenAPI schemas for the `tollgate-core` types the origin sends over the wire.
//!
//! core stays free of documentation dependencies (it also builds for wasm32), so these
//! mirrors describe its JSON here; the tests below serialise the real types and check
//! the mirrors name exactly the same members, so the document cannot drift from them.
#![allow(dead_code)] // the mirrors exist for their schemas and are never built

use utoipa::ToSchema;

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDoc {
    /// Stable URI naming the kind of problem, e.g. `https://tollgate.dev/problems/not-found`.
    #[schema(rename = "type")]
    type_uri: String,
    title: String,
    status: u16,
    /// What went wrong and what to do next.
    detail: String,
    /// The request member at fault, for 422 answers.
    field: Option<String>,
    /// Seconds after which retrying may succeed.
    retry_after: Option<u64>,
}

/// How callers of an API authenticate: `{"type":"key"}` (default), `{"type":"none"}`,
/// `{"type":"jwt","jwks_url","issuer","audience"}` or `{"type":"mtls"}`.
#[derive(ToSchema)]
#[schema(as = AuthPolicy)]
pub struct AuthPolicyDoc {
    /// `key`, `none`, `jwt` or `mtls`.
    #[schema(rename = "type", pattern = "^(key|none|jwt|mtls)$")]
    kind: String,
    /// For `jwt`: where the signing keys are published.
    jwks_url: Option<String>,
    /// For `jwt`: the required `iss`.
    issuer: Option<String>,
    /// For `jwt`: the required `aud`.
    audience: Option<String>,
    /// For `jwt`: clock skew allowed on `exp`, `nbf`, `iat` (seconds, default 60).
    #[schema(minimum = 0, maximum = 3600)]
    leeway_secs: Option<u64>,
    /// For `jwt`: claims every token must carry.
    required_claims: Option<Vec<String>>,
    /// For `jwt`: the claim naming the consumer (default `sub`).
    consumer_claim: Option<String>,
    /// For `jwt`: operations (`METHOD /path/{param}`) only tokens with the scope may call.
    scopes: Option<Vec<ScopeRuleDoc>>,
}

/// The operations one token scope guards.
#[derive(ToSchema)]
#[schema(as = ScopeRule)]
pub struct ScopeRuleDoc {
    scope: String,
    operations: Vec<String>,
}

/// One API as the edge routes it.
#[derive(ToSchema)]
#[schema(as = ApiRoute)]
pub struct ApiRouteDoc {
    id: String,
    name: String,
    base_path: String,
    upstream_url: String,
    auth: AuthPolicyDoc,
    /// The API's transforms and protections (`ApiPolicies`), when it has any.
    #[schema(value_type = Option<Object>)]
    policies: Option<()>,
}

/// Everything the edge needs to route and authorise, versioned.
#[derive(ToSchema)]
#[schema(as = ConfigSnapshot)]
pub struct ConfigSnapshotDoc {
    /// Increases on every change the edge must see.
    version: u64,
    apis: Vec<ApiRouteDoc>,
    /// SHA-256 hashes of keys revoked in the last 24 hours.
    revoked: Vec<String>,
    /// Versions of the APIs (omitted when there are none).
    versions: Vec<VersionRouteDoc>,
    /// Each plan's limits: `{"plan_id","policies":[LimitPolicy…]}` (see core `limits`).
    #[schema(value_type = Vec<Object>)]
    plans: Vec<()>,
    /// Limits set on APIs: `{"api_id","policy"}`.
    #[schema(value_type = Vec<Object>)]
    limits: Vec<()>,
    /// Load-shedding rules: `{"api_id","policy"}`.
    #[schema(value_type = Vec<Object>)]
    shedding: Vec<()>,
    /// Plans' entitlements: `{"plan_id","name","apis"?,"versions"?,"operations"?,"features"?}`.
    #[schema(value_type = Vec<Object>)]
    entitlements: Vec<()>,
    /// Subscriptions changed in the last 24 hours: `{"id","plan_id","ends_at_ms"?}`.
    #[schema(value_type = Vec<Object>)]
    subscriptions: Vec<()>,
    /// OAuth client ids revoked in the last 24 hours (their tokens are refused).
    revoked_oauth_clients: Option<Vec<String>>,
    /// Request validation per API version (omitted when no API has it on):
    /// `{"api_id","version"?,"requests","responses","max_body_bytes","spec"}`.
    #[schema(value_type = Vec<Object>)]
    validation: Vec<()>,
    /// Response-caching policies: `{"api_id","generation","policy"}` (see core `cache`).
    #[schema(value_type = Vec<Object>)]
    cache: Vec<()>,
    /// Cache purges of the last 24 hours: `{"api_id","tag"?,"prefix"?,"at_ms"}`.
    #[schema(value_type = Vec<Object>)]
    cache_purges: Vec<()>,
}

/// One version of an API as the edge routes it (`{base_path}/v{major}`).
#[derive(ToSchema)]
#[schema(as = VersionRoute)]
pub struct VersionRouteDoc {
    api_id: String,
    /// Semantic version.
    version: String,
    /// `draft`, `published`, `deprecated` or `retired`.
    #[schema(pattern = "^(draft|published|deprecated|retired)$")]
    status: String,
    upstream_url: Option<String>,
    /// Unix seconds (the `Deprecation` header).
    deprecated_at: Option<u64>,
    /// Unix seconds (the `Sunset` header).
    sunset_at: Option<u64>,
    /// The migration guide (`Link: <…>; rel="deprecation"`).
    migration_url: Option<String>,
}

/// What the origin knows about one key, found by its hash.
#[derive(ToSchema)]
#[schema(as = KeyRecord)]
pub struct KeyRecordDoc {
    key_id: String,
    key_hash: String,
    consumer_id: String,
    api_id: String,
    plan_id: Option<String>,
    /// `active` or `revoked`.
    #[schema(pattern = "^(active|revoked)$")]
    status: String,
    /// Unix milliseconds after which the key no longer works.
    expires_at_ms: Option<u64>,
    /// Shared by keys rotated from one another; limits count per identity.
    identity: Option<String>,
    /// What the key may do.
    scopes: Option<Vec<String>>,
    /// The subscription the key belongs to.
    subscription_id: Option<String>,
    /// Unix milliseconds when the subscription ends (or ended).
    subscription_ends_at_ms: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use tollgate_core::{ApiId, ApiKey, ApiRoute, AuthPolicy, ConfigSnapshot, ConsumerId, KeyId};
    use tollgate_core::{KeyRecord, KeyStatus, PlanId, Problem, ProblemKind};
    use tollgate_core::{VersionRoute, VersionStatus};
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    use utoipa::PartialSchema;

    fn schema_members<T: PartialSchema>() -> BTreeSet<String> {
        match T::schema() {
            RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
            _ => panic!("not an object schema"),
        }
    }

    fn json_members(value: impl serde::Serialize) -> BTreeSet<String> {
        match serde_json::to_value(value).unwrap() {
            serde_json::Value::Object(map) => map.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn mirrors_name_the_members_core_sends() {
        let problem = Problem::new(ProblemKind::RateLimited, "slow down")
            .with_field("f")
            .with_retry_after(1);
        assert_eq!(schema_members::<ProblemDoc>(), json_members(&problem));
        let jwt = AuthPolicy::Jwt {
            jwks_url: "u".into(),
            issuer: "i".into(),
            audience: "a".into(),
            leeway_secs: 30,
            required_claims: vec!["jti".into()],
            consumer_claim: "client_id".into(),
            scopes: vec![tollgate_core::jwt::scopes::ScopeRule {
                scope: "pets:read".into(),
                operations: vec!["GET /pets".into()],
            }],
        };
        assert_eq!(schema_members::<AuthPolicyDoc>(), json_members(&jwt));
        let route = ApiRoute {
            id: ApiId::from("api_1"),
            name: "n".into(),
            base_path: "/n".into(),
            upstream_url: "http://u".into(),
            auth: AuthPolicy::Key,
            upstream_headers: Vec::new(),
            policies: Some(Box::default()),
        };
        assert_eq!(schema_members::<ApiRouteDoc>(), json_members(&route));
        let hash = ApiKey::generate(|| 7).hash();
        let version = VersionRoute {
            api_id: ApiId::from("api_1"),
            version: "1.0.0".into(),
            status: VersionStatus::Deprecated,
            upstream_url: Some("http://v1".into()),
            deprecated_at: Some(1),
            sunset_at: Some(2),
            migration_url: Some("https://docs".into()),
        };
        assert_eq!(schema_members::<VersionRouteDoc>(), json_members(&version));
        let snapshot = ConfigSnapshot {
            version: 1,
            apis: vec![route],
            revoked: vec![hash.clone()],
            versions: vec![version],
            plans: vec![],
            limits: vec![],
            shedding: vec![],
            entitlements: vec![serde_json::from_str(r#"{"plan_id":"p","name":"P"}"#).unwrap()],
            subscriptions: vec![serde_json::from_str(r#"{"id":"s","plan_id":"p"}"#).unwrap()],
            revoked_oauth_clients: vec!["tgc_1".into()],
            validation: vec![serde_json::from_str(
                r#"{"api_id":"a","requests":"enforce","max_body_bytes":1,"spec":{"operations":[],"schemas":[]}}"#,
            )
            .unwrap()],
            cache: vec![serde_json::from_str(
                r#"{"api_id":"a","generation":0,"policy":{"enabled":true,"default_ttl_secs":1,"max_ttl_secs":1}}"#,
            )
            .unwrap()],
            cache_purges: vec![serde_json::from_str(r#"{"api_id":"a","at_ms":1}"#).unwrap()],
        };
        assert_eq!(
            schema_members::<ConfigSnapshotDoc>(),
            json_members(&snapshot)
        );
        let record = KeyRecord {
            key_id: KeyId::from("key_1"),
            key_hash: hash,
            consumer_id: ConsumerId::from("con_1"),
            api_id: ApiId::from("api_1"),
            plan_id: Some(PlanId::from("plan_1")),
            status: KeyStatus::Active,
            expires_at_ms: Some(1),
            identity: Some("key_1".into()),
            scopes: vec!["read".into()],
            subscription_id: Some("sub_1".into()),
            subscription_ends_at_ms: Some(2),
        };
        assert_eq!(schema_members::<KeyRecordDoc>(), json_members(&record));
    }
}
