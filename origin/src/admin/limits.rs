//! Limits beyond plans: a rate limit, quota or concurrency limit set on one API (or on
//! every API) and counted per key, consumer, client IP or for the whole API. Each change
//! bumps the config version so edges enforce it within the refresh window.

use crate::admin::fields::{self, Table};
use crate::admin::plan_limits::{policy, quota_policy, rate_policy, stated_bound, Options};
use crate::admin::plans::{Quota, RateLimit};
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::config_version;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause, visible};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::limits::{Algorithm, FailMode, LimitPolicy, ScopedLimit, Subject};
use tollgate_core::ApiId;
use utoipa::ToSchema;

/// At most `requests` in flight; a slot held longer than `timeout_secs` (default 60) is freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyLimit {
    pub requests: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^(open|closed)$")]
    pub fail: Option<FailMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_headers: Option<bool>,
}

/// What a limit counts: exactly one of the three.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct LimitSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<ConcurrencyLimit>,
}

/// Body of `POST /admin/v1/limits`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLimit {
    /// Shown to clients in RateLimit headers and 429s: letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// The API it applies to; every API when omitted.
    #[serde(default)]
    pub api_id: Option<String>,
    /// `key` (default), `consumer`, `ip` or `api`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(key|consumer|ip|api)$")]
    pub subject: Option<Subject>,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub quota: Option<Quota>,
    #[serde(default)]
    pub concurrency: Option<ConcurrencyLimit>,
}

/// A limit as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Limit {
    pub id: String,
    pub name: String,
    pub api_id: Option<String>,
    #[schema(value_type = String)]
    pub subject: Subject,
    #[serde(flatten)]
    pub spec: LimitSpec,
    /// RFC 3339.
    pub created_at: String,
}

/// The policy a limit enforces.
pub fn limit_policy(
    id: &str,
    name: &str,
    subject: Subject,
    spec: &LimitSpec,
) -> Result<LimitPolicy, AppError> {
    let (id, name) = (id.to_owned(), name.to_owned());
    match (&spec.rate_limit, &spec.quota, &spec.concurrency) {
        (Some(r), None, None) => rate_policy(id, name, r, subject),
        (None, Some(q), None) => quota_policy(id, name, q, subject),
        (None, None, Some(c)) => {
            let algorithm = Algorithm::Concurrency {
                requests: c.requests,
                timeout_ms: c.timeout_secs.unwrap_or(60).saturating_mul(1_000),
            };
            let options = Options {
                mode: None,
                lease: None,
                fail: c.fail,
                hide_headers: c.hide_headers,
            };
            policy("concurrency", id, name, algorithm, subject, options)
        }
        _ => Err(AppError::invalid(
            "rate_limit",
            "give exactly one of `rate_limit`, `quota` or `concurrency`",
        )),
    }
}

fn check_name(name: &str) -> Result<String, AppError> {
    let name = fields::text("name", name)?;
    let ok = name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(AppError::invalid(
            "name",
            "use at most 64 letters, digits, `.`, `_` or `-` (it is sent in RateLimit headers)",
        ));
    }
    Ok(name)
}

fn subject_text(s: Subject) -> &'static str {
    match s {
        Subject::Key => "key",
        Subject::Consumer => "consumer",
        Subject::Ip => "ip",
        Subject::Api => "api",
    }
}

/// Sets a limit on an API (or all APIs).
#[utoipa::path(
    post,
    path = "/admin/v1/limits",
    tag = "plans",
    request_body = CreateLimit,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created; enforced by edges within the refresh window", body = Limit),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_limit(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreateLimit>,
) -> Result<(StatusCode, axum::Json<Limit>), AppError> {
    let name = check_name(&body.name)?;
    if body.api_id.is_none() && actor.org_id().is_some() {
        return Err(AppError::invalid(
            "api_id",
            "an organisation sets limits on its own APIs; name one",
        ));
    }
    if let Some(api_id) = &body.api_id {
        if !visible(&state.db, Table::Apis, api_id, &actor).await? {
            return Err(AppError::invalid(
                "api_id",
                format!("no API has the id `{api_id}`"),
            ));
        }
    }
    let subject = body.subject.unwrap_or_default();
    let id = format!("lim_{}", uuid::Uuid::new_v4().simple());
    let mut spec = LimitSpec {
        rate_limit: body.rate_limit.map(|r| RateLimit {
            burst: r.burst.or(Some(r.requests)),
            ..r
        }),
        quota: body.quota,
        concurrency: body.concurrency,
    };
    let enforced = limit_policy(&id, &name, subject, &spec)?;
    let bound = stated_bound(&enforced);
    if let Some(r) = spec.rate_limit.as_mut() {
        r.max_over_admission = bound;
    }
    if let Some(q) = spec.quota.as_mut() {
        q.max_over_admission = bound;
    }
    let spec_json = serde_json::to_string(&spec)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding a limit")))?;
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query(
        "INSERT INTO limits (id, name, api_id, subject, policy_json, created_at, org_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&name)
    .bind(body.api_id.as_deref())
    .bind(subject_text(subject))
    .bind(&spec_json)
    .bind(now)
    .bind(actor.org_id())
    .execute(&mut *tx)
    .await?;
    config_version::bump(&mut *tx).await?;
    let limit = Limit {
        id,
        name,
        api_id: body.api_id,
        subject,
        spec,
        created_at: format_rfc3339(now),
    };
    let change = audit::Change {
        action: "limit.create",
        target_type: "limit",
        target_id: &limit.id,
        before: None,
        after: audit::snapshot_of(&limit),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(limit_id = %limit.id, "limit created");
    Ok((StatusCode::CREATED, axum::Json(limit)))
}

#[derive(sqlx::FromRow)]
struct LimitRow {
    id: String,
    name: String,
    api_id: Option<String>,
    subject: String,
    policy_json: String,
    created_at: i64,
}

impl LimitRow {
    fn into_limit(self) -> Result<Limit, AppError> {
        let unexpected = |what: String| AppError::Unexpected(anyhow::anyhow!(what));
        let subject = serde_json::from_value(serde_json::Value::String(self.subject.clone()))
            .map_err(|_| unexpected(format!("limit {} has subject {}", self.id, self.subject)))?;
        let spec = serde_json::from_str(&self.policy_json)
            .map_err(|e| unexpected(format!("stored limit {}: {e}", self.id)))?;
        Ok(Limit {
            id: self.id,
            name: self.name,
            api_id: self.api_id,
            subject,
            spec,
            created_at: format_rfc3339(self.created_at),
        })
    }
}

async fn fetch_limits(db: &crate::db::Db, actor: &Actor) -> Result<Vec<Limit>, AppError> {
    let (clause, org) = org_clause(actor, "org_id", 1);
    let sql = format!("SELECT id, name, api_id, subject, policy_json, created_at FROM limits WHERE 1 = 1{clause} ORDER BY created_at, id");
    let query = bind_org(sqlx::query_as(&sql), org);
    let rows: Vec<LimitRow> = query.fetch_all(db).await?;
    rows.into_iter().map(LimitRow::into_limit).collect()
}

/// Lists every limit, oldest first.
#[utoipa::path(
    get,
    path = "/admin/v1/limits",
    tag = "plans",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "All limits", body = Vec<Limit>),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_limits(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<axum::Json<Vec<Limit>>, AppError> {
    Ok(axum::Json(fetch_limits(&state.db, &actor).await?))
}

/// Removes a limit.
#[utoipa::path(
    delete,
    path = "/admin/v1/limits/{id}",
    tag = "plans",
    params(("id" = String, Path, description = "Limit id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No limit has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn delete_limit(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let gone = sqlx::query("DELETE FROM limits WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if gone == 0 {
        tx.rollback().await?;
        return Err(AppError::NotFound { what: "limit", id });
    }
    config_version::bump(&mut *tx).await?;
    let change = audit::Change {
        action: "limit.delete",
        target_type: "limit",
        target_id: &id,
        before: None,
        after: None,
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every limit as the edge enforces it.
pub async fn load_scoped_limits(db: &crate::db::Db) -> Result<Vec<ScopedLimit>, AppError> {
    let mut out = Vec::new();
    for limit in fetch_limits(db, &Actor::admin_token()).await? {
        match limit_policy(&limit.id, &limit.name, limit.subject, &limit.spec) {
            Ok(policy) => out.push(ScopedLimit {
                api_id: limit.api_id.map(ApiId),
                policy,
            }),
            Err(e) => tracing::error!(limit_id = %limit.id, error = %e, "limit not enforceable"),
        }
    }
    Ok(out)
}
