//! The `secrets` table: sealed values by owner and name, and re-sealing them all under a
//! new primary master key (`tollgate secrets rotate`).

use super::{open, seal, sealed_key_id, MasterKeyring, VaultError};
use sqlx::{Any, AnyConnection, Executor};

/// Whose secret it is, e.g. `SecretOwner::new("api", id, "upstream_auth")`.
pub struct SecretOwner<'a> {
    pub owner_type: &'a str,
    pub owner_id: &'a str,
    pub name: &'a str,
}

impl<'a> SecretOwner<'a> {
    /// Names a secret.
    pub fn new(owner_type: &'a str, owner_id: &'a str, name: &'a str) -> SecretOwner<'a> {
        SecretOwner {
            owner_type,
            owner_id,
            name,
        }
    }

    /// The associated data binding the sealed value to this owner.
    fn aad(&self) -> String {
        format!("{}:{}:{}", self.owner_type, self.owner_id, self.name)
    }
}

/// Stores (or replaces) a secret, sealed.
pub async fn put_secret(
    conn: &mut AnyConnection,
    keys: &MasterKeyring,
    owner: &SecretOwner<'_>,
    plaintext: &[u8],
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let sealed = seal(keys, &owner.aad(), plaintext);
    sqlx::query("DELETE FROM secrets WHERE owner_type = $1 AND owner_id = $2 AND name = $3")
        .bind(owner.owner_type)
        .bind(owner.owner_id)
        .bind(owner.name)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO secrets (owner_type, owner_id, name, sealed, key_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(owner.owner_type)
    .bind(owner.owner_id)
    .bind(owner.name)
    .bind(&sealed)
    .bind(keys.primary().id())
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Reads and opens a secret; `Ok(None)` when there is none.
pub async fn open_secret<'e>(
    db: impl Executor<'e, Database = Any>,
    keys: &MasterKeyring,
    owner: &SecretOwner<'_>,
) -> Result<Option<Result<Vec<u8>, VaultError>>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT sealed FROM secrets WHERE owner_type = $1 AND owner_id = $2 AND name = $3",
    )
    .bind(owner.owner_type)
    .bind(owner.owner_id)
    .bind(owner.name)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(sealed,)| open(keys, &owner.aad(), &sealed)))
}

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub resealed: u64,
    pub already_current: u64,
}

/// Re-seals every secret not yet under the primary key, each in its own transaction so a
/// crash leaves every row readable with one of the configured keys.
pub async fn rotate_secrets(
    db: &sqlx::AnyPool,
    keys: &MasterKeyring,
) -> anyhow::Result<RotationReport> {
    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT owner_type, owner_id, name, sealed FROM secrets ORDER BY owner_type, owner_id, name")
            .fetch_all(db)
            .await?;
    let mut report = RotationReport::default();
    for (owner_type, owner_id, name, sealed) in rows {
        if sealed_key_id(&sealed) == Some(keys.primary().id()) {
            report.already_current += 1;
            continue;
        }
        let owner = SecretOwner::new(&owner_type, &owner_id, &name);
        let plaintext = open(keys, &owner.aad(), &sealed)
            .map_err(|e| anyhow::anyhow!("secret {owner_type}/{owner_id}/{name}: {e}"))?;
        let mut tx = crate::db::begin(db).await?;
        put_secret(&mut tx, keys, &owner, &plaintext, crate::clock::now_ms()).await?;
        tx.commit().await?;
        report.resealed += 1;
    }
    Ok(report)
}
