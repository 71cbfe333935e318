//! Consumer teams: an organisation of kind `team` whose members share the subscriptions a
//! provider sells to it. A provider's consumer that stands for a team (`team_id`) holds those
//! subscriptions; acting for the team (`X-Tollgate-Org: <team>`), members list the team's
//! subscriptions and keys and issue or revoke keys for them, with their role's permissions.
//! Keys stay the provider's rows (its listings, usage and revocation feed see them); the
//! team reaches only keys of its own consumers, and anything else answers 404.

use super::Actor;
use crate::admin::key_lifecycle::revoke_in;
use crate::admin::key_owner::KeyOwner;
use crate::admin::key_views::{KeyRow, KeySummary, SELECT_KEYS};
use crate::admin::keys::{check_scopes, issue_key, resolve_expiry, Expiry, IssuedKey};
use crate::admin::subscriptions::{Subscription, SubscriptionRow, SELECT_SUBSCRIPTIONS};
use crate::audit;
use crate::clock::now_ms;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::Deserialize;
use sqlx::{Any, Executor};
use utoipa::ToSchema;

/// Checks that `id` names an organisation of kind `team` (422 naming `field` otherwise).
pub async fn require_team<'e>(
    db: impl Executor<'e, Database = Any>,
    field: &str,
    id: &str,
) -> Result<(), AppError> {
    let kind: Option<(Option<String>,)> =
        sqlx::query_as("SELECT kind FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    match kind {
        Some((Some(k),)) if k == "team" => Ok(()),
        Some(_) => Err(AppError::invalid(
            field,
            format!("organisation `{id}` is a provider, not a consumer team; create the team with `POST /admin/v1/orgs {{\"kind\": \"team\"}}`"),
        )),
        None => Err(AppError::invalid(field, format!("nothing has the id `{id}`"))),
    }
}

/// The team in the path, when the caller acts for it (or is the platform) and it is one.
async fn team_in_path(state: &AppState, actor: &Actor, team: &str) -> Result<(), AppError> {
    let not_found = || AppError::NotFound {
        what: "team",
        id: team.to_owned(),
    };
    if actor.org_id().is_some_and(|org| org != team) {
        return Err(not_found());
    }
    require_team(&state.db, "team_id", team)
        .await
        .map_err(|_| not_found())
}

const TEAM_CONSUMERS: &str = "SELECT id FROM consumers WHERE team_org_id = $1";

/// The subscriptions the team holds, with every provider, oldest first.
#[utoipa::path(get, path = "/admin/v1/teams/{team_id}/subscriptions", tag = "teams",
    params(("team_id" = String, Path, description = "Team (organisation) id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The team's subscriptions", body = Vec<Subscription>),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No team has this id (or the caller does not act for it)", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list_team_subscriptions(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(team): Path<String>,
) -> Result<axum::Json<Vec<Subscription>>, AppError> {
    team_in_path(&state, &actor, &team).await?;
    let sql = format!(
        "{SELECT_SUBSCRIPTIONS} WHERE s.consumer_id IN ({TEAM_CONSUMERS}) ORDER BY s.created_at, s.id"
    );
    let rows: Vec<SubscriptionRow> = sqlx::query_as(&sql)
        .bind(&team)
        .fetch_all(&state.db)
        .await?;
    let now = now_ms();
    Ok(axum::Json(rows.iter().map(|r| r.view(now)).collect()))
}

/// The keys of the team's subscriptions (never the key nor its hash).
#[utoipa::path(get, path = "/admin/v1/teams/{team_id}/keys", tag = "teams",
    params(("team_id" = String, Path, description = "Team (organisation) id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The team's keys", body = Vec<KeySummary>),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No team has this id (or the caller does not act for it)", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list_team_keys(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(team): Path<String>,
) -> Result<axum::Json<Vec<KeySummary>>, AppError> {
    team_in_path(&state, &actor, &team).await?;
    let sql =
        format!("{SELECT_KEYS} WHERE consumer_id IN ({TEAM_CONSUMERS}) ORDER BY created_at, id");
    let rows: Vec<KeyRow> = sqlx::query_as(&sql)
        .bind(&team)
        .fetch_all(&state.db)
        .await?;
    Ok(axum::Json(rows.into_iter().map(KeySummary::from).collect()))
}

/// Body of `POST /admin/v1/teams/{team_id}/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamKey {
    /// One of the team's live subscriptions.
    #[schema(min_length = 1)]
    pub subscription_id: String,
    /// When the key stops working: RFC 3339 or unix milliseconds.
    #[serde(default)]
    pub expires_at: Option<Expiry>,
    /// What the key may do (at most 50; each 1–64 of `a-z0-9:._-`).
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Issues a key for one of the team's subscriptions.
#[utoipa::path(post, path = "/admin/v1/teams/{team_id}/keys", tag = "teams",
    params(("team_id" = String, Path, description = "Team (organisation) id")),
    request_body = CreateTeamKey,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Issued; `key` is shown only in this answer", body = IssuedKey),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No team has this id (or the caller does not act for it)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The subscription has ended", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing, invalid or names nothing (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn create_team_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(team): Path<String>,
    Json(body): Json<CreateTeamKey>,
) -> Result<(StatusCode, axum::Json<IssuedKey>), AppError> {
    team_in_path(&state, &actor, &team).await?;
    let now = now_ms();
    let expires_at = body
        .expires_at
        .map(|e| resolve_expiry(e, now))
        .transpose()?;
    let scopes = check_scopes(body.scopes)?;
    let sql = format!("{SELECT_SUBSCRIPTIONS} WHERE s.id = $1 AND s.consumer_id IN (SELECT id FROM consumers WHERE team_org_id = $2)");
    let row: Option<SubscriptionRow> = sqlx::query_as(&sql)
        .bind(&body.subscription_id)
        .bind(&team)
        .fetch_optional(&state.db)
        .await?;
    let row = row.ok_or_else(|| {
        AppError::invalid(
            "subscription_id",
            format!("the team holds no subscription `{}`", body.subscription_id),
        )
    })?;
    let status = row.times().status(now);
    if !status.is_live() {
        return Err(AppError::Conflict(format!(
            "subscription `{}` is {}; keys are issued for live subscriptions only",
            row.id,
            status.as_str()
        )));
    }
    let owner = KeyOwner {
        consumer_id: row.consumer_id,
        api_id: row.api_id,
        plan_id: Some(row.plan_id),
        subscription_id: Some(row.id),
    };
    let issued = issue_key(&state, &actor, owner, expires_at, scopes, now).await?;
    Ok((StatusCode::CREATED, axum::Json(issued)))
}

/// Revokes one of the team's keys (idempotent).
#[utoipa::path(delete, path = "/admin/v1/teams/{team_id}/keys/{key_id}", tag = "teams",
    params(("team_id" = String, Path, description = "Team (organisation) id"), ("key_id" = String, Path, description = "Key id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Revoked (or already revoked)"),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "The team has no key with this id", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn revoke_team_key(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((team, key_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    team_in_path(&state, &actor, &team).await?;
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let theirs: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM keys WHERE id = $1 AND consumer_id IN (SELECT id FROM consumers WHERE team_org_id = $2)",
    )
    .bind(&key_id)
    .bind(&team)
    .fetch_optional(&mut *tx)
    .await?;
    if theirs.is_none() {
        return Err(AppError::NotFound {
            what: "key",
            id: key_id,
        });
    }
    if revoke_in(&mut tx, &key_id, now).await? {
        let change = audit::Change {
            action: "key.revoke",
            target_type: "key",
            target_id: &key_id,
            before: Some(serde_json::json!({ "status": "active" })),
            after: Some(
                serde_json::json!({ "status": "revoked", "revoked_at": now, "team_id": team }),
            ),
        };
        audit::record(&mut tx, &actor, now, change).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
