//! Which organisation a console session acts for: the choices (the user's memberships, and
//! the whole platform for a platform operator, who may also act for any organisation as
//! its owner, like the admin token with `X-Tollgate-Org`) and `POST /console/org`, which
//! swaps the session for one acting for the chosen organisation.

use super::pages::{field, see_other, ConsoleError};
use super::session;
use super::ConsoleSettings;
use crate::db::Db;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Extension, Form};
use std::collections::HashMap;
use std::sync::Arc;

/// Whether `user_id` is a platform operator.
pub async fn is_platform_operator(db: &Db, user_id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM platform_operators WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    Ok(row.is_some())
}

/// What the user may act for, as (organisation id, label); `""` is the whole platform.
pub async fn choices(db: &Db, user_id: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut out = Vec::new();
    if is_platform_operator(db, user_id).await? {
        out.push((String::new(), "the whole platform".to_owned()));
        let orgs: Vec<(String, String)> =
            sqlx::query_as("SELECT id, name FROM organisations ORDER BY name, id")
                .fetch_all(db)
                .await?;
        out.extend(
            orgs.into_iter()
                .map(|(id, name)| (id, format!("{name} (owner)"))),
        );
    } else {
        let orgs: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT o.id, o.name, m.role FROM memberships m JOIN organisations o ON o.id = m.org_id \
             WHERE m.user_id = $1 ORDER BY o.name, o.id",
        )
        .bind(user_id)
        .fetch_all(db)
        .await?;
        out.extend(
            orgs.into_iter()
                .map(|(id, name, role)| (id, format!("{name} ({role})"))),
        );
    }
    Ok(out)
}

/// `POST /console/org`: act for `org_id` (empty: the platform) from now on.
pub async fn switch(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<ConsoleSettings>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let old = session::for_post(&state.db, &headers, &form).await?;
    let user_id = old.user_id.clone().ok_or(ConsoleError::LoginRequired)?;
    let wanted = field(&form, "org_id").trim();
    let allowed = choices(&state.db, &user_id)
        .await?
        .into_iter()
        .any(|(id, _)| id == wanted);
    if !allowed {
        return Err(ConsoleError::NotFound("organisation"));
    }
    let org = Some(wanted.to_owned()).filter(|o| !o.is_empty());
    session::end(&state.db, &old).await?;
    let (_, cookie) =
        session::start(&state.db, settings.secure_cookies, Some(user_id), org).await?;
    Ok(see_other("/console", Some(cookie)))
}
