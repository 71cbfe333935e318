//! Revoking OAuth clients: no new tokens at once, and the client id enters the
//! snapshot's `revoked_oauth_clients` feed (24 hours) so edges refuse its outstanding
//! tokens within the refresh window.

use crate::admin::fields::{self, Table};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::Path;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;

/// Revokes a client: no new tokens, and edges refuse its outstanding ones within the
/// refresh window. Idempotent.
#[utoipa::path(
    delete,
    path = "/admin/v1/oauth/clients/{client_id}",
    tag = "oauth",
    params(("client_id" = String, Path, description = "Client id (`tgc_…`)")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Revoked (or already revoked)"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No client has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_client(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(client_id): Path<String>,
) -> Result<StatusCode, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let done = sqlx::query(
        "UPDATE oauth_clients SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(&client_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 0 {
        let known = fields::exists(&mut *tx, Table::OauthClients, &client_id).await?;
        tx.rollback().await?;
        return if known {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(AppError::NotFound {
                what: "OAuth client",
                id: client_id,
            })
        };
    }
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: "oauth_client.revoke",
        target_type: "oauth_client",
        target_id: &client_id,
        before: Some(serde_json::json!({ "status": "active" })),
        after: Some(serde_json::json!({ "status": "revoked", "revoked_at": now })),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(%client_id, "OAuth client revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// Client ids revoked since `since_ms`, for the snapshot.
pub async fn load_revoked_clients(
    db: &crate::db::Db,
    since_ms: i64,
) -> Result<Vec<String>, AppError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM oauth_clients WHERE revoked_at IS NOT NULL AND revoked_at >= $1 ORDER BY revoked_at, id")
            .bind(since_ms)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
