//! OAuth clients of consumers (admin API): a client id and a secret shown once and
//! stored only as its SHA-256 hash, optionally bound to a subscription (its plan and
//! API's audience go into the tokens), with scopes and a token lifetime. Revoking one
//! stops new tokens at once (`client_revocation`).

use crate::admin::fields::Table;
use crate::admin::subscription_rows;
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Query};
use crate::routes::AppState;
use crate::tenancy::scope::{bind_org, org_clause, visible};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tollgate_core::oauth::request::base62;
use tollgate_core::oauth::{
    ClientSecret, CLIENT_ID_PREFIX, DEFAULT_TOKEN_TTL_SECS, MAX_TOKEN_TTL_SECS, MIN_TOKEN_TTL_SECS,
};
use tollgate_core::scope::parse_scopes;
use utoipa::{IntoParams, ToSchema};

/// Body of `POST /admin/v1/oauth/clients`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    #[schema(min_length = 1)]
    pub consumer_id: String,
    /// A live subscription of that consumer: tokens carry its plan (`tg_plan`, `tg_sub`)
    /// and default to its API's JWT audience.
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// What the client may ask for (at most 50; each 1–64 of `a-z0-9:._-`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Token lifetime in seconds (60–3600, default 600).
    #[serde(default)]
    #[schema(minimum = 60, maximum = 3600)]
    pub token_ttl_secs: Option<i64>,
}

/// A client as listed: never the secret, never its hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientSummary {
    pub client_id: String,
    pub consumer_id: String,
    pub subscription_id: Option<String>,
    pub scopes: Vec<String>,
    pub token_ttl_secs: i64,
    /// `active` or `revoked`.
    #[schema(pattern = "^(active|revoked)$")]
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// The answer to `POST /admin/v1/oauth/clients`: the only time the secret is shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedClient {
    /// Store it now: it cannot be shown again.
    pub client_secret: String,
    #[serde(flatten)]
    pub client: ClientSummary,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    consumer_id: String,
    subscription_id: Option<String>,
    scopes_json: Option<String>,
    token_ttl_secs: i64,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<ClientRow> for ClientSummary {
    fn from(r: ClientRow) -> ClientSummary {
        ClientSummary {
            client_id: r.id,
            consumer_id: r.consumer_id,
            subscription_id: r.subscription_id,
            scopes: r
                .scopes_json
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default(),
            token_ttl_secs: r.token_ttl_secs,
            status: if r.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            }
            .into(),
            created_at: format_rfc3339(r.created_at),
            revoked_at: r.revoked_at.map(format_rfc3339),
        }
    }
}

const SELECT_CLIENTS: &str =
    "SELECT id, consumer_id, subscription_id, scopes_json, token_ttl_secs, created_at, revoked_at FROM oauth_clients";

/// A fresh client id and secret from the thread-local CSPRNG (kept out of async code).
fn mint_credentials() -> (String, ClientSecret) {
    let mut rng = rand::thread_rng();
    let id = format!("{CLIENT_ID_PREFIX}{}", base62(24, || rng.gen()));
    (id, ClientSecret::generate(|| rng.gen()))
}

/// Registers an OAuth client for a consumer.
#[utoipa::path(
    post,
    path = "/admin/v1/oauth/clients",
    tag = "oauth",
    request_body = CreateClient,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Registered; `client_secret` is shown only in this answer", body = IssuedClient),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The subscription is canceled or expired", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing, invalid or names nothing (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_client(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Json(body): Json<CreateClient>,
) -> Result<(StatusCode, axum::Json<IssuedClient>), AppError> {
    let now = now_ms();
    if !visible(&state.db, Table::Consumers, &body.consumer_id, &actor).await? {
        return Err(AppError::invalid(
            "consumer_id",
            format!("nothing has the id `{}`", body.consumer_id),
        ));
    }
    if let Some(sub_id) = &body.subscription_id {
        let unknown =
            || AppError::invalid("subscription_id", format!("nothing has the id `{sub_id}`"));
        if !visible(&state.db, Table::Subscriptions, sub_id, &actor).await? {
            return Err(unknown());
        }
        let sub = subscription_rows::load(&state.db, sub_id)
            .await?
            .ok_or_else(unknown)?;
        if sub.consumer_id != body.consumer_id {
            return Err(AppError::invalid(
                "subscription_id",
                "belongs to another consumer",
            ));
        }
        let status = sub.times().status(now);
        if !status.is_live() {
            return Err(AppError::Conflict(format!(
                "subscription `{sub_id}` is {}; clients are registered for live subscriptions only",
                status.as_str()
            )));
        }
    }
    let scopes =
        parse_scopes(body.scopes).map_err(|e| AppError::invalid("scopes", e.to_string()))?;
    let ttl = body.token_ttl_secs.unwrap_or(DEFAULT_TOKEN_TTL_SECS as i64);
    if !(MIN_TOKEN_TTL_SECS as i64..=MAX_TOKEN_TTL_SECS as i64).contains(&ttl) {
        return Err(AppError::invalid(
            "token_ttl_secs",
            format!("must be between {MIN_TOKEN_TTL_SECS} and {MAX_TOKEN_TTL_SECS}"),
        ));
    }
    let scopes_json = serde_json::to_string(&scopes)
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("encoding scopes")))?;
    let (id, secret) = mint_credentials();
    let mut tx = crate::db::begin(&state.db).await?;
    sqlx::query(
        "INSERT INTO oauth_clients (id, secret_hash, consumer_id, subscription_id, scopes_json, token_ttl_secs, created_at, revoked_at, org_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, (SELECT org_id FROM consumers WHERE id = $3))",
    )
    .bind(&id)
    .bind(secret.hash())
    .bind(&body.consumer_id)
    .bind(body.subscription_id.as_deref())
    .bind(&scopes_json)
    .bind(ttl)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let summary = ClientSummary {
        client_id: id.clone(),
        consumer_id: body.consumer_id,
        subscription_id: body.subscription_id,
        scopes,
        token_ttl_secs: ttl,
        status: "active".into(),
        created_at: format_rfc3339(now),
        revoked_at: None,
    };
    let change = audit::Change {
        action: "oauth_client.create",
        target_type: "oauth_client",
        target_id: &id,
        before: None,
        after: audit::snapshot_of(&summary),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    tracing::info!(client_id = %id, "OAuth client registered");
    Ok((
        StatusCode::CREATED,
        axum::Json(IssuedClient {
            client_secret: secret.expose().to_owned(),
            client: summary,
        }),
    ))
}

/// Filters for `GET /admin/v1/oauth/clients`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ClientFilter {
    /// Only this consumer's clients (404 if no such consumer).
    pub consumer_id: Option<String>,
}

/// Lists OAuth clients, oldest first, without secrets.
#[utoipa::path(
    get,
    path = "/admin/v1/oauth/clients",
    tag = "oauth",
    params(ClientFilter),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The clients", body = Vec<ClientSummary>),
        (status = 400, description = "Malformed query", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No consumer has this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_clients(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(filter): Query<ClientFilter>,
) -> Result<axum::Json<Vec<ClientSummary>>, AppError> {
    let rows: Vec<ClientRow> = match filter.consumer_id {
        Some(consumer_id) => {
            if !visible(&state.db, Table::Consumers, &consumer_id, &actor).await? {
                return Err(AppError::NotFound {
                    what: "consumer",
                    id: consumer_id,
                });
            }
            sqlx::query_as(&format!(
                "{SELECT_CLIENTS} WHERE consumer_id = $1 ORDER BY created_at, id"
            ))
            .bind(consumer_id)
            .fetch_all(&state.db)
            .await?
        }
        None => {
            let (clause, org) = org_clause(&actor, "org_id", 1);
            let sql = format!("{SELECT_CLIENTS} WHERE 1 = 1{clause} ORDER BY created_at, id");
            bind_org(sqlx::query_as(&sql), org)
                .fetch_all(&state.db)
                .await?
        }
    };
    Ok(axum::Json(
        rows.into_iter().map(ClientSummary::from).collect(),
    ))
}
