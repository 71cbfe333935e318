//! The audit log as a hash chain: each entry's hash covers its content and the previous
//! entry's hash, so editing, removing or reordering any entry breaks every hash after it.
//!
//! Hashes cover the stored text exactly as stored (length-prefixed fields), so verifying
//! needs no canonical JSON and gives the same answer on every database.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// 1, 2, 3, … without gaps.
    pub seq: u64,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// Who: e.g. `admin-token` or a user id.
    pub actor: String,
    /// What: e.g. `api.create`, `key.revoke`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// JSON text of the object before the change (`None` for creations).
    pub before: Option<String>,
    /// JSON text of the object after the change (`None` for deletions).
    pub after: Option<String>,
}

/// The hash of `entry` chained to `prev_hash` (lower-case hex SHA-256).
pub fn chain_hash(prev_hash: &str, entry: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(prev_hash.as_bytes());
    field(&entry.seq.to_be_bytes());
    field(&entry.at_ms.to_be_bytes());
    field(entry.actor.as_bytes());
    field(entry.action.as_bytes());
    field(entry.target_type.as_bytes());
    field(entry.target_id.as_bytes());
    for optional in [&entry.before, &entry.after] {
        match optional {
            // A presence tag keeps "absent" distinct from every possible text.
            None => field(&[0]),
            Some(text) => field(&[&[1u8][..], text.as_bytes()].concat()),
        }
    }
    hex::encode(h.finalize())
}

/// The first problem found in a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq} was edited: its content no longer matches its hash")]
    Edited { seq: u64 },
    #[error("entry {seq} does not follow entry {previous}: entries are missing or out of order")]
    OutOfSequence { seq: u64, previous: u64 },
    #[error("entry {seq} does not chain to the entry before it: an entry was removed, inserted or moved")]
    Unchained { seq: u64 },
    #[error(
        "the log ends at entry {last} but the head records {head}: the newest entries were removed"
    )]
    Truncated { last: u64, head: u64 },
}

/// Walks a chain entry by entry; feed it entries in `seq` order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last_seq: u64,
    last_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next entry with the `prev_hash` and `hash` stored beside it.
    pub fn check(
        &mut self,
        entry: &AuditEntry,
        prev_hash: &str,
        hash: &str,
    ) -> Result<(), ChainBreak> {
        if entry.seq != self.last_seq + 1 {
            return Err(ChainBreak::OutOfSequence {
                seq: entry.seq,
                previous: self.last_seq,
            });
        }
        if chain_hash(prev_hash, entry) != hash {
            return Err(ChainBreak::Edited { seq: entry.seq });
        }
        if prev_hash != self.last_hash {
            return Err(ChainBreak::Unchained { seq: entry.seq });
        }
        self.last_seq = entry.seq;
        self.last_hash = hash.to_owned();
        Ok(())
    }

    /// Ends the walk against the head (last seq and hash) kept apart from the entries.
    pub fn finish(&self, head_seq: u64, head_hash: &str) -> Result<u64, ChainBreak> {
        if head_seq != self.last_seq || head_hash != self.last_hash {
            return Err(ChainBreak::Truncated {
                last: self.last_seq,
                head: head_seq,
            });
        }
        Ok(self.last_seq)
    }

    /// Number of entries verified so far.
    pub fn verified(&self) -> u64 {
        self.last_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> AuditEntry {
        AuditEntry {
            seq,
            at_ms: 1_700_000_000_000 + seq as i64,
            actor: "admin-token".into(),
            action: "api.create".into(),
            target_type: "api".into(),
            target_id: format!("api_{seq}"),
            before: None,
            after: Some(format!("{{\"n\":{seq}}}")),
        }
    }

    fn chain(n: u64) -> Vec<(AuditEntry, String, String)> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let e = entry(seq);
                let h = chain_hash(&prev, &e);
                let row = (e, prev.clone(), h.clone());
                prev = h;
                row
            })
            .collect()
    }

    fn verify(rows: &[(AuditEntry, String, String)], head: (u64, &str)) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for (e, p, h) in rows {
            v.check(e, p, h)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = chain(5);
        let head = rows.last().unwrap().2.clone();
        assert_eq!(verify(&rows, (5, &head)), Ok(5));
        assert_eq!(verify(&[], (0, GENESIS_HASH)), Ok(0));
    }

    #[test]
    fn edits_removals_reorders_and_truncation_are_found() {
        let rows = chain(5);
        let head = rows.last().unwrap().2.clone();

        let mut edited = rows.clone();
        edited[2].0.after = Some("{\"n\":999}".into());
        assert_eq!(
            verify(&edited, (5, &head)),
            Err(ChainBreak::Edited { seq: 3 })
        );

        let mut removed = rows.clone();
        removed.remove(1);
        assert_eq!(
            verify(&removed, (5, &head)),
            Err(ChainBreak::OutOfSequence {
                seq: 3,
                previous: 1
            })
        );

        let mut swapped = rows.clone();
        swapped.swap(1, 2);
        assert!(matches!(
            verify(&swapped, (5, &head)),
            Err(ChainBreak::OutOfSequence { .. })
        ));

        // Removing an entry and renumbering the rest (recomputing their own hashes) still
        // fails: the renumbered entry's prev_hash names the removed one.
        let mut renumbered = rows.clone();
        renumbered.remove(1);
        for (i, row) in renumbered.iter_mut().enumerate().filter(|(i, _)| *i > 0) {
            row.0.seq = i as u64 + 1;
            row.2 = chain_hash(&row.1, &row.0);
        }
        assert_eq!(
            verify(&renumbered, (4, &renumbered[3].2.clone())),
            Err(ChainBreak::Unchained { seq: 2 })
        );

        let truncated = &rows[..3];
        assert_eq!(
            verify(truncated, (5, &head)),
            Err(ChainBreak::Truncated { last: 3, head: 5 })
        );
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let mut a = entry(1);
        a.actor = "ab".into();
        a.action = "c".into();
        let mut b = entry(1);
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(chain_hash(GENESIS_HASH, &a), chain_hash(GENESIS_HASH, &b));
        let mut none = entry(1);
        none.before = None;
        let mut text = entry(1);
        text.before = Some("\u{0}none".into());
        assert_ne!(
            chain_hash(GENESIS_HASH, &none),
            chain_hash(GENESIS_HASH, &text)
        );
    }
}
