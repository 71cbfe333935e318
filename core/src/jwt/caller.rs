//! The caller a verified token names, and the `KeyRecord` it stands in for, so plan
//! limits, entitlements and subscription checks run unchanged for JWT callers.

use crate::{ApiId, ConsumerId, KeyHash, KeyId, KeyRecord, KeyStatus, PlanId};
use sha2::{Digest, Sha256};

/// Who a verified token says is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtCaller {
    pub issuer: String,
    pub subject: String,
    /// From the API's consumer claim (`sub` by default).
    pub consumer_id: String,
    /// From `scope` (space-separated) or `scp` (array), sorted.
    pub scopes: Vec<String>,
    /// tollgate's `tg_plan` claim.
    pub plan_id: Option<String>,
    /// tollgate's `tg_sub` claim.
    pub subscription_id: Option<String>,
    /// The OAuth client the token was issued to (`client_id`), if any.
    pub client_id: Option<String>,
    /// `exp`, unix seconds.
    pub expires_at_secs: u64,
}

impl JwtCaller {
    /// The identity limits and quotas count: one per issuer and subject.
    pub fn identity(&self) -> String {
        format!("jwt:{}:{}", self.issuer, self.subject)
    }

    /// Whether the token was issued to an OAuth client revoked since: its outstanding
    /// tokens stop at once instead of living out their lifetime.
    pub fn client_revoked(&self, revoked: &std::collections::HashSet<String>) -> bool {
        self.client_id.as_ref().is_some_and(|c| revoked.contains(c))
    }

    /// The key record this caller stands in for on `api_id`.
    pub fn to_key_record(&self, api_id: &ApiId) -> KeyRecord {
        let identity = self.identity();
        let digest = hex::encode(Sha256::digest(identity.as_bytes()));
        KeyRecord {
            key_id: KeyId(format!("jwt_{}", &digest[..32])),
            key_hash: KeyHash::parse(&digest).unwrap_or_else(|| unreachable!("sha-256 hex")),
            consumer_id: ConsumerId(self.consumer_id.clone()),
            api_id: api_id.clone(),
            plan_id: self.plan_id.as_deref().map(PlanId::from),
            status: KeyStatus::Active,
            expires_at_ms: Some(self.expires_at_secs.saturating_mul(1_000)),
            identity: Some(identity),
            scopes: self.scopes.clone(),
            subscription_id: self.subscription_id.clone(),
            subscription_ends_at_ms: None,
        }
    }
}
