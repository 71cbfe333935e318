//! Outgoing webhooks: endpoints an organisation registers to receive its audit events
//! (key issued, subscription canceled, …), signed with a per-endpoint secret kept sealed in
//! the vault, delivered in order and at least once by a background task.

pub mod delivery;
pub mod endpoints;

use crate::vault::SecretOwner;

/// The vault name of an endpoint's current signing secret.
pub fn current_secret(id: &str) -> SecretOwner<'_> {
    SecretOwner::new("webhook", id, "signing_secret")
}

/// The vault name of the secret an endpoint signed with before its last rotation.
pub fn previous_secret(id: &str) -> SecretOwner<'_> {
    SecretOwner::new("webhook", id, "previous_signing_secret")
}
