//! Organisations, users, memberships and user tokens. The platform operator creates
//! organisations and users; an organisation's owners and admins manage its members.

use super::{Actor, Tenant};
use crate::admin::fields;
use crate::audit;
use crate::clock::{format_rfc3339, now_ms};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::ids::prefixed_id;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tollgate_core::rbac::{may_grant, Role};
use utoipa::ToSchema;

/// Prefix of user tokens, so they are recognisable (and never confused with API keys).
pub const USER_TOKEN_PREFIX: &str = "tgu_";

/// Body of `POST /admin/v1/orgs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// `provider` (the default: publishes APIs) or `team` (a consumer team whose members
    /// share the subscriptions and keys a provider gives it).
    #[serde(default)]
    #[schema(pattern = "^(provider|team)$")]
    pub kind: Option<String>,
}

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Org {
    pub id: String,
    pub name: String,
    /// `provider` or `team`.
    pub kind: String,
    pub created_at: String,
}

/// Body of `POST /admin/v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(pattern = r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    pub email: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: String,
}

/// Body of `POST /admin/v1/orgs/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    #[schema(min_length = 1)]
    pub user_id: String,
    /// `owner`, `admin`, `developer`, `billing` or `viewer`.
    #[schema(pattern = "^(owner|admin|developer|billing|viewer)$")]
    pub role: String,
}

/// A membership.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Member {
    pub org_id: String,
    pub user_id: String,
    pub role: String,
}

/// A new user token: `token` appears only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedUserToken {
    pub id: String,
    pub token: String,
    pub prefix: String,
    pub user_id: String,
}

/// What an organisation is: one that publishes APIs, or a team that consumes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    Provider,
    Team,
}

impl OrgKind {
    fn parse(raw: Option<&str>) -> Result<OrgKind, AppError> {
        match raw {
            None | Some("provider") => Ok(OrgKind::Provider),
            Some("team") => Ok(OrgKind::Team),
            Some(other) => Err(AppError::invalid(
                "kind",
                format!("`{other}` is not a kind of organisation; use `provider` or `team`"),
            )),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Provider => "provider",
            OrgKind::Team => "team",
        }
    }
}

/// SHA-256 hex of a user token: the only form stored.
pub fn hash_user_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn actor_json(actor: &Actor) -> &str {
    actor.who.as_str()
}

/// Creates an organisation (platform operator only).
#[utoipa::path(post, path = "/admin/v1/orgs", tag = "tenancy", request_body = CreateOrg, security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created", body = Org),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Only the platform operator creates organisations", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn create_org(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreateOrg>,
) -> Result<(StatusCode, axum::Json<Org>), AppError> {
    let name = fields::text("name", &body.name)?;
    let kind = OrgKind::parse(body.kind.as_deref())?;
    let (id, now) = (prefixed_id("org"), now_ms());
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query("INSERT INTO organisations (id, name, created_at, kind) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(&name)
        .bind(now)
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await?;
    let org = Org {
        id,
        name,
        kind: kind.as_str().to_owned(),
        created_at: format_rfc3339(now),
    };
    let change = audit::Change {
        action: "org.create",
        target_type: "org",
        target_id: &org.id,
        before: None,
        after: audit::snapshot_of(&org),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(org)))
}

/// The organisations the caller can see (all of them for the platform operator).
#[utoipa::path(get, path = "/admin/v1/orgs", tag = "tenancy", security(("admin_token" = [])),
    responses(
        (status = 200, description = "Organisations", body = Vec<Org>),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list_orgs(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<axum::Json<Vec<Org>>, AppError> {
    let rows: Vec<(String, String, i64, Option<String>)> = match actor.org_id() {
        None => {
            sqlx::query_as(
                "SELECT id, name, created_at, kind FROM organisations ORDER BY created_at, id",
            )
            .fetch_all(&state.db)
            .await?
        }
        Some(org) => {
            sqlx::query_as("SELECT id, name, created_at, kind FROM organisations WHERE id = $1")
                .bind(org)
                .fetch_all(&state.db)
                .await?
        }
    };
    Ok(axum::Json(
        rows.into_iter()
            .map(|(id, name, at, kind)| Org {
                id,
                name,
                kind: kind.unwrap_or_else(|| OrgKind::Provider.as_str().to_owned()),
                created_at: format_rfc3339(at),
            })
            .collect(),
    ))
}

/// Creates a user (platform operator only); users act through tokens and memberships.
#[utoipa::path(post, path = "/admin/v1/users", tag = "tenancy", request_body = CreateUser, security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created", body = User),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Only the platform operator creates users", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "A user has this email", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing or invalid (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreateUser>,
) -> Result<(StatusCode, axum::Json<User>), AppError> {
    let email = fields::email("email", &body.email)?.to_lowercase();
    let name = fields::text("name", &body.name)?;
    let (id, now) = (prefixed_id("usr"), now_ms());
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query("INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(&email)
        .bind(&name)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if fields::is_unique_violation(&e) {
                AppError::Conflict(format!("a user with email `{email}` exists"))
            } else {
                e.into()
            }
        })?;
    let user = User {
        id,
        email,
        name,
        created_at: format_rfc3339(now),
    };
    let change = audit::Change {
        action: "user.create",
        target_type: "user",
        target_id: &user.id,
        before: None,
        after: audit::snapshot_of(&user),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

/// Adds a user to an organisation with a role (or changes their role).
#[utoipa::path(post, path = "/admin/v1/orgs/{id}/members", tag = "tenancy", request_body = AddMember, security(("admin_token" = [])),
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 201, description = "Member added or role changed", body = Member),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not grant this role", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Unknown user or role (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn add_member(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(org_id): Path<String>,
    Json(body): Json<AddMember>,
) -> Result<(StatusCode, axum::Json<Member>), AppError> {
    let role = Role::parse(&body.role).ok_or_else(|| {
        AppError::invalid("role", "must be owner, admin, developer, billing or viewer")
    })?;
    if let Tenant::Org { role: mine, .. } = &actor.tenant {
        if !may_grant(*mine, role) {
            return Err(AppError::Forbidden(format!(
                "a {} may not make someone {}",
                mine.as_str(),
                role.as_str()
            )));
        }
    }
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let org: Option<(String,)> = sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
        .bind(&org_id)
        .fetch_optional(&mut *tx)
        .await?;
    org.ok_or_else(|| AppError::NotFound {
        what: "organisation",
        id: org_id.clone(),
    })?;
    let user: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE id = $1")
        .bind(&body.user_id)
        .fetch_optional(&mut *tx)
        .await?;
    user.ok_or_else(|| {
        AppError::invalid("user_id", format!("no user has the id `{}`", body.user_id))
    })?;
    sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(&org_id)
        .bind(&body.user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&org_id)
    .bind(&body.user_id)
    .bind(role.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let member = Member {
        org_id,
        user_id: body.user_id,
        role: role.as_str().to_owned(),
    };
    let change = audit::Change {
        action: "member.set",
        target_type: "org",
        target_id: &member.org_id,
        before: None,
        after: audit::snapshot_of(&member),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(member)))
}

/// The members of an organisation.
#[utoipa::path(get, path = "/admin/v1/orgs/{id}/members", tag = "tenancy", security(("admin_token" = [])),
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Members", body = Vec<Member>),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list_members(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
) -> Result<axum::Json<Vec<Member>>, AppError> {
    let org: Option<(String,)> = sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
        .bind(&org_id)
        .fetch_optional(&state.db)
        .await?;
    org.ok_or_else(|| AppError::NotFound {
        what: "organisation",
        id: org_id.clone(),
    })?;
    let rows: Vec<Member> = sqlx::query_as("SELECT org_id, user_id, role FROM memberships WHERE org_id = $1 ORDER BY created_at, user_id")
        .bind(&org_id)
        .fetch_all(&state.db)
        .await?;
    Ok(axum::Json(rows))
}

/// Issues a token for a user (platform operator only); shown once, stored as a hash.
#[utoipa::path(post, path = "/admin/v1/users/{id}/tokens", tag = "tenancy", security(("admin_token" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 201, description = "Issued; `token` is shown only here", body = IssuedUserToken),
        (status = 401, description = "No or wrong token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Only the platform operator issues user tokens", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn issue_user_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(user_id): Path<String>,
) -> Result<(StatusCode, axum::Json<IssuedUserToken>), AppError> {
    let token = {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        format!("{USER_TOKEN_PREFIX}{}", hex::encode(bytes))
    };
    let (id, now) = (prefixed_id("utk"), now_ms());
    let prefix = token[..12].to_owned();
    let mut tx = crate::db::begin(&state.db).await?;
    let user: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE id = $1")
        .bind(&user_id)
        .fetch_optional(&mut *tx)
        .await?;
    user.ok_or_else(|| AppError::NotFound {
        what: "user",
        id: user_id.clone(),
    })?;
    sqlx::query("INSERT INTO user_tokens (id, user_id, token_hash, display_prefix, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(&user_id)
        .bind(hash_user_token(&token))
        .bind(&prefix)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let after =
        serde_json::json!({ "user_id": user_id, "prefix": prefix, "by": actor_json(&actor) });
    let change = audit::Change {
        action: "user_token.create",
        target_type: "user_token",
        target_id: &id,
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IssuedUserToken {
            id,
            token,
            prefix,
            user_id,
        }),
    ))
}
