//! The portal's static assets, embedded in the binary so a deployment is one file: our own
//! CSS and scripts, and third-party ones from npm (uPlot, Swagger UI), pinned in
//! package-lock.json and taken from node_modules at build time (origin/build.rs says to run
//! `npm ci` when they are missing). Nothing is loaded from a CDN.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

macro_rules! npm {
    ($file:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../node_modules/",
            $file
        ))
    };
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Every asset: name under /portal/static/, body, content type, whether it is a pinned
/// third-party file (cached for a day) or ours (five minutes).
const ASSETS: [(&str, &[u8], &str, bool); 8] = [
    (
        "portal.css",
        include_bytes!("../../../portal/static/portal.css"),
        CSS,
        false,
    ),
    (
        "portal.js",
        include_bytes!("../../../portal/static/portal.js"),
        JS,
        false,
    ),
    (
        "usage.js",
        include_bytes!("../../../portal/static/usage.js"),
        JS,
        false,
    ),
    (
        "reference.js",
        include_bytes!("../../../portal/static/reference.js"),
        JS,
        false,
    ),
    ("uplot.js", npm!("uplot/dist/uPlot.iife.min.js"), JS, true),
    ("uplot.css", npm!("uplot/dist/uPlot.min.css"), CSS, true),
    (
        "swagger-ui.js",
        npm!("swagger-ui-dist/swagger-ui-bundle.js"),
        JS,
        true,
    ),
    (
        "swagger-ui.css",
        npm!("swagger-ui-dist/swagger-ui.css"),
        CSS,
        true,
    ),
];

/// `GET /portal/static/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, body, kind, vendored)) = ASSETS.iter().find(|(name, ..)| *name == file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let cache = if *vendored {
        "public, max-age=86400"
    } else {
        "public, max-age=300"
    };
    (
        [
            (header::CONTENT_TYPE, *kind),
            (header::CACHE_CONTROL, cache),
        ],
        *body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_assets_are_the_real_files() {
        for (name, body, ..) in ASSETS {
            assert!(body.len() > 100, "{name} is empty");
        }
        let uplot = ASSETS.iter().find(|a| a.0 == "uplot.js").unwrap().1;
        assert!(String::from_utf8_lossy(uplot).contains("uPlot"));
    }
}
