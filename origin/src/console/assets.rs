//! The console's stylesheet, embedded in the binary (the portal's CSS plus the console's
//! own rules for tables, forms and charts). No script: the console needs none.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const PORTAL_CSS: &str = include_str!("../../../portal/static/portal.css");
const CONSOLE_CSS: &str = include_str!("../../../portal/static/console.css");

/// `GET /console/static/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    let body = match file.as_str() {
        "portal.css" => PORTAL_CSS,
        "console.css" => CONSOLE_CSS,
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
