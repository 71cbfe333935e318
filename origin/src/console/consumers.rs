//! Consumers and their keys: list and create consumers, one consumer's keys (prefix and
//! status, never the key), issue a key (shown once, in the answer) and revoke one, through
//! the admin API's `create_consumer`, `create_key` and `revoke_key` (same checks, audit
//! and edge behaviour).

use super::apis::refused;
use super::operator::Operator;
use super::pages::{field, optional, render, see_other, Chrome, ConsoleError};
use crate::admin::apis::{list_apis, Api};
use crate::admin::consumers::{
    create_consumer, get_consumer, list_consumers, Consumer, CreateConsumer,
};
use crate::admin::fields::Table;
use crate::admin::key_views::{list_keys, KeyFilter, KeySummary};
use crate::admin::keys::{create_key, revoke_key, CreateKey};
use crate::admin::plans::{list_plans, Plan};
use crate::extract::{Json, Path as AdminPath, Query};
use crate::routes::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use std::collections::HashMap;
use tollgate_core::rbac::Permission;

type Fields = Form<HashMap<String, String>>;

#[derive(Template)]
#[template(path = "console/consumers.html")]
struct ConsumersPage {
    chrome: Chrome,
    consumers: Vec<Consumer>,
    can_write: bool,
    error: Option<String>,
    form: HashMap<String, String>,
}

async fn consumers_page(
    state: &AppState,
    op: &Operator,
    status: StatusCode,
    error: Option<String>,
    form: HashMap<String, String>,
) -> Result<Response, ConsoleError> {
    let axum::Json(consumers) =
        list_consumers(State(state.clone()), Extension(op.actor.clone())).await?;
    render(
        status,
        &ConsumersPage {
            chrome: op.chrome(),
            consumers,
            can_write: op.may(Permission::ConsumersWrite),
            error,
            form,
        },
    )
}

/// `GET /console/consumers`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_page(&state.db, &headers, Permission::ConsumersRead).await?;
    consumers_page(&state, &op, StatusCode::OK, None, HashMap::new()).await
}

/// `POST /console/consumers`: a new consumer (name, email); on to its page, or the form
/// again with the reason.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_post(&state.db, &headers, &form, Permission::ConsumersWrite).await?;
    let body = CreateConsumer {
        name: field(&form, "name").to_owned(),
        email: field(&form, "email").trim().to_owned(),
        team_id: None,
    };
    match create_consumer(
        State(state.clone()),
        Extension(op.actor.clone()),
        Json(body),
    )
    .await
    {
        Ok((_, axum::Json(c))) => Ok(see_other(&format!("/console/consumers/{}", c.id), None)),
        Err(e) => {
            let (status, detail) = refused(e)?;
            consumers_page(&state, &op, status, Some(detail), form).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/consumer.html")]
struct ConsumerPage {
    chrome: Chrome,
    consumer: Consumer,
    keys: Vec<KeySummary>,
    apis: Vec<Api>,
    plans: Vec<Plan>,
    can_write: bool,
    error: Option<String>,
    /// A key just issued: shown this once.
    issued: Option<(String, String)>,
}

async fn consumer_page(
    state: &AppState,
    op: &Operator,
    id: &str,
    status: StatusCode,
    error: Option<String>,
    issued: Option<(String, String)>,
) -> Result<Response, ConsoleError> {
    let actor = || Extension(op.actor.clone());
    let axum::Json(consumer) = get_consumer(State(state.clone()), AdminPath(id.to_owned())).await?;
    let filter = KeyFilter {
        consumer_id: Some(id.to_owned()),
    };
    let axum::Json(keys) = list_keys(State(state.clone()), actor(), Query(filter)).await?;
    let can_write = op.may(Permission::KeysWrite);
    let (apis, plans) = if can_write {
        let axum::Json(apis) = list_apis(State(state.clone()), actor()).await?;
        let axum::Json(plans) = list_plans(State(state.clone()), actor()).await?;
        (apis, plans)
    } else {
        (Vec::new(), Vec::new())
    };
    render(
        status,
        &ConsumerPage {
            chrome: op.chrome(),
            consumer,
            keys,
            apis,
            plans,
            can_write,
            error,
            issued,
        },
    )
}

/// `GET /console/consumers/{id}`: the consumer's keys.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_page(&state.db, &headers, Permission::KeysRead).await?;
    op.owns(&state.db, Table::Consumers, &id).await?;
    consumer_page(&state, &op, &id, StatusCode::OK, None, None).await
}

/// `POST /console/consumers/{id}/keys`: issues a key for an API (and plan).
pub async fn issue(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_post(&state.db, &headers, &form, Permission::KeysWrite).await?;
    op.owns(&state.db, Table::Consumers, &id).await?;
    let body = CreateKey {
        subscription_id: None,
        consumer_id: Some(id.clone()),
        api_id: Some(field(&form, "api_id").trim().to_owned()),
        plan_id: optional(&form, "plan_id"),
        expires_at: None,
        scopes: Vec::new(),
    };
    match create_key(
        State(state.clone()),
        Extension(op.actor.clone()),
        Json(body),
    )
    .await
    {
        Ok((_, axum::Json(key))) => {
            let issued = Some((key.prefix.clone(), key.key.clone()));
            consumer_page(&state, &op, &id, StatusCode::CREATED, None, issued).await
        }
        Err(e) => {
            let (status, detail) = refused(e)?;
            consumer_page(&state, &op, &id, status, Some(detail), None).await
        }
    }
}

/// `POST /console/keys/{id}/revoke`: revokes a key; back to its consumer.
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_post(&state.db, &headers, &form, Permission::KeysWrite).await?;
    op.owns(&state.db, Table::Keys, &id).await?;
    let (consumer_id,): (String,) = sqlx::query_as("SELECT consumer_id FROM keys WHERE id = $1")
        .bind(&id)
        .fetch_one(&state.db)
        .await?;
    revoke_key(
        State(state.clone()),
        Extension(op.actor.clone()),
        AdminPath(id),
    )
    .await?;
    Ok(see_other(
        &format!("/console/consumers/{consumer_id}"),
        None,
    ))
}
