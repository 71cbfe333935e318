//! The catalog's version counter: one row, bumped in the same transaction as every
//! change the edge must see, so a snapshot's ETag names its content exactly.

use sqlx::{Any, Executor};

/// The current version.
pub async fn current<'e>(db: impl Executor<'e, Database = Any>) -> Result<u64, sqlx::Error> {
    let (version,): (i64,) = sqlx::query_as("SELECT version FROM config_version WHERE id = 1")
        .fetch_one(db)
        .await?;
    Ok(u64::try_from(version).unwrap_or(0))
}

/// Increments the version; call inside the transaction that makes the change.
pub async fn bump<'e>(db: impl Executor<'e, Database = Any>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE config_version SET version = version + 1 WHERE id = 1")
        .execute(db)
        .await?;
    Ok(())
}
