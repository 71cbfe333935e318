//! Per-API OpenAPI request validation settings (`/admin/v1/apis/{id}/validation`): whether
//! the edge enforces or only reports mismatches, whether it reports on answers, and the
//! largest JSON body it reads to check. Setting it compiles the API's live versions'
//! documents first, so a document tollgate cannot check is refused here (400, every
//! problem located by version and JSON pointer) rather than silently skipped at the edge.

use crate::admin::fields::{self, Table};
use crate::admin::validation_feed::{compile_spec, live_specs};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::routes::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::problem::PROBLEM_CONTENT_TYPE;
use tollgate_core::validation::{RequestMode, ResponseMode};
use tollgate_core::{Problem, ProblemKind};
use utoipa::ToSchema;

/// Default `max_body_bytes` (1 MiB).
pub const DEFAULT_MAX_BODY: u64 = 1024 * 1024;
/// Largest `max_body_bytes` (the edge's own body limit, 10 MiB).
pub const MAX_MAX_BODY: u64 = 10 * 1024 * 1024;

/// What the edge does with requests that do not match the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequestsMode {
    /// 400 problem+json listing every violation (unknown path 404, unknown method 405).
    Enforce,
    /// Forward, marked `tollgate-validation: failed; count=N`.
    Report,
    Off,
}

/// What the edge does with answers that do not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResponsesMode {
    /// Check small JSON answers, mark mismatches `tollgate-response-validation`; never blocks.
    Report,
    Off,
}

/// Body of `PUT /admin/v1/apis/{id}/validation`, and its answer with defaults filled in.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidationSettings {
    pub requests: RequestsMode,
    /// Default `off`.
    #[serde(default)]
    pub responses: Option<ResponsesMode>,
    /// Largest body read to check it, 1–10485760 (default 1048576); larger ones are 413.
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
}

impl ValidationSettings {
    /// The core modes.
    pub fn modes(&self) -> (RequestMode, ResponseMode) {
        let requests = match self.requests {
            RequestsMode::Enforce => RequestMode::Enforce,
            RequestsMode::Report => RequestMode::Report,
            RequestsMode::Off => RequestMode::Off,
        };
        let responses = match self.responses {
            Some(ResponsesMode::Report) => ResponseMode::Report,
            _ => ResponseMode::Off,
        };
        (requests, responses)
    }

    fn filled(self) -> Result<ValidationSettings, AppError> {
        let max = self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY);
        if !(1..=MAX_MAX_BODY).contains(&max) {
            return Err(AppError::invalid(
                "max_body_bytes",
                format!("must be between 1 and {MAX_MAX_BODY} (the edge's body limit)"),
            ));
        }
        Ok(ValidationSettings {
            requests: self.requests,
            responses: Some(self.responses.unwrap_or(ResponsesMode::Off)),
            max_body_bytes: Some(max),
        })
    }
}

/// One problem of a document that cannot be compiled for validation.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompileError {
    pub version: String,
    /// JSON pointer into that version's document.
    pub pointer: String,
    pub message: String,
}

fn compile_errors_response(errors: Vec<CompileError>) -> Response {
    let first = errors.first().map_or(String::new(), |e| {
        format!(
            "; the first: version {} `{}`: {}",
            e.version, e.pointer, e.message
        )
    });
    let problem = Problem::new(
        ProblemKind::MalformedRequest,
        format!("{} problem(s) in the API's OpenAPI documents prevent validation, each listed in `errors`{first}", errors.len()),
    )
    .with_field("spec");
    let mut body = serde_json::to_value(&problem).unwrap_or_default();
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "errors".into(),
            serde_json::to_value(&errors).unwrap_or_default(),
        );
    }
    let mut response = (StatusCode::BAD_REQUEST, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    response
}

/// Compiles every live version's document of `api_id`; the problems of all of them.
async fn compile_errors(state: &AppState, api_id: &str) -> Result<Vec<CompileError>, AppError> {
    let specs = live_specs(&state.db, Some(api_id)).await?;
    tokio::task::spawn_blocking(move || {
        let mut errors = Vec::new();
        for spec in specs {
            if let Err(issues) = compile_spec(&spec.text) {
                errors.extend(issues.into_iter().take(50).map(|i| CompileError {
                    version: spec.version.clone(),
                    pointer: i.pointer,
                    message: i.message,
                }));
            }
        }
        errors
    })
    .await
    .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("compiling documents")))
}

/// Sets (or replaces) an API's request validation.
#[utoipa::path(
    put,
    path = "/admin/v1/apis/{id}/validation",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    request_body = ValidationSettings,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Set, with defaults filled in", body = ValidationSettings),
        (status = 400, description = "Not JSON, or a live version's document cannot be compiled (each problem in `errors`)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn put_validation(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<ValidationSettings>,
) -> Result<Response, AppError> {
    let settings = body.filled()?;
    if !fields::exists(&state.db, Table::Apis, &id).await? {
        return Err(AppError::NotFound { what: "API", id });
    }
    if settings.requests != RequestsMode::Off {
        let errors = compile_errors(&state, &id).await?;
        if !errors.is_empty() {
            return Ok(compile_errors_response(errors));
        }
    }
    let json = serde_json::to_string(&settings)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding validation")))?;
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query("DELETE FROM api_validation WHERE api_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO api_validation (api_id, settings_json, updated_at) VALUES ($1, $2, $3)",
    )
    .bind(&id)
    .bind(&json)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: "api.validation.set",
        target_type: "api",
        target_id: &id,
        before: None,
        after: serde_json::from_str(&json).ok(),
    };
    audit::record(&mut tx, &actor, now_ms(), change).await?;
    tx.commit().await?;
    Ok(axum::Json(settings).into_response())
}

/// An API's request validation; 404 when it has none.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/validation",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings", body = ValidationSettings),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id, or it has no validation set", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_validation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<ValidationSettings>, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT settings_json FROM api_validation WHERE api_id = $1")
            .bind(&id)
            .fetch_optional(&state.db)
            .await?;
    let (json,) = row.ok_or(AppError::NotFound {
        what: "validation settings of API",
        id,
    })?;
    serde_json::from_str(&json)
        .map(axum::Json)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("stored validation")))
}

/// Turns an API's request validation off.
#[utoipa::path(
    delete,
    path = "/admin/v1/apis/{id}/validation",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed (or there was none)"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn delete_validation(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    if !fields::exists(&state.db, Table::Apis, &id).await? {
        return Err(AppError::NotFound { what: "API", id });
    }
    let setting = crate::admin::api_setting::ApiSetting {
        table: "api_validation",
        action: "api.validation.delete",
    };
    crate::admin::api_setting::remove_api_setting(&state, &actor, setting, &id, None).await
}
