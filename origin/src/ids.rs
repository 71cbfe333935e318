//! Minting identifiers: a type prefix plus a random UUID, e.g. `api_3f2b…`, so an id says
//! what it names in logs and support tickets and cannot be guessed or enumerated.

use tollgate_core::{ApiId, ConsumerId, KeyId, PlanId};
use uuid::Uuid;

/// `<prefix>_<32 hex>` for any kind of object.
pub fn prefixed_id(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::new_v4().simple())
}

/// A fresh API id.
pub fn new_api_id() -> ApiId {
    ApiId(prefixed_id("api"))
}

/// A fresh consumer id.
pub fn new_consumer_id() -> ConsumerId {
    ConsumerId(prefixed_id("con"))
}

/// A fresh key id (not the key).
pub fn new_key_id() -> KeyId {
    KeyId(prefixed_id("key"))
}

/// A fresh plan id.
pub fn new_plan_id() -> PlanId {
    PlanId(prefixed_id("plan"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_type_and_are_unique() {
        let a = new_api_id();
        assert!(a.as_str().starts_with("api_"));
        assert_eq!(a.as_str().len(), 4 + 32);
        assert_ne!(a, new_api_id());
        assert!(new_consumer_id().as_str().starts_with("con_"));
        assert!(new_key_id().as_str().starts_with("key_"));
        assert!(new_plan_id().as_str().starts_with("plan_"));
    }
}
