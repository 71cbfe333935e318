//! Consumers: the developers or applications that hold keys and are billed for usage.

use crate::admin::fields;
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::ids::new_consumer_id;
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::ConsumerId;
use utoipa::ToSchema;

/// Body of `POST /admin/v1/consumers`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConsumer {
    /// e.g. `Acme Weather App`.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Contact address, e.g. `dev@acme.example`.
    #[schema(pattern = r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    pub email: String,
    /// The consumer team (an organisation of kind `team`) this consumer stands for: its
    /// members see and manage the keys of this consumer's subscriptions.
    #[serde(default)]
    pub team_id: Option<String>,
}

/// A consumer as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Consumer {
    #[schema(value_type = String, example = "con_0f8e9c3b4a5d4e6f8a7b6c5d4e3f2a1b")]
    pub id: ConsumerId,
    pub name: String,
    pub email: String,
    /// The consumer team this consumer stands for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
struct ConsumerRow {
    id: String,
    name: String,
    email: String,
    created_at: i64,
    team_org_id: Option<String>,
}

impl From<ConsumerRow> for Consumer {
    fn from(row: ConsumerRow) -> Consumer {
        Consumer {
            id: ConsumerId(row.id),
            name: row.name,
            email: row.email,
            team_id: row.team_org_id,
            created_at: format_rfc3339(row.created_at),
        }
    }
}

/// Registers a consumer.
#[utoipa::path(
    post,
    path = "/admin/v1/consumers",
    tag = "consumers",
    request_body = CreateConsumer,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created", body = Consumer),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_consumer(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreateConsumer>,
) -> Result<(StatusCode, axum::Json<Consumer>), AppError> {
    let name = fields::text("name", &body.name)?;
    let email = fields::email("email", &body.email)?;
    if let Some(team) = &body.team_id {
        crate::tenancy::teams::require_team(&state.db, "team_id", team).await?;
    }
    let id = new_consumer_id();
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query(
        "INSERT INTO consumers (id, name, email, created_at, org_id, team_org_id) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(&name)
    .bind(&email)
    .bind(now)
    .bind(actor.org_id())
    .bind(body.team_id.as_deref())
    .execute(&mut *tx)
    .await?;
    let consumer = Consumer {
        id,
        name,
        email,
        team_id: body.team_id,
        created_at: format_rfc3339(now),
    };
    let change = audit::Change {
        action: "consumer.create",
        target_type: "consumer",
        target_id: consumer.id.as_str(),
        before: None,
        after: audit::snapshot_of(&consumer),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(consumer_id = %consumer.id, "consumer created");
    Ok((StatusCode::CREATED, axum::Json(consumer)))
}

/// Lists every consumer, oldest first.
#[utoipa::path(
    get,
    path = "/admin/v1/consumers",
    tag = "consumers",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "All consumers", body = Vec<Consumer>),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_consumers(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<axum::Json<Vec<Consumer>>, AppError> {
    let (clause, org) = org_clause(&actor, "org_id", 1);
    let sql = format!(
        "SELECT id, name, email, created_at, team_org_id FROM consumers WHERE 1 = 1{clause} ORDER BY created_at, id"
    );
    let query = bind_org(sqlx::query_as(&sql), org);
    let rows: Vec<ConsumerRow> = query.fetch_all(&state.db).await?;
    Ok(axum::Json(rows.into_iter().map(Consumer::from).collect()))
}

/// One consumer by id.
#[utoipa::path(
    get,
    path = "/admin/v1/consumers/{id}",
    tag = "consumers",
    params(("id" = String, Path, description = "Consumer id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The consumer", body = Consumer),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No consumer has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_consumer(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Consumer>, AppError> {
    let row: Option<ConsumerRow> = sqlx::query_as(
        "SELECT id, name, email, created_at, team_org_id FROM consumers WHERE id = $1",
    )
    .bind(&id)
    .fetch_optional(&state.db)
    .await?;
    let row = row.ok_or(AppError::NotFound {
        what: "consumer",
        id,
    })?;
    Ok(axum::Json(row.into()))
}
