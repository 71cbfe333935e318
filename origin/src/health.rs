//! Liveness that means something: healthy only while the database answers.

use crate::db;
use crate::error::AppError;
use crate::routes::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` in a 200 answer.
    pub status: &'static str,
}

/// Whether the origin and its database are up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses(
        (status = 200, description = "The origin and its database answer", body = Health),
        (status = 503, description = "The database does not answer", body = crate::core_schemas::ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    db::ping(&state.db)
        .await
        .map_err(|e| AppError::Unavailable(anyhow::Error::new(e).context("health check query")))?;
    Ok(Json(Health { status: "ok" }))
}
