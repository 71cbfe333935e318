//! Signing key administration (platform operator only): list the keys with their status
//! and rotate — a new key signs from now on, the previous one stays published for the
//! longest token lifetime plus a margin. `tollgate oauth rotate-keys` does the same.

use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::core_schemas::ProblemDoc;
use crate::db::Db;
use crate::error::AppError;
use crate::oauth::signing::{all_keys, insert_new_key, retire_others, KeyRow};
use crate::routes::AppState;
use crate::vault::MasterKeyring;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::oauth::{SigningKeyStatus, ROTATION_OVERLAP_SECS};
use utoipa::ToSchema;

/// A signing key as listed (public information only).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SigningKeyView {
    pub kid: String,
    /// `ES256`.
    pub alg: String,
    /// `active` (signs and is published), `retiring` (published so its tokens verify)
    /// or `retired` (gone from the JWKS).
    #[schema(pattern = "^(active|retiring|retired)$")]
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    pub activated_at: String,
    pub retired_at: Option<String>,
    /// When a retired key leaves the JWKS.
    pub published_until: Option<String>,
}

/// What a rotation did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Rotation {
    /// The key that signs from now on.
    pub kid: String,
    /// Keys that stopped signing; published for `overlap_secs` more.
    pub retired: Vec<String>,
    pub overlap_secs: u64,
}

fn view(row: &KeyRow, now: i64) -> SigningKeyView {
    let status = match row.status(now) {
        SigningKeyStatus::Active => "active",
        SigningKeyStatus::Retiring => "retiring",
        SigningKeyStatus::Retired => "retired",
    };
    SigningKeyView {
        kid: row.kid.clone(),
        alg: row.alg.clone(),
        status: status.into(),
        created_at: format_rfc3339(row.created_at),
        activated_at: format_rfc3339(row.activated_at),
        retired_at: row.retired_at.map(format_rfc3339),
        published_until: row
            .retired_at
            .map(|at| format_rfc3339(at.saturating_add(ROTATION_OVERLAP_SECS as i64 * 1000))),
    }
}

/// Mints a new active key and retires the others, recording who did it.
pub async fn rotate_keys(
    db: &Db,
    keys: &MasterKeyring,
    actor: &Actor,
) -> Result<Rotation, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(db).await?;
    let kid = insert_new_key(&mut tx, keys, now).await?;
    let retired = retire_others(&mut tx, &kid, now).await?;
    let change = audit::Change {
        action: "oauth_signing_key.rotate",
        target_type: "oauth_signing_key",
        target_id: &kid,
        before: Some(serde_json::json!({ "active": retired })),
        after: Some(serde_json::json!({ "active": [kid], "overlap_secs": ROTATION_OVERLAP_SECS })),
    };
    audit::record(&mut tx, actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(%kid, ?retired, "OAuth signing keys rotated");
    Ok(Rotation {
        kid,
        retired,
        overlap_secs: ROTATION_OVERLAP_SECS,
    })
}

/// Lists the signing keys, newest first.
#[utoipa::path(
    get,
    path = "/admin/v1/oauth/signing-keys",
    tag = "oauth",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Every signing key with its status", body = Vec<SigningKeyView>),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_signing_keys(
    State(state): State<AppState>,
) -> Result<axum::Json<Vec<SigningKeyView>>, AppError> {
    let now = now_ms();
    let mut rows = all_keys(&state.db).await?;
    rows.reverse();
    Ok(axum::Json(rows.iter().map(|r| view(r, now)).collect()))
}

/// Rotates the signing keys.
#[utoipa::path(
    post,
    path = "/admin/v1/oauth/signing-keys/rotate",
    tag = "oauth",
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "A new key signs; the old ones stay published for the overlap", body = Rotation),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn rotate_signing_keys(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<(StatusCode, axum::Json<Rotation>), AppError> {
    let rotation = rotate_keys(&state.db, &state.master_keys, &actor).await?;
    Ok((StatusCode::CREATED, axum::Json(rotation)))
}
