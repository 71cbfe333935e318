//! The origin's ES256 signing keys: minted on first use, the private half sealed in the
//! vault (`secrets`, so `tollgate secrets rotate` re-seals it), the public half kept as a
//! JWK whose `kid` is its RFC 7638 thumbprint. Which key signs and which are published is
//! `tollgate_core::oauth::signing_keys`.

use crate::clock::now_ms;
use crate::error::AppError;
use crate::routes::AppState;
use crate::vault::{open_secret, put_secret, MasterKeyring, SecretOwner};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwt_compact::alg::{Es256, SigningKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::Algorithm;
use rand::RngCore;
use serde_json::Value;
use sha2::Sha256;
use sqlx::AnyConnection;
use tollgate_core::oauth::signing_keys::signing_key_index;
use tollgate_core::oauth::{SigningKeyStatus, SigningKeyTimes};

/// The private ES256 key type.
pub type EsSigningKey = <Es256 as Algorithm>::SigningKey;
/// The public ES256 key type.
pub type EsVerifyingKey = <Es256 as Algorithm>::VerifyingKey;

const SECRET_OWNER_TYPE: &str = "oauth_signing_key";
const SECRET_NAME: &str = "private_key";

/// One stored signing key (public parts only).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub activated_at: i64,
    pub retired_at: Option<i64>,
}

impl KeyRow {
    fn times(&self) -> SigningKeyTimes {
        SigningKeyTimes {
            activated_at_ms: self.activated_at,
            retired_at_ms: self.retired_at,
        }
    }

    /// The key's status at `now`.
    pub fn status(&self, now: i64) -> SigningKeyStatus {
        self.times().status(now)
    }
}

/// The key that signs, ready to use.
pub struct Signer {
    pub kid: String,
    pub key: EsSigningKey,
}

/// Every signing key, oldest first.
pub async fn all_keys(db: &crate::db::Db) -> Result<Vec<KeyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kid, alg, public_jwk, created_at, activated_at, retired_at FROM oauth_signing_keys ORDER BY activated_at, kid",
    )
    .fetch_all(db)
    .await
}

/// The public JWKs to publish at `now`, newest first.
pub async fn published_jwks(state: &AppState) -> Result<Vec<Value>, AppError> {
    ensure_signer(state).await?;
    let now = now_ms();
    let mut keys = all_keys(&state.db).await?;
    keys.retain(|k| k.times().is_published(now));
    keys.reverse();
    Ok(keys
        .iter()
        .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
        .collect())
}

/// A fresh random P-256 key (32 random bytes are a valid scalar but with negligible odds).
fn mint_signing_key() -> Result<EsSigningKey, AppError> {
    let mut rng = rand::thread_rng();
    for _ in 0..8 {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        if let Ok(key) = <EsSigningKey as SigningKey<Es256>>::from_slice(&bytes) {
            return Ok(key);
        }
    }
    Err(AppError::Unexpected(anyhow::anyhow!(
        "could not mint a P-256 key"
    )))
}

/// The public JWK of `key` with `kid` (its RFC 7638 thumbprint), `alg` and `use`.
pub fn public_jwk(key: &EsSigningKey) -> (String, Value) {
    let verifying = key.verifying_key();
    let jwk = JsonWebKey::from(verifying);
    let kid = URL_SAFE_NO_PAD.encode(jwk.thumbprint::<Sha256>());
    let mut value = serde_json::to_value(&jwk).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("kid".into(), Value::String(kid.clone()));
        obj.insert("alg".into(), Value::String("ES256".into()));
        obj.insert("use".into(), Value::String("sig".into()));
    }
    (kid, value)
}

/// Mints a key, seals its private half and makes it the active one (the caller's
/// transaction decides whether previous keys retire).
pub async fn insert_new_key(
    conn: &mut AnyConnection,
    keys: &MasterKeyring,
    now: i64,
) -> Result<String, AppError> {
    let key = mint_signing_key()?;
    let (kid, jwk) = public_jwk(&key);
    let owner = SecretOwner::new(SECRET_OWNER_TYPE, &kid, SECRET_NAME);
    put_secret(
        conn,
        keys,
        &owner,
        &SigningKey::<Es256>::as_bytes(&key),
        now,
    )
    .await?;
    sqlx::query(
        "INSERT INTO oauth_signing_keys (kid, alg, public_jwk, created_at, activated_at, retired_at) VALUES ($1, 'ES256', $2, $3, $3, NULL)",
    )
    .bind(&kid)
    .bind(jwk.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(kid)
}

/// Retires every active key but `keep` (their tokens stay verifiable for the overlap).
pub async fn retire_others(
    conn: &mut AnyConnection,
    keep: &str,
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let retiring: Vec<(String,)> =
        sqlx::query_as("SELECT kid FROM oauth_signing_keys WHERE retired_at IS NULL AND kid <> $1")
            .bind(keep)
            .fetch_all(&mut *conn)
            .await?;
    sqlx::query(
        "UPDATE oauth_signing_keys SET retired_at = $1 WHERE retired_at IS NULL AND kid <> $2",
    )
    .bind(now)
    .bind(keep)
    .execute(&mut *conn)
    .await?;
    Ok(retiring.into_iter().map(|(k,)| k).collect())
}

/// The key that signs now, minting the first one when there is none.
pub async fn ensure_signer(state: &AppState) -> Result<Signer, AppError> {
    let now = now_ms();
    let keys = all_keys(&state.db).await?;
    let times: Vec<SigningKeyTimes> = keys.iter().map(KeyRow::times).collect();
    let kid = match signing_key_index(&times, now) {
        Some(i) => keys[i].kid.clone(),
        None => {
            // Two first requests racing both mint a key; both are published and either
            // signs, so the race is harmless.
            let mut tx = crate::db::begin(&state.db).await?;
            let kid = insert_new_key(&mut tx, &state.master_keys, now).await?;
            tx.commit().await?;
            tracing::info!(%kid, "minted the first OAuth signing key");
            kid
        }
    };
    let owner = SecretOwner::new(SECRET_OWNER_TYPE, &kid, SECRET_NAME);
    let raw = open_secret(&state.db, &state.master_keys, &owner)
        .await?
        .ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!(
                "signing key {kid} has no sealed private key"
            ))
        })?
        .map_err(|e| {
            AppError::Unexpected(anyhow::Error::new(e).context("opening the signing key"))
        })?;
    let key = <EsSigningKey as SigningKey<Es256>>::from_slice(&raw)
        .map_err(|e| AppError::Unexpected(e.context("reading the signing key")))?;
    Ok(Signer { kid, key })
}
