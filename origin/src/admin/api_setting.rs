//! Removing one of an API's edge settings (shedding, validation, cache policy, policies):
//! the row goes, the config version moves so edges drop it within the refresh window, and
//! the audit log records it — one transaction, one place.

use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::error::AppError;
use crate::routes::AppState;
use axum::http::StatusCode;

/// Which setting, by its table and audit action.
pub struct ApiSetting {
    /// Table keyed by `api_id`.
    pub table: &'static str,
    /// Audit action, e.g. `api.cache.delete`.
    pub action: &'static str,
}

/// Deletes `setting` of API `api_id` (idempotent), recording `before` in the audit log.
pub async fn remove_api_setting(
    state: &AppState,
    actor: &Actor,
    setting: ApiSetting,
    api_id: &str,
    before: Option<serde_json::Value>,
) -> Result<StatusCode, AppError> {
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query(&format!("DELETE FROM {} WHERE api_id = $1", setting.table))
        .bind(api_id)
        .execute(&mut *tx)
        .await?;
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: setting.action,
        target_type: "api",
        target_id: api_id,
        before,
        after: None,
    };
    audit::record(&mut tx, actor, now_ms(), change).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
