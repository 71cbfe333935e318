//! APIs and their versions: list and create APIs, upload an OpenAPI document as a new
//! draft version, publish it, deprecate the old one with a sunset date, retire a
//! deprecated one. Every change goes through the admin API's own handlers (`create_api`,
//! `create_version`, `publish_version`, `deprecate_version`, `retire_version`), so validation, the audit entry and the config
//! version bump are exactly the admin API's; a rejected form is shown again with the
//! reason.

use super::operator::Operator;
use super::pages::{field, optional, render, see_other, Chrome, ConsoleError};
use crate::admin::apis::{create_api, get_api, list_apis, Api, CreateApi};
use crate::admin::fields::Table;
use crate::admin::spec_upload::UploadQuery;
use crate::admin::version_lifecycle::{
    deprecate_version, publish_version, retire_version, DeprecateVersion,
};
use crate::admin::version_store::ApiVersion;
use crate::admin::versions::{create_version, list_api_versions};
use crate::error::AppError;
use crate::extract::{Json, Path as AdminPath, Query};
use crate::routes::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use std::collections::HashMap;
use tollgate_core::rbac::Permission;

type Fields = Form<HashMap<String, String>>;

/// A form the admin logic refused: the status and reason to show, or the error itself
/// when it is not the operator's to fix.
pub fn refused(e: AppError) -> Result<(StatusCode, String), ConsoleError> {
    let problem = e.problem();
    match StatusCode::from_u16(problem.status) {
        Ok(status) if status.is_client_error() => Ok((status, problem.detail)),
        _ => Err(ConsoleError::App(e)),
    }
}

#[derive(Template)]
#[template(path = "console/apis.html")]
struct ApisPage {
    chrome: Chrome,
    apis: Vec<Api>,
    can_write: bool,
    error: Option<String>,
    form: HashMap<String, String>,
}

async fn apis_page(
    state: &AppState,
    op: &Operator,
    status: StatusCode,
    error: Option<String>,
    form: HashMap<String, String>,
) -> Result<Response, ConsoleError> {
    let axum::Json(apis) = list_apis(State(state.clone()), Extension(op.actor.clone())).await?;
    render(
        status,
        &ApisPage {
            chrome: op.chrome(),
            apis,
            can_write: op.may(Permission::CatalogWrite),
            error,
            form,
        },
    )
}

/// `GET /console/apis`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_page(&state.db, &headers, Permission::CatalogRead).await?;
    apis_page(&state, &op, StatusCode::OK, None, HashMap::new()).await
}

/// `POST /console/apis`: a new API (no versions yet).
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_post(&state.db, &headers, &form, Permission::CatalogWrite).await?;
    let body = CreateApi {
        name: field(&form, "name").to_owned(),
        base_path: field(&form, "base_path").trim().to_owned(),
        upstream_url: field(&form, "upstream_url").trim().to_owned(),
        auth: None,
    };
    match create_api(
        State(state.clone()),
        Extension(op.actor.clone()),
        Json(body),
    )
    .await
    {
        Ok((_, axum::Json(api))) => Ok(see_other(&format!("/console/apis/{}", api.id), None)),
        Err(e) => {
            let (status, detail) = refused(e)?;
            apis_page(&state, &op, status, Some(detail), form).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/api.html")]
struct ApiPage {
    chrome: Chrome,
    api: Api,
    versions: Vec<ApiVersion>,
    can_write: bool,
    error: Option<String>,
    form: HashMap<String, String>,
}

async fn api_page(
    state: &AppState,
    op: &Operator,
    id: &str,
    status: StatusCode,
    error: Option<String>,
    form: HashMap<String, String>,
) -> Result<Response, ConsoleError> {
    let axum::Json(api) = get_api(State(state.clone()), AdminPath(id.to_owned())).await?;
    let axum::Json(versions) =
        list_api_versions(State(state.clone()), AdminPath(id.to_owned())).await?;
    render(
        status,
        &ApiPage {
            chrome: op.chrome(),
            api,
            versions,
            can_write: op.may(Permission::CatalogWrite),
            error,
            form,
        },
    )
}

/// `GET /console/apis/{id}`: the API, its versions and their lifecycle forms.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_page(&state.db, &headers, Permission::CatalogRead).await?;
    op.owns(&state.db, Table::Apis, &id).await?;
    api_page(&state, &op, &id, StatusCode::OK, None, HashMap::new()).await
}

/// The media type of pasted document text: JSON when it looks like an object.
fn media_type_of(text: &str) -> &'static str {
    if text.trim_start().starts_with('{') {
        "application/json"
    } else {
        "application/yaml"
    }
}

/// After one admin step on an API's form: back to the API page (303) on success, the
/// page again with the reason on refusal.
async fn after_step(
    state: &AppState,
    op: &Operator,
    id: &str,
    outcome: Result<String, AppError>,
    form: HashMap<String, String>,
) -> Result<Response, ConsoleError> {
    match outcome {
        Ok(version) => Ok(see_other(&format!("/console/apis/{id}#v-{version}"), None)),
        Err(e) => {
            let (status, detail) = refused(e)?;
            api_page(state, op, id, status, Some(detail), form).await
        }
    }
}

/// `POST /console/apis/{id}/versions`: the pasted OpenAPI document becomes a draft.
pub async fn upload(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_post(&state.db, &headers, &form, Permission::CatalogWrite).await?;
    op.owns(&state.db, Table::Apis, &id).await?;
    let spec = field(&form, "spec").to_owned();
    let mut upload_headers = HeaderMap::new();
    upload_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type_of(&spec)),
    );
    let query = UploadQuery {
        version: optional(&form, "version"),
        upstream_url: optional(&form, "upstream_url"),
    };
    let outcome = create_version(
        State(state.clone()),
        Extension(op.actor.clone()),
        AdminPath(id.clone()),
        Query(query),
        upload_headers,
        Request::new(Body::from(spec)),
    )
    .await
    .map(|(_, axum::Json(v))| v.version);
    after_step(&state, &op, &id, outcome, form).await
}

/// `POST /console/apis/{id}/versions/{version}/publish`.
pub async fn publish(
    state: State<AppState>,
    path: Path<(String, String)>,
    headers: HeaderMap,
    form: Fields,
) -> Result<Response, ConsoleError> {
    version_step(state, path, headers, form, |s, a, p| {
        publish_version(s, a, p)
    })
    .await
}

/// `POST /console/apis/{id}/versions/{version}/retire`: deprecated → retired (the edge
/// answers 410); a step the status does not allow is the admin API's 409, shown.
pub async fn retire(
    state: State<AppState>,
    path: Path<(String, String)>,
    headers: HeaderMap,
    form: Fields,
) -> Result<Response, ConsoleError> {
    version_step(state, path, headers, form, |s, a, p| {
        retire_version(s, a, p)
    })
    .await
}

/// A life-cycle step without a body (publish, retire) through the admin handler `step`.
async fn version_step<F, Fut>(
    State(state): State<AppState>,
    Path((id, version)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Fields,
    step: F,
) -> Result<Response, ConsoleError>
where
    F: FnOnce(
        State<AppState>,
        Extension<crate::tenancy::Actor>,
        AdminPath<(String, String)>,
    ) -> Fut,
    Fut: std::future::Future<Output = Result<axum::Json<ApiVersion>, AppError>>,
{
    let op = Operator::for_post(&state.db, &headers, &form, Permission::CatalogWrite).await?;
    op.owns(&state.db, Table::Apis, &id).await?;
    let outcome = step(
        State(state.clone()),
        Extension(op.actor.clone()),
        AdminPath((id.clone(), version)),
    )
    .await
    .map(|axum::Json(v)| v.version);
    after_step(&state, &op, &id, outcome, HashMap::new()).await
}

/// `POST /console/apis/{id}/versions/{version}/deprecate`: with a sunset date and a
/// migration link or note.
pub async fn deprecate(
    State(state): State<AppState>,
    Path((id, version)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Result<Response, ConsoleError> {
    let op = Operator::for_post(&state.db, &headers, &form, Permission::CatalogWrite).await?;
    op.owns(&state.db, Table::Apis, &id).await?;
    let body = DeprecateVersion {
        sunset: field(&form, "sunset").trim().to_owned(),
        migration_url: optional(&form, "migration_url"),
        migration_note: optional(&form, "migration_note"),
    };
    let outcome = deprecate_version(
        State(state.clone()),
        Extension(op.actor.clone()),
        AdminPath((id.clone(), version)),
        Json(body),
    )
    .await
    .map(|axum::Json(v)| v.version);
    after_step(&state, &op, &id, outcome, form).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_json_objects_are_json_and_everything_else_is_yaml() {
        assert_eq!(
            media_type_of("  {\"openapi\": \"3.1.0\"}"),
            "application/json"
        );
        assert_eq!(media_type_of("openapi: 3.1.0\n"), "application/yaml");
        assert_eq!(media_type_of(""), "application/yaml");
    }
}
