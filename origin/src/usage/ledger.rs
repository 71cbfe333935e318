//! The usage ledger's write side, one per database: where ingestion and folds get the
//! connection they write with, the one-fold-at-a-time turn, and the background folder's
//! wake-up. On SQLite every usage write goes through one dedicated connection: SQLite
//! empties a connection's page cache whenever another connection has written, so writes
//! spread over a pool always start cold (each index insert a read from the OS), and
//! writers waiting on each other sleep in SQLite's busy handler in steps of up to 100 ms
//! instead of queueing here. PostgreSQL writes through the pool.

use super::group_commit::{write_batches, GroupCommit};
use super::store::NewEvent;
use crate::db::Db;
use crate::error::AppError;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, ConnectOptions, Connection, Executor, Transaction};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

/// Page cache of the SQLite writer, in KiB: the ledger's indexes and the hot roll-up pages.
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// WAL pages before the SQLite writer checkpoints (SQLite's default is 1,000): fewer,
/// larger checkpoints copy a page written by many commits once.
const WRITER_CHECKPOINT_PAGES: i64 = 10_000;

/// The usage ledger of one database.
pub struct Ledger {
    db: Db,
    /// SQLite only: the connection every usage write goes through.
    writer: Option<Arc<Mutex<AnyConnection>>>,
    /// SQLite only: the queue of batches in front of the writer.
    group: Option<GroupCommit>,
    /// One fold at a time, so a reader's catch-up is a barrier (see `fold::catch_up`).
    pub(super) folding: Mutex<()>,
    /// Wakes the background folder when events are pending.
    pub(super) wake: Notify,
}

/// A connection to write usage with: the SQLite writer (held exclusively) or one of the
/// pool's.
pub enum WriteConnection {
    Own(OwnedMutexGuard<AnyConnection>),
    Pooled(PoolConnection<Any>),
}

impl Deref for WriteConnection {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            WriteConnection::Own(c) => c,
            WriteConnection::Pooled(c) => c,
        }
    }
}

impl DerefMut for WriteConnection {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            WriteConnection::Own(c) => c,
            WriteConnection::Pooled(c) => c,
        }
    }
}

impl WriteConnection {
    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite, see `db::begin`).
    pub async fn begin(&mut self) -> Result<Transaction<'_, Any>, sqlx::Error> {
        match self {
            WriteConnection::Own(c) => c.begin_with("BEGIN IMMEDIATE").await,
            WriteConnection::Pooled(c) => c.begin().await,
        }
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("single_writer", &self.writer.is_some())
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// The ledger of `db`; on SQLite, opens its writer connection.
    pub async fn open(db: Db) -> Result<Arc<Ledger>, sqlx::Error> {
        let writer = if crate::db::is_sqlite_pool(&db) {
            let mut conn = db.connect_options().connect().await?;
            for pragma in [
                "PRAGMA foreign_keys = ON".to_owned(),
                "PRAGMA busy_timeout = 5000".to_owned(),
                format!("PRAGMA cache_size = -{WRITER_CACHE_KIB}"),
                format!("PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}"),
                // The fold's scratch tables and sorts stay in memory.
                "PRAGMA temp_store = MEMORY".to_owned(),
            ] {
                conn.execute(pragma.as_str()).await?;
            }
            for table in super::fold_sqlite::SCRATCH_TABLES {
                conn.execute(table).await?;
            }
            Some(Arc::new(Mutex::new(conn)))
        } else {
            None
        };
        Ok(Arc::new_cyclic(|me| Ledger {
            db,
            group: writer.as_ref().map(|_| GroupCommit::spawn(me.clone())),
            writer,
            folding: Mutex::new(()),
            wake: Notify::new(),
        }))
    }

    /// Records accepted events (ledger and pending rows) durably; how many were new. An id
    /// already in the ledger, or earlier in `events`, is not counted again.
    pub async fn record(&self, events: Vec<NewEvent>) -> Result<usize, AppError> {
        match &self.group {
            Some(group) => group.record(events).await,
            None => {
                let new = write_batches(self, &[&events]).await?[0];
                if new > 0 {
                    self.wake();
                }
                Ok(new)
            }
        }
    }

    /// The database, for reads.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A connection to write usage with; on SQLite, waits for the writer's turn.
    pub async fn connection(&self) -> Result<WriteConnection, sqlx::Error> {
        match &self.writer {
            Some(w) => Ok(WriteConnection::Own(w.clone().lock_owned().await)),
            None => Ok(WriteConnection::Pooled(self.db.acquire().await?)),
        }
    }

    /// Tells the background folder that events are pending.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}
