//! An API's transforms and protections (`PUT/GET/DELETE /admin/v1/apis/{id}/policies`):
//! header/path/query edits, identity to the upstream, CORS, size limits, method and IP
//! lists, WebSocket pass-through. Validated by `tollgate_core::policy` (a 422 whose
//! `field` is a JSON pointer such as `/cors/allowed_origins/0`), stored as JSON text,
//! carried to the edge in the snapshot's `ApiRoute.policies`; every change bumps the
//! config version.

use crate::admin::fields::{self, Table};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{parse_json, Json, Path};
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use tollgate_core::policy::ApiPolicies;
use utoipa::ToSchema;

/// Header edits for one direction: `remove`, then `rename`, then `set`, then `add`.
#[derive(ToSchema)]
#[allow(dead_code)] // exists for its schema
pub struct HeaderEditsDoc {
    /// `{name: value}` replacing any header of that name.
    set: Option<BTreeMap<String, String>>,
    /// `{name: value}` appended.
    add: Option<BTreeMap<String, String>>,
    /// Names removed.
    remove: Option<Vec<String>>,
    /// `{from: to}` renames.
    rename: Option<BTreeMap<String, String>>,
}

/// CORS for browsers; preflights are answered at the edge before authentication.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CorsDoc {
    /// `https://app.example.com` entries, or `["*"]`.
    allowed_origins: Vec<String>,
    allowed_methods: Option<Vec<String>>,
    allowed_headers: Option<Vec<String>>,
    expose_headers: Option<Vec<String>>,
    #[schema(maximum = 86400)]
    max_age_secs: Option<u32>,
    /// Never with `"*"`.
    allow_credentials: Option<bool>,
}

/// The API's policies; every member is optional (see README "Transforms and protections").
#[derive(ToSchema)]
#[schema(as = ApiPolicies)]
#[allow(dead_code)]
pub struct ApiPoliciesDoc {
    request_headers: Option<HeaderEditsDoc>,
    response_headers: Option<HeaderEditsDoc>,
    /// `{"from": "/v1/*", "to": "/api/v1/*"}` or the prefix form `{"from": "/v1", "to": "/api/v1"}`.
    #[schema(value_type = Option<Object>)]
    path_rewrite: Option<HashMap<String, String>>,
    /// `{"set": {name: value}, "remove": [name], "rename": {from: to}}` on the query string.
    #[schema(value_type = Option<Object>)]
    query: Option<HashMap<String, String>>,
    /// `{"headers": true, "jwt": false}`: identity headers and/or an edge-signed JWT.
    #[schema(value_type = Option<Object>)]
    identity: Option<HashMap<String, bool>>,
    cors: Option<CorsDoc>,
    /// `{"max_header_bytes": n, "max_body_bytes": n}` (431/413 above them).
    #[schema(value_type = Option<Object>)]
    limits: Option<HashMap<String, u64>>,
    /// Allowed methods (405 with `Allow` otherwise); `GET` implies `HEAD`.
    methods: Option<Vec<String>>,
    /// `{"allow": [CIDR], "deny": [CIDR]}` on the client address (403).
    #[schema(value_type = Option<Object>)]
    ip: Option<HashMap<String, Vec<String>>>,
    /// Let `Upgrade: websocket` requests through to the upstream.
    websocket: Option<bool>,
}

/// Members that are objects: serde would also read them from arrays, which the schema
/// does not allow, so anything else is refused before parsing.
const OBJECT_MEMBERS: [&str; 8] = [
    "request_headers",
    "response_headers",
    "path_rewrite",
    "query",
    "identity",
    "cors",
    "limits",
    "ip",
];

fn parse_body(body: &Value) -> Result<ApiPolicies, AppError> {
    let Some(members) = body.as_object() else {
        return Err(AppError::invalid(
            "body",
            "must be a JSON object of policies",
        ));
    };
    for (name, value) in members {
        if OBJECT_MEMBERS.contains(&name.as_str()) && !(value.is_object() || value.is_null()) {
            return Err(AppError::invalid(
                format!("/{name}"),
                "must be a JSON object",
            ));
        }
    }
    let bytes = serde_json::to_vec(body)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("re-encoding policies")))?;
    parse_json(&bytes)
}

fn stored(json: &str, id: &str) -> Result<ApiPolicies, AppError> {
    serde_json::from_str(json).map_err(|e| {
        AppError::Unexpected(anyhow::Error::new(e).context(format!("stored policies of api {id}")))
    })
}

/// Sets (or replaces) an API's policies.
#[utoipa::path(
    put,
    path = "/admin/v1/apis/{id}/policies",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    request_body = ApiPoliciesDoc,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Stored, normalised", body = ApiPoliciesDoc),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is invalid (`field` is its JSON pointer)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn put_policies(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<axum::Json<ApiPolicies>, AppError> {
    let policies = parse_body(&body)?
        .normalized()
        .map_err(|e| AppError::invalid(e.pointer, e.message))?;
    if !fields::exists(&state.db, Table::Apis, &id).await? {
        return Err(AppError::NotFound { what: "API", id });
    }
    let json = serde_json::to_string(&policies)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding policies")))?;
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query("DELETE FROM api_policies WHERE api_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO api_policies (api_id, policy_json, updated_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(&json)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: "api.policies.set",
        target_type: "api",
        target_id: &id,
        before: None,
        after: serde_json::from_str(&json).ok(),
    };
    audit::record(&mut tx, &actor, now_ms(), change).await?;
    tx.commit().await?;
    Ok(axum::Json(policies))
}

/// The API's policies; 404 when it has none.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}/policies",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The policies", body = ApiPoliciesDoc),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id, or it has no policies", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_policies(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<ApiPolicies>, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT policy_json FROM api_policies WHERE api_id = $1")
            .bind(&id)
            .fetch_optional(&state.db)
            .await?;
    let (json,) = row.ok_or(AppError::NotFound {
        what: "policies of API",
        id: id.clone(),
    })?;
    Ok(axum::Json(stored(&json, &id)?))
}

/// Removes an API's policies.
#[utoipa::path(
    delete,
    path = "/admin/v1/apis/{id}/policies",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed (or there were none)"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn delete_policies(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let setting = crate::admin::api_setting::ApiSetting {
        table: "api_policies",
        action: "api.policies.delete",
    };
    crate::admin::api_setting::remove_api_setting(&state, &actor, setting, &id, None).await
}

/// Every API's policies by API id, for the snapshot (unreadable rows are logged, skipped).
pub async fn policies_by_api(
    db: &crate::db::Db,
) -> Result<HashMap<String, Box<ApiPolicies>>, AppError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT api_id, policy_json FROM api_policies ORDER BY api_id")
            .fetch_all(db)
            .await?;
    let mut out = HashMap::new();
    for (api_id, json) in rows {
        match stored(&json, &api_id) {
            Ok(p) => {
                out.insert(api_id, Box::new(p));
            }
            Err(e) => tracing::error!(%api_id, error = %e, "stored policies unreadable"),
        }
    }
    Ok(out)
}
