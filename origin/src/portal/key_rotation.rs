//! Rotating a key from the portal: the admin key lifecycle's `rotate_key` (one identity,
//! the old key keeps working for the chosen overlap, audited as the developer), then the
//! new key shown once, like a freshly created one.

use super::accounts::page;
use super::catalog::{actor_for, published_api};
use super::keys::KeyCreatedPage;
use super::pages::{render, PortalError};
use super::session;
use super::versions::key_snippets;
use super::PortalSettings;
use crate::admin::key_lifecycle::rotate_key as rotate;
use crate::clock::{format_rfc3339, now_ms};
use crate::extract::Path as AdminPath;
use crate::routes::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use std::collections::HashMap;
use std::sync::Arc;

/// Overlaps the portal offers, in hours (the admin API accepts 0–720).
pub const OVERLAPS: [i64; 5] = [0, 1, 24, 72, 168];

/// The overlap a form asked for, when it is one the portal offers.
pub fn overlap_hours(field: Option<&String>) -> Result<i64, PortalError> {
    field
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|h| OVERLAPS.contains(h))
        .ok_or_else(|| {
            PortalError::BadRequest(
                "Choose how long the old key keeps working: 0, 1, 24, 72 or 168 hours.".into(),
            )
        })
}

/// `POST /portal/keys/{id}/rotate`: a successor to one of the developer's keys.
pub async fn rotate_key(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let session = session::for_post(&state.db, &headers, &form).await?;
    let user = session.user()?;
    let hours = overlap_hours(form.get("overlap_hours"))?;
    let owned: Option<(String,)> =
        sqlx::query_as("SELECT api_id FROM keys WHERE id = $1 AND consumer_id = $2")
            .bind(&id)
            .bind(&user.consumer_id)
            .fetch_optional(&state.db)
            .await?;
    let (api_id,) = owned.ok_or(PortalError::NotFound("key"))?;
    let body = Bytes::from(serde_json::json!({ "overlap_hours": hours }).to_string());
    let (_, axum::Json(issued)) = rotate(
        State(state.clone()),
        Extension(actor_for(user)),
        AdminPath(id),
        body,
    )
    .await?;
    let notice = if hours == 0 {
        "The old key is revoked.".to_owned()
    } else {
        format!(
            "The old key keeps working until {} (UTC); move your clients to this one before then.",
            format_rfc3339(now_ms() + hours * 3_600_000)
        )
    };
    let api = published_api(&state.db, &api_id).await?;
    let operations = key_snippets(&state.db, &api, &settings.edge_url, &issued.key).await?;
    let html = render(&KeyCreatedPage {
        chrome: session.chrome(),
        api,
        operations,
        key: issued.key.clone(),
        notice: Some(notice),
        edge_url: settings.edge_url.clone(),
        try_key: issued.key,
        try_path: "/".into(),
    })?;
    Ok(page(StatusCode::CREATED, None, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_offered_overlaps_are_accepted() {
        assert_eq!(overlap_hours(Some(&"24".to_owned())).unwrap(), 24);
        assert_eq!(overlap_hours(Some(&" 0 ".to_owned())).unwrap(), 0);
        for bad in ["", "-1", "721", "2", "24h", "1e3", "99999999999999999999"] {
            assert!(overlap_hours(Some(&bad.to_owned())).is_err(), "{bad}");
        }
        assert!(overlap_hours(None).is_err());
    }
}
