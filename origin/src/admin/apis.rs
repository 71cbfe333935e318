//! APIs in the catalog: what the edge routes (`base_path` → `upstream_url`) and how
//! callers authenticate. Creating one bumps the config version so edges pick it up.

use crate::admin::fields;
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::config_version;
use crate::core_schemas::{AuthPolicyDoc, ProblemDoc};
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::ids::new_api_id;
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor};
use tollgate_core::{ApiId, ApiRoute, AuthPolicy};
use utoipa::ToSchema;

/// Body of `POST /admin/v1/apis`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApi {
    /// Shown in the portal, e.g. `Weather`.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Path prefix at the edge, e.g. `/weather` (a trailing `/` is dropped).
    #[schema(pattern = r"^(/[A-Za-z0-9._~-]+)+/?$")]
    pub base_path: String,
    /// Absolute http(s) URL requests are forwarded to, e.g. `http://127.0.0.1:9090/v1`.
    #[schema(pattern = r"^https?://[^\s]+$")]
    pub upstream_url: String,
    /// How callers authenticate; `{"type":"key"}` when omitted.
    #[serde(default)]
    #[schema(value_type = Option<AuthPolicyDoc>)]
    pub auth: Option<serde_json::Value>,
}

/// An API as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Api {
    #[schema(value_type = String, example = "api_0f8e9c3b4a5d4e6f8a7b6c5d4e3f2a1b")]
    pub id: ApiId,
    pub name: String,
    pub base_path: String,
    pub upstream_url: String,
    #[schema(value_type = AuthPolicyDoc)]
    pub auth: AuthPolicy,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

#[derive(sqlx::FromRow)]
struct ApiRow {
    id: String,
    name: String,
    base_path: String,
    upstream_url: String,
    auth_json: String,
    created_at: i64,
    updated_at: i64,
}

impl ApiRow {
    fn auth(&self) -> Result<AuthPolicy, AppError> {
        serde_json::from_str(&self.auth_json).map_err(|e| {
            AppError::Unexpected(
                anyhow::Error::new(e).context(format!("stored auth of api {}", self.id)),
            )
        })
    }

    fn into_api(self) -> Result<Api, AppError> {
        Ok(Api {
            auth: self.auth()?,
            id: ApiId(self.id),
            name: self.name,
            base_path: self.base_path,
            upstream_url: self.upstream_url,
            created_at: format_rfc3339(self.created_at),
            updated_at: format_rfc3339(self.updated_at),
        })
    }

    fn into_route(self) -> Result<ApiRoute, AppError> {
        Ok(ApiRoute {
            auth: self.auth()?,
            id: ApiId(self.id),
            name: self.name,
            base_path: self.base_path,
            upstream_url: self.upstream_url,
            upstream_headers: Vec::new(),
            policies: None,
        })
    }
}

const SELECT_APIS: &str =
    "SELECT id, name, base_path, upstream_url, auth_json, created_at, updated_at FROM apis";

/// Reads `auth` strictly: members that the chosen type does not use are refused, so a
/// mistyped JWT setting never silently leaves an API on key auth.
pub(crate) fn parse_auth(raw: Option<serde_json::Value>) -> Result<AuthPolicy, AppError> {
    let Some(raw) = raw.filter(|v| !v.is_null()) else {
        return Ok(AuthPolicy::default());
    };
    let object = raw
        .as_object()
        .ok_or_else(|| AppError::invalid("auth", "must be an object like {\"type\":\"key\"}"))?;
    let kind = object.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let allowed: &[&str] = match kind {
        "key" | "none" | "mtls" => &["type"],
        "jwt" => &[
            "type",
            "jwks_url",
            "issuer",
            "audience",
            "leeway_secs",
            "required_claims",
            "consumer_claim",
            "scopes",
        ],
        _ => {
            return Err(AppError::invalid(
                "auth.type",
                "must be `key`, `none`, `jwt` or `mtls`",
            ))
        }
    };
    if let Some(extra) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(AppError::invalid(
            format!("auth.{extra}"),
            format!("is not used by auth type `{kind}`"),
        ));
    }
    serde_json::from_value(raw.clone()).map_err(|e| AppError::invalid("auth", e.to_string()))
}

pub(crate) fn check_auth(auth: AuthPolicy) -> Result<AuthPolicy, AppError> {
    match auth {
        AuthPolicy::Jwt {
            jwks_url,
            issuer,
            audience,
            leeway_secs,
            required_claims,
            consumer_claim,
            scopes,
        } => {
            crate::admin::jwt_auth::check_jwt_extras(
                leeway_secs,
                &required_claims,
                &consumer_claim,
                &scopes,
            )?;
            Ok(AuthPolicy::Jwt {
                jwks_url: fields::http_url("auth.jwks_url", &jwks_url)?,
                issuer: fields::text("auth.issuer", &issuer)?,
                audience: fields::text("auth.audience", &audience)?,
                leeway_secs,
                required_claims,
                consumer_claim: consumer_claim.trim().to_owned(),
                scopes,
            })
        }
        other => Ok(other),
    }
}

/// Adds an API to the catalog.
#[utoipa::path(
    post,
    path = "/admin/v1/apis",
    tag = "apis",
    request_body = CreateApi,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created", body = Api),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Another API has this base_path", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_api(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreateApi>,
) -> Result<(StatusCode, axum::Json<Api>), AppError> {
    let name = fields::text("name", &body.name)?;
    let base_path = fields::base_path("base_path", &body.base_path)?;
    let upstream_url = fields::http_url("upstream_url", &body.upstream_url)?;
    let auth = check_auth(parse_auth(body.auth)?)?;
    let auth_json = serde_json::to_string(&auth)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding auth")))?;
    let id = new_api_id();
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query(
        "INSERT INTO apis (id, name, base_path, upstream_url, auth_json, created_at, updated_at, org_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(id.as_str())
    .bind(&name)
    .bind(&base_path)
    .bind(&upstream_url)
    .bind(&auth_json)
    .bind(now)
    .bind(actor.org_id())
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if fields::is_unique_violation(&e) {
            AppError::Conflict(format!(
                "another API already uses the base_path `{base_path}`"
            ))
        } else {
            e.into()
        }
    })?;
    let api = Api {
        id,
        name,
        base_path,
        upstream_url,
        auth,
        created_at: format_rfc3339(now),
        updated_at: format_rfc3339(now),
    };
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: "api.create",
        target_type: "api",
        target_id: api.id.as_str(),
        before: None,
        after: audit::snapshot_of(&api),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(api_id = %api.id, base_path = %api.base_path, "api created");
    Ok((StatusCode::CREATED, axum::Json(api)))
}

/// Lists every API, oldest first.
#[utoipa::path(
    get,
    path = "/admin/v1/apis",
    tag = "apis",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "All APIs", body = Vec<Api>),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_apis(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<axum::Json<Vec<Api>>, AppError> {
    let (clause, org) = org_clause(&actor, "org_id", 1);
    let sql = format!("{SELECT_APIS} WHERE 1 = 1{clause} ORDER BY created_at, id");
    let query = bind_org(sqlx::query_as(&sql), org);
    let rows: Vec<ApiRow> = query.fetch_all(&state.db).await?;
    let apis = rows
        .into_iter()
        .map(ApiRow::into_api)
        .collect::<Result<_, _>>()?;
    Ok(axum::Json(apis))
}

/// One API by id.
#[utoipa::path(
    get,
    path = "/admin/v1/apis/{id}",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The API", body = Api),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Api>, AppError> {
    let row: Option<ApiRow> = sqlx::query_as(&format!("{SELECT_APIS} WHERE id = $1"))
        .bind(&id)
        .fetch_optional(&state.db)
        .await?;
    let row = row.ok_or(AppError::NotFound { what: "API", id })?;
    Ok(axum::Json(row.into_api()?))
}

/// Every API as the edge routes it.
pub async fn load_routes<'e>(
    db: impl Executor<'e, Database = Any>,
) -> Result<Vec<ApiRoute>, AppError> {
    let rows: Vec<ApiRow> = sqlx::query_as(&format!("{SELECT_APIS} ORDER BY base_path"))
        .fetch_all(db)
        .await?;
    rows.into_iter().map(ApiRow::into_route).collect()
}
