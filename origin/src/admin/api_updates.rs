//! Changing and removing an API (`PUT`/`DELETE /admin/v1/apis/{id}`), which declarative
//! config (`tollgate apply`) needs to converge a catalog. A replacement goes through the
//! same checks as creation; a removal refuses while keys or versions still point at the
//! API unless `?cascade=true` asks to remove them along with it.

use crate::admin::apis::{check_auth, get_api, parse_auth, Api, CreateApi};
use crate::admin::fields;
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path, Query};
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::Deserialize;
use utoipa::IntoParams;

/// Query of `DELETE /admin/v1/apis/{id}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteApiQuery {
    /// Also remove the API's keys (with their usage records) and versions. Its limits,
    /// load-shedding rule and upstream credential always go with it.
    pub cascade: Option<bool>,
}

/// Whether a database error is a foreign-key violation: something still refers to the row.
pub fn is_reference_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

/// Replaces an API's name, base path, upstream and auth.
#[utoipa::path(
    put,
    path = "/admin/v1/apis/{id}",
    tag = "apis",
    params(("id" = String, Path, description = "API id")),
    request_body = CreateApi,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Replaced", body = Api),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Another API has this base_path", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn put_api(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Json(body): Json<CreateApi>,
) -> Result<axum::Json<Api>, AppError> {
    let name = fields::text("name", &body.name)?;
    let base_path = fields::base_path("base_path", &body.base_path)?;
    let upstream_url = fields::http_url("upstream_url", &body.upstream_url)?;
    let auth = check_auth(parse_auth(body.auth)?)?;
    let auth_json = serde_json::to_string(&auth)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding auth")))?;
    let axum::Json(before) = get_api(State(state.clone()), Path(id.clone())).await?;
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let done = sqlx::query(
        "UPDATE apis SET name = $1, base_path = $2, upstream_url = $3, auth_json = $4, updated_at = $5 \
         WHERE id = $6",
    )
    .bind(&name)
    .bind(&base_path)
    .bind(&upstream_url)
    .bind(&auth_json)
    .bind(now)
    .bind(&id)
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
    if done.rows_affected() != 1 {
        return Err(AppError::NotFound { what: "API", id });
    }
    let api = Api {
        id: before.id.clone(),
        name,
        base_path,
        upstream_url,
        auth,
        created_at: before.created_at.clone(),
        updated_at: format_rfc3339(now),
    };
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: "api.update",
        target_type: "api",
        target_id: &id,
        before: audit::snapshot_of(&before),
        after: audit::snapshot_of(&api),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(api_id = %id, "api replaced");
    Ok(axum::Json(api))
}

async fn count(tx: &mut sqlx::AnyConnection, sql: &str, api_id: &str) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(sql).bind(api_id).fetch_one(tx).await?;
    Ok(n)
}

/// Keys (with their usage) and versions: removed only on `cascade`, children first.
const CASCADED: [&str; 3] = [
    "DELETE FROM usage_counts WHERE api_id = $1",
    "DELETE FROM keys WHERE api_id = $1",
    "DELETE FROM api_versions WHERE api_id = $1",
];

/// The API's own settings, removed with it.
const OWNED: [&str; 8] = [
    "DELETE FROM api_policies WHERE api_id = $1",
    "DELETE FROM limits WHERE api_id = $1",
    "DELETE FROM api_validation WHERE api_id = $1",
    "DELETE FROM api_cache_policies WHERE api_id = $1",
    "DELETE FROM cache_purges WHERE api_id = $1",
    "DELETE FROM shedding WHERE api_id = $1",
    "DELETE FROM secrets WHERE owner_type = 'api' AND owner_id = $1",
    "DELETE FROM apis WHERE id = $1",
];

/// Removes an API from the catalog; edges stop routing it within the refresh window.
#[utoipa::path(
    delete,
    path = "/admin/v1/apis/{id}",
    tag = "apis",
    params(("id" = String, Path, description = "API id"), DeleteApiQuery),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed query", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No API has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Keys or versions still use it (and `cascade` was not set)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn delete_api(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Query(query): Query<DeleteApiQuery>,
) -> Result<StatusCode, AppError> {
    let axum::Json(before) = get_api(State(state.clone()), Path(id.clone())).await?;
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let keys = count(&mut tx, "SELECT COUNT(*) FROM keys WHERE api_id = $1", &id).await?;
    let active = count(
        &mut tx,
        "SELECT COUNT(*) FROM keys WHERE api_id = $1 AND status = 'active'",
        &id,
    )
    .await?;
    let versions = count(
        &mut tx,
        "SELECT COUNT(*) FROM api_versions WHERE api_id = $1",
        &id,
    )
    .await?;
    let cascade = query.cascade.unwrap_or(false);
    if (keys > 0 || versions > 0) && !cascade {
        return Err(AppError::Conflict(format!(
            "API `{id}` still has {keys} key(s) ({active} active) and {versions} version(s); \
             remove them first or pass `?cascade=true` to remove them with it"
        )));
    }
    if cascade {
        for sql in CASCADED {
            sqlx::query(sql).bind(&id).execute(&mut *tx).await?;
        }
    }
    for sql in OWNED {
        sqlx::query(sql)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_reference_violation(&e) {
                    AppError::Conflict(format!("API `{id}` is still referred to: {e}"))
                } else {
                    e.into()
                }
            })?;
    }
    config_version::bump(&mut *tx).await?;
    let mut snapshot = audit::snapshot_of(&before);
    if let Some(serde_json::Value::Object(o)) = snapshot.as_mut() {
        o.insert("removed_keys".into(), keys.into());
        o.insert("removed_versions".into(), versions.into());
    }
    let change = audit::Change {
        action: "api.delete",
        target_type: "api",
        target_id: &id,
        before: snapshot,
        after: None,
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(api_id = %id, cascade, "api removed");
    Ok(StatusCode::NO_CONTENT)
}
