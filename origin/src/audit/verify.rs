//! Verifying the whole chain from the database (`tollgate audit verify`), page by page so
//! memory stays flat however long the log is.

use super::api::AuditEntryView;
use crate::clock::format_rfc3339;
use crate::db::Db;
use tollgate_core::audit::{AuditEntry, ChainBreak, ChainVerifier};

pub(super) const SELECT_ENTRIES: &str =
    "SELECT seq, at_ms, actor, action, target_type, target_id, before_json, after_json, prev_hash, hash FROM audit_log";
const PAGE: i64 = 1_000;

#[derive(sqlx::FromRow)]
pub(super) struct AuditRow {
    seq: i64,
    at_ms: i64,
    actor: String,
    action: String,
    target_type: String,
    target_id: String,
    before_json: Option<String>,
    after_json: Option<String>,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    fn entry(&self) -> AuditEntry {
        AuditEntry {
            seq: self.seq.max(0) as u64,
            at_ms: self.at_ms,
            actor: self.actor.clone(),
            action: self.action.clone(),
            target_type: self.target_type.clone(),
            target_id: self.target_id.clone(),
            before: self.before_json.clone(),
            after: self.after_json.clone(),
        }
    }

    pub(super) fn into_view(self) -> AuditEntryView {
        let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        AuditEntryView {
            seq: self.seq,
            at: format_rfc3339(self.at_ms),
            actor: self.actor,
            action: self.action,
            target_type: self.target_type,
            target_id: self.target_id,
            before: parse(self.before_json),
            after: parse(self.after_json),
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

/// What verification found.
#[derive(Debug)]
pub enum VerifyReport {
    /// Every entry checks out.
    Intact { entries: u64 },
    /// The first break, after `verified` good entries.
    Broken { verified: u64, reason: ChainBreak },
}

/// Walks the chain; `progress` is called after each page with the entries checked so far.
pub async fn verify_chain(
    db: &Db,
    mut progress: impl FnMut(u64),
) -> Result<VerifyReport, sqlx::Error> {
    let mut verifier = ChainVerifier::default();
    let mut after = -1_i64;
    loop {
        let rows: Vec<AuditRow> = sqlx::query_as(&format!(
            "{SELECT_ENTRIES} WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after)
        .bind(PAGE)
        .fetch_all(db)
        .await?;
        for row in &rows {
            if let Err(reason) = verifier.check(&row.entry(), &row.prev_hash, &row.hash) {
                return Ok(VerifyReport::Broken {
                    verified: verifier.verified(),
                    reason,
                });
            }
        }
        progress(verifier.verified());
        match rows.last() {
            Some(last) if rows.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(db)
            .await?;
    Ok(match verifier.finish(head_seq.max(0) as u64, &head_hash) {
        Ok(entries) => VerifyReport::Intact { entries },
        Err(reason) => VerifyReport::Broken {
            verified: verifier.verified(),
            reason,
        },
    })
}
