//! Group commit of usage batches. On SQLite (one writer, see `ledger`) the batches that
//! arrive while a transaction is being written wait in a queue, and the next transaction
//! takes all of them at once: one commit (one WAL sync) and one pass over the ledger's
//! index pages serve many batches, so batches of 100 cost little more per event than
//! batches of 1,000. Each batch is answered only after the transaction holding its events
//! committed; if it fails, every batch in it gets the error and the edge retries them.
//! PostgreSQL writes each batch in the request's own transaction, in parallel.

use super::ledger::Ledger;
use super::store::{
    insert_events, last_ledger_rowid, pending_from_ledger, pending_from_ledger_ids, NewEvent,
};
use crate::clock::now_ms;
use crate::error::AppError;
use std::collections::HashMap;
use std::sync::Weak;
use tokio::sync::{mpsc, oneshot};

/// Most events one group transaction takes (several batches of 1,000).
const GROUP_EVENTS: usize = 8_000;
/// Batches that may wait for the writer before senders wait too.
const QUEUE_BATCHES: usize = 64;

/// One batch waiting for its transaction.
struct Job {
    events: Vec<NewEvent>,
    /// How many of its events were new, or why the transaction failed.
    reply: oneshot::Sender<Result<usize, String>>,
}

/// The queue of batches in front of the SQLite writer.
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writer task of `ledger`.
    pub fn spawn(ledger: Weak<Ledger>) -> GroupCommit {
        let (jobs, rx) = mpsc::channel(QUEUE_BATCHES);
        tokio::spawn(run(ledger, rx));
        GroupCommit { jobs }
    }

    /// Queues a batch and waits until it is committed; how many events were new.
    pub async fn record(&self, events: Vec<NewEvent>) -> Result<usize, AppError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || AppError::Unavailable(anyhow::anyhow!("the usage writer has stopped"));
        self.jobs
            .send(Job { events, reply })
            .await
            .map_err(|_| stopped())?;
        match answer.await.map_err(|_| stopped())? {
            Ok(n) => Ok(n),
            Err(reason) => Err(AppError::Unavailable(anyhow::anyhow!(
                "recording usage events failed: {reason}"
            ))),
        }
    }
}

async fn run(ledger: Weak<Ledger>, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let Some(ledger) = ledger.upgrade() else {
            return;
        };
        let mut size = first.events.len();
        let mut group = vec![first];
        while size < GROUP_EVENTS {
            match rx.try_recv() {
                Ok(job) => {
                    size += job.events.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        let batches: Vec<&[NewEvent]> = group.iter().map(|j| j.events.as_slice()).collect();
        let outcome = write_batches(&ledger, &batches).await;
        drop(batches);
        match outcome {
            Ok(counts) => {
                if counts.iter().any(|n| *n > 0) {
                    ledger.wake();
                }
                for (job, n) in group.into_iter().zip(counts) {
                    let _ = job.reply.send(Ok(n));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, batches = group.len(), "recording usage events failed");
                for job in group {
                    let _ = job.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// Writes the batches in one transaction: ledger rows (`ON CONFLICT DO NOTHING`) and, for
/// the events that were new, pending rows copied from their ledger rows. An id sent twice counts for the first batch
/// that carries it. Returns how many events of each batch were new.
pub async fn write_batches(
    ledger: &Ledger,
    batches: &[&[NewEvent]],
) -> Result<Vec<usize>, sqlx::Error> {
    let mut owner: HashMap<&str, usize> = HashMap::new();
    let mut unique: Vec<&NewEvent> = Vec::new();
    for (b, events) in batches.iter().enumerate() {
        for e in events.iter() {
            if let std::collections::hash_map::Entry::Vacant(slot) = owner.entry(e.id()) {
                slot.insert(b);
                unique.push(e);
            }
        }
    }
    // Sorted, so concurrent PostgreSQL transactions lock ledger rows in one order.
    unique.sort_by(|a, b| a.id().cmp(b.id()));
    let mut conn = ledger.connection().await?;
    let mut tx = conn.begin().await?;
    // SQLite: this transaction holds the only write lock, so its new ledger rows are the
    // ones past the largest rowid now.
    let sqlite = tx.backend_name() == "SQLite";
    let before = if sqlite {
        last_ledger_rowid(&mut tx).await?
    } else {
        0
    };
    let inserted = insert_events(&mut tx, &unique, now_ms()).await?;
    let new: Vec<&NewEvent> = unique
        .into_iter()
        .filter(|e| inserted.contains(e.id()))
        .collect();
    if sqlite {
        pending_from_ledger(&mut tx, before).await?;
    } else {
        let ids: Vec<&str> = new.iter().map(|e| e.id()).collect();
        pending_from_ledger_ids(&mut tx, &ids).await?;
    }
    tx.commit().await?;
    let mut counts = vec![0; batches.len()];
    for e in &new {
        counts[owner[e.id()]] += 1;
    }
    Ok(counts)
}
