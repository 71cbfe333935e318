//! The database: one `AnyPool` over SQLite or PostgreSQL, chosen by URL, migrated at
//! start. Queries use `$N` placeholders and portable types only, so the same SQL runs
//! on both.

use anyhow::Context;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::time::Duration;

/// The migrations in `/migrations`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The pool every handler shares.
pub type Db = AnyPool;

/// Connects, applies SQLite settings and runs pending migrations.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let sqlite = is_sqlite(url);
    let url = if sqlite {
        prepare_sqlite(url)?
    } else {
        url.to_owned()
    };
    let pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 4 } else { 10 })
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if sqlite {
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .context("connecting to the database (TOLLGATE_DATABASE_URL)")?;
    if sqlite {
        // Persistent per database file: readers no longer block the writer.
        pool.execute("PRAGMA journal_mode = WAL")
            .await
            .context("enabling SQLite WAL mode")?;
    }
    MIGRATOR
        .run(&pool)
        .await
        .context("running database migrations")?;
    Ok(pool)
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`, taking the
/// write lock up front: a deferred transaction that reads and then writes fails at once
/// with SQLITE_BUSY when another connection wrote in between (the busy timeout does not
/// apply to that upgrade), so concurrent writers (the webhook task, parallel admin calls)
/// would see spurious 500s. PostgreSQL's row locks need no such care.
pub async fn begin(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    if is_sqlite_pool(db) {
        db.begin_with("BEGIN IMMEDIATE").await
    } else {
        db.begin().await
    }
}

/// Whether the pool is over SQLite.
pub fn is_sqlite_pool(db: &Db) -> bool {
    db.connect_options().database_url.scheme() == "sqlite"
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Creates the database file's directory and asks SQLite to create the file
/// (`mode=rwc`) unless the URL already says otherwise.
fn prepare_sqlite(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_owned());
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(match query {
        "" => format!("{url}?mode=rwc"),
        q if q.split('&').any(|p| p.starts_with("mode=")) => url.to_owned(),
        _ => format!("{url}&mode=rwc"),
    })
}

/// Whether the database answers at all.
pub async fn ping(db: &Db) -> Result<(), sqlx::Error> {
    db.execute("SELECT 1").await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode_and_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a").join("b.db");
        let url = format!("sqlite://{}", file.display());
        assert_eq!(prepare_sqlite(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(file.parent().unwrap().is_dir());
        assert_eq!(
            prepare_sqlite(&format!("{url}?mode=ro")).unwrap(),
            format!("{url}?mode=ro")
        );
        assert_eq!(
            prepare_sqlite(&format!("{url}?cache=shared")).unwrap(),
            format!("{url}?cache=shared&mode=rwc")
        );
        assert_eq!(
            prepare_sqlite("sqlite::memory:").unwrap(),
            "sqlite::memory:"
        );
    }

    #[tokio::test]
    async fn a_fresh_sqlite_file_is_created_migrated_and_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let db = connect(&url).await.unwrap();
        ping(&db).await.unwrap();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let (version,): (i64,) = sqlx::query_as("SELECT version FROM config_version")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(version, 1);
    }
}
