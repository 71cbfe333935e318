//! The audit log: every write records who did what, when, with the object before and
//! after, chained by hash (core/src/audit.rs) in the same transaction as the write.

pub mod api;
mod verify;

pub use api::list_audit;
pub use verify::{verify_chain, VerifyReport};

use serde::Serialize;
use sqlx::AnyConnection;
use tollgate_core::audit::{chain_hash, AuditEntry};

pub use crate::tenancy::Actor;

/// One change to record.
pub struct Change<'a> {
    /// e.g. `api.create`, `key.revoke`.
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// JSON of a value for `Change::before`/`after` (never secrets: callers pass views).
pub fn snapshot_of(value: &impl Serialize) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// Appends `change` to the chain. Call inside the transaction that makes the change, so
/// both land or neither does.
pub async fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    at_ms: i64,
    change: Change<'_>,
) -> Result<(), sqlx::Error> {
    // Taking the next seq from the head row also locks it until commit, so concurrent
    // writers queue up instead of forking the chain.
    let (seq, prev_hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *conn)
            .await?;
    let entry = AuditEntry {
        seq: seq as u64,
        at_ms,
        actor: actor.who.clone(),
        action: change.action.to_owned(),
        target_type: change.target_type.to_owned(),
        target_id: change.target_id.to_owned(),
        before: change.before.map(|v| v.to_string()),
        after: change.after.map(|v| v.to_string()),
    };
    let hash = chain_hash(&prev_hash, &entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at_ms, actor, action, target_type, target_id, before_json, after_json, prev_hash, hash, org_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(at_ms)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target_type)
    .bind(&entry.target_id)
    .bind(entry.before.as_deref())
    .bind(entry.after.as_deref())
    .bind(&prev_hash)
    .bind(&hash)
    .bind(actor.org_id())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
